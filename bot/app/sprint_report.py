"""The end-of-sprint report (``nexus.report_issue``, default off): when a sprint has ended, the bot
opens one issue "Nexus sprint N" in the organisation's config repository with that sprint's
metrics, as ``/nexus metrics sprint N`` gives them; if the issue exists (a second replica, a
restart) it is updated in place. Checked at the organisation's events, so a quiet organisation gets
its report at its next event after the sprint's end."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone

from ..checks.nexus_metrics import nexus_metrics
from ..checks.sprints import calendar
from ..commands.metrics import render_metrics
from ..config import Config
from ..forges.base import Forge
from ..history import NexusHistory
from .backfill import history_settled
from .ports import Services

log = logging.getLogger("nexus.sprint_report")


async def report_ended_sprint(services: Services, forge: Forge, where: str, owner: str, config: Config,
                              now: datetime | None = None) -> str | None:
    """Open (or update) the report of the sprint that ended last; the outcome, None when there was
    nothing to do."""
    if not config.nexus.report_issue or services.history is None:
        return None
    now = now or datetime.now(timezone.utc)
    number = calendar(config.nexus.sprint).number(now)
    if number is None or number < 2:
        return None
    ended = number - 1
    if not await history_settled(services, where, owner):
        return None  # a backfill is reading the sprint: the report waits for it
    key = f"sprint-report:{where}:{owner.lower()}:{ended}"
    if await services.memory.recall(key) or not await services.memory.lock(f"lock:{key}", uuid.uuid4().hex, 300):
        return None
    items, evidence = await services.history.load(where, owner)
    metrics = nexus_metrics(NexusHistory(as_of=now, items=tuple(items), evidence=tuple(evidence)), config, ended)
    repo = f"{owner}/{services.reads.orgs.location(where).repo}"
    title = f"Nexus sprint {ended}"
    number_written = await forge.upsert_issue(repo, title, render_metrics(metrics, config, repo))
    await services.memory.remember(key, json.dumps({"issue": number_written}))
    log.info("sprint %s of %s reported in %s#%s", ended, owner, repo, number_written)
    return f"sprint {ended} reported in {repo}#{number_written}"
