"""What the Nexus metrics are made of, as the bot records it: one record per backlog item and pull
request (its latest known state, upserted), and the integration evidence seen on base branches.

Records are snapshots, not events: a webhook and a backfill that see the same item write the same
record (the newer ``updated_at`` wins), so recording is idempotent and a reopened item simply has no
``closed_at`` any more. Times are aware datetimes (UTC). Pure: no I/O; the store keeps them
(``bot/service/store*.py``) and ``bot/checks/nexus_metrics.py`` computes the metrics from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from .model import ItemRef


@dataclass(frozen=True)
class ItemRecord:
    """A backlog item (issue) or a pull request, as last seen."""

    ref: ItemRef
    is_pull_request: bool
    title: str
    opened_at: datetime
    updated_at: datetime  # of the forge's view this record comes from: the newer record wins
    labels: frozenset[str] = frozenset()  # current labels (team labels, bug, nexus, blocked, points:N)
    closed_at: datetime | None = None  # None while open (a reopened item is open again)
    completed: bool = False  # closed as completed (GitHub's state_reason; Forgejo: any close of an issue)
    points: int | None = None  # the estimate that counts, read as the Ready check reads it
    team_points: tuple[tuple[str, int], ...] = ()  # "Teams: Backend (3 pts), Frontend (2 pts)": (team key, points)
    blocked_since: datetime | None = None  # when the blocked label was added, while it is there
    depends_on: tuple[ItemRef, ...] = ()  # items it depends on (written and native links)
    # pull requests
    merged_at: datetime | None = None
    base: str = ""  # base branch
    merge_sha: str | None = None
    teams: tuple[str, ...] = ()  # teams the pull request touches (team keys)
    closes: tuple[ItemRef, ...] = ()  # items it closes


@dataclass(frozen=True)
class IntegrationEvidence:
    """A successful deployment to the integration environment, or a successful check or commit status
    whose name says the code was integrated and tested, on a commit of a repository."""

    repo: str  # owner/name
    sha: str
    name: str  # the check's or status's name, or "deployment"
    at: datetime
    branch: str | None = None  # the branch of the commit, when the forge says it
    environment: str | None = None  # deployments: the environment (e.g. staging)


# ----- kept as JSON by the store -------------------------------------------------------------------

def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ref(ref: ItemRef) -> list:
    return [ref.forge, ref.repo, ref.number]


def item_key(ref: ItemRef) -> str:
    return f"{ref.repo}#{ref.number}"


def item_to_json(r: ItemRecord) -> str:
    return json.dumps({
        "ref": _ref(r.ref), "pr": r.is_pull_request, "title": r.title, "opened": _time(r.opened_at),
        "updated": _time(r.updated_at), "labels": sorted(r.labels), "closed": _time(r.closed_at),
        "completed": r.completed, "points": r.points, "team_points": [list(t) for t in r.team_points],
        "blocked_since": _time(r.blocked_since), "depends_on": [_ref(d) for d in r.depends_on],
        "merged": _time(r.merged_at), "base": r.base, "merge_sha": r.merge_sha, "teams": list(r.teams),
        "closes": [_ref(c) for c in r.closes],
    }, separators=(",", ":"))


def item_from_json(text: str) -> ItemRecord:
    d = json.loads(text)
    return ItemRecord(
        ref=ItemRef(*d["ref"]), is_pull_request=d["pr"], title=d["title"], opened_at=_parse(d["opened"]),
        updated_at=_parse(d["updated"]), labels=frozenset(d["labels"]), closed_at=_parse(d["closed"]),
        completed=d["completed"], points=d["points"], team_points=tuple((t, p) for t, p in d["team_points"]),
        blocked_since=_parse(d["blocked_since"]), depends_on=tuple(ItemRef(*x) for x in d["depends_on"]),
        merged_at=_parse(d["merged"]), base=d["base"], merge_sha=d["merge_sha"], teams=tuple(d["teams"]),
        closes=tuple(ItemRef(*x) for x in d["closes"]),
    )


def evidence_key(e: IntegrationEvidence) -> str:
    return f"{e.repo}@{e.sha}:{e.environment or ''}:{e.name}"


def evidence_to_json(e: IntegrationEvidence) -> str:
    return json.dumps({"repo": e.repo, "sha": e.sha, "name": e.name, "at": _time(e.at), "branch": e.branch,
                       "environment": e.environment}, separators=(",", ":"))


def evidence_from_json(text: str) -> IntegrationEvidence:
    d = json.loads(text)
    return IntegrationEvidence(d["repo"], d["sha"], d["name"], _parse(d["at"]), d["branch"], d["environment"])
