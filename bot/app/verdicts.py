"""Keeping each open pull request's latest verdict for the board (``bot/pull_record.py``): after
every published DoD evaluation, and a closed record when the pull request is closed or merged, so
that it leaves the board's open set. Idempotent and newest wins, on the bot's clock: a verdict is
stamped with the time its evaluation started, a closing with the time it is processed (or the
forge's time of closing, when later), so an evaluation that read the pull request before it was
closed never brings it back (evaluations of one pull request run one at a time, and the forge's
times have whole seconds only); a reopened one comes back with its next evaluation. The config's
files are read from the caches the evaluation has just filled: no forge call."""

from __future__ import annotations

from datetime import datetime, timezone

from ..forges.base import Forge
from ..pull_record import closed_record, pull_key, pull_record, to_json
from .dod import Assessment
from .ports import Services


async def keep_verdict(services: Services, forge: Forge, where: str, a: Assessment, started: datetime) -> None:
    if services.board is None:
        return
    pr = a.pr
    org = await services.reads.org_for(forge, where, pr.repo)
    repo_file = await services.reads.repo_file(forge, where, pr.repo, pr.base_ref) if a.config is not None else None
    record = pull_record(where, pr, a.verdict, a.config, a.facts, org=org.config, org_file=org.source[0],
                         repo_file=repo_file[0] if repo_file else None, evaluated_at=started)
    at = started.timestamp()
    await services.board.keep_pull(pull_key(where, pr.repo, pr.number), at, to_json(record))
    await services.board.keep_org_config(where, pr.owner, at, org.source)


async def forget_pull(services: Services, where: str, repo: str, number: int, closed_at: datetime | None) -> None:
    if services.board is None:
        return
    now = datetime.now(timezone.utc)
    at = closed_at or now
    await services.board.keep_pull(pull_key(where, repo, number), max(at, now).timestamp(),
                                   to_json(closed_record(where, repo, number, at)))
