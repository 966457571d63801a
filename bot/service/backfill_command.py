"""``nexus-bot backfill OWNER``: the Nexus metrics' history read from the forge, with a progress bar,
into the store the running bot uses (SQLite or Redis)."""

from __future__ import annotations

import logging
import sys

from tqdm import tqdm

from ..app.backfill import DEFAULT_SPRINTS, backfill, forget_progress, sprint_windows
from ..app.cached_reads import CachedReads
from ..app.org_config import Location
from ..app.ports import Services
from ..config import ConfigError
from ..forges.base import ForgeError
from ..forges.registry import NotConfigured
from .history_store import StoreHistory
from .recheck import Rechecks
from .server import forges_of, open_store, org_config_source
from .settings import Settings


async def run_backfill(settings: Settings, owner: str, sprints: int | None, instance: str | None,
                       again: bool = False) -> int:
    logging.basicConfig(level=logging.ERROR)  # retries are not news here; the outcome is
    store = open_store(settings, "backfill")
    forges = forges_of(settings)
    try:
        forge = await forges.for_owner(owner, instance)
        where = instance or forge.name
        reads = CachedReads(org_config_source(settings), memory=store,
                            org_location=Location(settings.org_config_repo, settings.org_config_path),
                            org_locations={i.name: Location(i.org_config_repo, i.org_config_path)
                                           for i in settings.forgejo})
        services = Services(memory=store, rechecks=Rechecks(store), reads=reads, history=StoreHistory(store))
        config = await reads.org_rules(forge, where, f"{owner}/.github")
        previous = sprints if sprints is not None else (settings.backfill_sprints or DEFAULT_SPRINTS)
        windows = sprint_windows(config, previous)
        if again:
            await forget_progress(services, where, owner)
        with tqdm(total=len(windows), unit="sprint", desc=f"backfill {owner}", file=sys.stderr) as bar:
            def progress(done: int, total: int, items: int) -> None:
                bar.set_postfix(items=items)
                bar.update(done - bar.n)

            report = await backfill(services, forge, where, owner, config, windows,
                                    config.nexus.integration.environment, progress)
    except (NotConfigured, ForgeError, ConfigError) as exc:
        print(f"nexus-bot: backfill of {owner}: {exc}", file=sys.stderr)
        return 1
    finally:
        await forges.aclose()
        await store.close()
    print(f"{owner}: {report.items} items and pull requests ({report.pull_requests} pull requests) from "
          f"{report.windows} sprints read now ({report.skipped} read before), {report.evidence} deployments, "
          f"{len(report.repositories)} repositories")
    return 0
