"""Backfilling the Nexus metrics' history from the forge: the current sprint and the previous ones,
read window by window (one window per sprint; the running sprint up to now), so that the metrics have a past on the day the bot
is installed.

Bounded: the forge's search gives 100 items a call (GitHub: 1,000 per query, a busier window is
halved), plus, for each repository that merged pull requests, its deployments to the integration
environment. Resumable: each finished window of an ended sprint is remembered in the store, so a backfill
that crashed, or runs again, reads only what it has not read (and the running sprint). Idempotent: a record is a snapshot whose newer
``updated_at`` wins, so webhooks that arrive meanwhile are never overwritten by older reads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from ..checks.sprints import calendar
from ..config import Config
from ..forges.base import Forge
from .history import record_item, record_evidence
from .ports import Services

log = logging.getLogger("nexus.backfill")

Progress = Callable[[int, int, int], None]  # (windows done, windows in all, items read so far)


@dataclass
class BackfillReport:
    windows: int = 0  # windows read now (not those a previous run finished)
    skipped: int = 0  # windows a previous run had finished
    items: int = 0
    pull_requests: int = 0
    evidence: int = 0
    repositories: set[str] = field(default_factory=set)


DEFAULT_SPRINTS = 6  # previous sprints a backfill reads, besides the current one


def sprint_windows(config: Config, previous: int = DEFAULT_SPRINTS,
                   now: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """One window per sprint, the current one and ``previous`` before it, oldest first. Before the
    first sprint: as many sprint lengths back from now."""
    now = now or datetime.now(timezone.utc)
    cal = calendar(config.nexus.sprint)
    number = cal.number(now)
    if number is None:
        length = timedelta(days=config.nexus.sprint.length_days)
        return [(now - length * (i + 1), now - length * i) for i in reversed(range(previous + 1))]
    return [(s.start, s.end) for s in cal.before(number, previous + 1)]


def _key(where: str, owner: str) -> str:
    return f"backfill:{where}:{owner.lower()}"


def _done_key(where: str, owner: str) -> str:
    return f"backfilled:{where}:{owner.lower()}"


async def backfilled(services: Services, where: str, owner: str) -> bool:
    return bool(await services.memory.recall(_done_key(where, owner)))


async def announce(services: Services, where: str, owner: str) -> None:
    """A backfill of ``owner`` is about to start: reports wait for it (windows already read are kept)."""
    if await services.memory.recall(_key(where, owner)) is None:
        await services.memory.remember(_key(where, owner), json.dumps({"done": []}))


async def history_settled(services: Services, where: str, owner: str) -> bool:
    """No backfill of ``owner`` is under way: none ever started, or the last one finished."""
    return await services.memory.recall(_key(where, owner)) is None or bool(
        await services.memory.recall(_done_key(where, owner)))


async def forget_progress(services: Services, where: str, owner: str) -> None:
    """Read every window again at the next backfill (``nexus-bot backfill --again``)."""
    await services.memory.remember(_key(where, owner), json.dumps({"done": []}))


async def finished_windows(services: Services, where: str, owner: str) -> set[str]:
    text = await services.memory.recall(_key(where, owner))
    return set(json.loads(text)["done"]) if text else set()


async def backfill(services: Services, forge: Forge, where: str, owner: str, config: Config,
                   windows: list[tuple[datetime, datetime]], environment: str,
                   progress: Progress | None = None) -> BackfillReport:
    """Read every issue and pull request of ``owner`` updated in ``windows`` (oldest first) into the
    history, then the deployments to ``environment`` of the repositories that merged pull requests."""
    report = BackfillReport()
    done = await finished_windows(services, where, owner)
    await services.memory.remember(_key(where, owner), json.dumps({"done": sorted(done)}))  # under way
    merged: dict[str, datetime] = {}  # repository -> its earliest merge read
    for i, (start, end) in enumerate(windows):
        name = f"{start.isoformat()}/{end.isoformat()}"
        now = datetime.now(timezone.utc)
        if name in done:
            report.skipped += 1
        else:
            for issue in await forge.items_updated(owner, start, min(end, now)):
                await record_item(services, where, issue, config)
                report.items += 1
                report.repositories.add(issue.repo)
                if issue.is_pull_request:
                    report.pull_requests += 1
                    if issue.merged_at is not None:
                        merged[issue.repo] = min(merged.get(issue.repo, issue.merged_at), issue.merged_at)
            if end <= now:  # a sprint still running is read again next time: it is not over
                done.add(name)
                await services.memory.remember(_key(where, owner), json.dumps({"done": sorted(done)}))
            report.windows += 1
        if progress is not None:
            progress(i + 1, len(windows), report.items)
    known: dict[str, datetime] = {}  # repository -> its latest deployment kept: older ones are not asked again
    if services.history is not None and windows:  # every merge of the period, those of earlier runs included
        items, evidence = await services.history.load(where, owner)
        for r in items:
            if r.merged_at is not None and r.merged_at >= windows[0][0]:
                merged[r.ref.repo] = min(merged.get(r.ref.repo, r.merged_at), r.merged_at)
        for e in evidence:
            if e.environment == environment:
                known[e.repo] = max(known.get(e.repo, e.at), e.at)
    for repo, since in sorted(merged.items()):
        since = max(since, known.get(repo, since))
        for sha, at in await forge.deployments(repo, environment, since):
            await record_evidence(services, where, repo, sha, "deployment", environment=environment, at=at)
            report.evidence += 1
    await services.memory.remember(_done_key(where, owner), json.dumps({"items": report.items, "windows": len(windows)}))
    log.info("backfill of %s: %d windows read (%d already done), %d items, %d pull requests, %d deployments",
             owner, report.windows, report.skipped, report.items, report.pull_requests, report.evidence)
    return report


BACKFILL_LEASE = 3600.0  # seconds one process may hold an owner's first backfill before another may take it over


async def ensure_backfilled(services: Services, forge: Forge, where: str, owner: str, config: Config,
                            windows: list[tuple[datetime, datetime]], environment: str,
                            holder: str) -> BackfillReport | None:
    """The first time the bot works for ``owner``: backfill once (one process at a time, under a
    lease in the store); None when it was done before or another process is doing it."""
    key = _done_key(where, owner)
    if await services.memory.recall(key):
        return None
    if not await services.memory.lock(f"lock:{key}", holder, BACKFILL_LEASE):
        return None
    return await backfill(services, forge, where, owner, config, windows, environment)
