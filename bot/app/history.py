"""Keeping the Nexus metrics' history as events arrive: each backlog item and pull request the bot
sees is recorded as a snapshot (``bot/history.py``), and integration evidence (a deployment to the
integration environment, a check or status named like DoD item 17's) as it succeeds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from ..checks.deps import ItemInfo, owner_teams
from ..checks.issue_body import read_body
from ..checks.linked_ready import closed_items
from ..checks.issue_body import Body
from ..checks.ready import ReadyVerdict, evaluate_ready, ready_labels
from ..checks.team_points import team_points
from ..config import Config
from ..history import IntegrationEvidence, ItemRecord
from ..model import Issue, ItemRef, carried_labels, has_label, missing_labels
from .ports import Services


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ref(text: str, forge: str) -> ItemRef:
    repo, number = text.rsplit("#", 1)
    return ItemRef(forge, repo, int(number))


async def record_item(services: Services, where: str, issue: Issue, config: Config, base: str = "",
                      verdict: ReadyVerdict | None = None, body: Body | None = None) -> None:
    """Keep the item's (or pull request's) latest state: points and their split per team, its
    dependencies, since when it is blocked, and for a pull request its merge and the items it closes."""
    if services.history is None:
        return
    owner = issue.repo.split("/", 1)[0]
    ref = ItemRef(issue.forge, issue.repo, issue.number)
    previous = await services.history.item(where, owner, ref)
    body = body or read_body(issue.body)
    blocked = has_label(issue.labels, config.labels.blocked)
    since = (previous.blocked_since if previous and previous.blocked_since else issue.updated_at or _now()) if blocked else None
    record = ItemRecord(
        ref=ref, is_pull_request=issue.is_pull_request, title=issue.title,
        opened_at=issue.created_at or _now(), updated_at=issue.updated_at or _now(), labels=frozenset(issue.labels),
        closed_at=issue.closed_at if issue.state == "closed" else None, completed=issue.completed,
        blocked_since=since, merged_at=issue.merged_at, base=base or (previous.base if previous else ""),
        teams=owner_teams(ItemInfo(ref=ref, title=issue.title, labels=frozenset(issue.labels)), config),
    )
    if issue.is_pull_request:
        record = _pull_request(record, issue)
    else:
        verdict = verdict or evaluate_ready(issue, config, body)
        if issue.state == "open":  # its readiness label as the bot is about to set it (its own write sends no event)
            add, remove = ready_labels(verdict, config)
            record = replace(record, labels=frozenset((set(issue.labels) - carried_labels(remove, issue.labels))
                                                      | missing_labels(add, issue.labels)))
        written = [ItemRef(issue.forge, link.repo or issue.repo, link.number)
                   for link in verdict.dependencies if link.kind == "depends_on"]
        native = [ItemRef(issue.forge, n.repo, n.number) for n in issue.native_links if n.kind == "depends_on"]
        record = replace(record, points=verdict.points, team_points=team_points(body, config),
                         depends_on=tuple(dict.fromkeys(written + native)))
    await services.history.keep_items(where, owner, [record])


def _pull_request(record: ItemRecord, issue: Issue) -> ItemRecord:
    closes = tuple(_ref(text, issue.forge) for text in closed_items(issue.body, issue.repo))
    return replace(record, closes=closes)


async def record_evidence(services: Services, where: str, repo: str, sha: str, name: str,
                          branch: str | None = None, environment: str | None = None,
                          at: datetime | None = None) -> None:
    if services.history is None:
        return
    evidence = IntegrationEvidence(repo=repo, sha=sha, name=name, at=at or _now(), branch=branch,
                                   environment=environment)
    await services.history.keep_evidence(where, repo.split("/", 1)[0], [evidence])
