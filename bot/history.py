"""What the Nexus metrics are made of, as the bot records it: one record per backlog item and pull
request (its latest known state, upserted), and the integration evidence seen on base branches.

Records are snapshots, not events: a webhook and a backfill that see the same item write the same
record (the newer ``updated_at`` wins), so recording is idempotent and a reopened item simply has no
``closed_at`` any more. Times are aware datetimes (UTC). Pure: no I/O; the store keeps them
(``bot/service/store*.py``) and ``bot/checks/nexus_metrics.py`` computes the metrics from them.
"""

from __future__ import annotations

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
