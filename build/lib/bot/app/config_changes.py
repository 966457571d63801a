"""A push that changes a config file takes effect at once: the cached organisation config (when the
push is to the owner's config repository) and the repository's own config and CODEOWNERS are
dropped and read again, instead of waiting for their cache to expire."""

from __future__ import annotations

import logging

from ..forges.base import Forge
from ..model import Event
from .ports import Services

log = logging.getLogger("nexus.config")


def _touches(event: Event, paths: set[str]) -> bool:
    changed = event.extra.get("paths")
    return changed is None or any(path in paths for path in changed)  # None: the forge could not say


async def on_push(services: Services, forge: Forge, where: str, events: list[Event]) -> str:
    """Forget what the pushes to a default branch changed; re-read the organisation config now."""
    done = []
    for event in events:
        branch = event.extra.get("default_branch")
        if branch and event.extra.get("ref") != f"refs/heads/{branch}":
            continue  # only the default branch holds the config in force (unknown: assume it may)
        orgs = services.reads.orgs
        org_file = orgs.is_config_repo(where, event.repo)
        files = set(forge.config_paths) | set(forge.codeowners_paths)
        if org_file:
            files.add(orgs.location(where).path)
        if not _touches(event, files):
            continue
        services.reads.forget(where, event.repo)
        if org_file:
            org = await services.reads.org_for(forge, where, event.repo)
            state = f"broken, {'the last good version applies' if org.config else 'no good version'}: {org.error}" \
                if org.error else f"in force from {org.source[0]}"
            log.info("organisation config of %s re-read after a push: %s", event.repo.split("/")[0], state)
            done.append(f"organisation config {state}")
        else:
            done.append("config files read again")
    return "; ".join(done) or "push changes no config"
