"""The board's own computations, pure (no I/O): the open pull requests' rows from their records
(``bot/pull_record.py``), the Ready state of the backlog per team from the history's item records
(``bot/history.py``), the filters by team and repository, and the Nexus metrics and dependency table
of ``bot/checks/nexus_metrics.py`` (computed there, never here) turned into plain data for the JSON
and the templates. Who may read what is decided by a ``can_read(where, repo)`` the caller gives.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .checks.nexus_metrics import DependencyRow, SprintMetrics
from .history import ItemRecord, NexusHistory
from .model import ItemRef

if TYPE_CHECKING:
    from .config import Config

CanRead = Callable[[str, str], bool]  # (where, "owner/repo") -> may this viewer read it
HOUR = 3600.0
STATE_ORDER = {"failed": 0, "pending": 1, "passed": 2}


@dataclass(frozen=True)
class Filters:
    """``?team=backend&repo=org/app``: what a shared link narrows the board to."""

    team: str | None = None
    repo: str | None = None

    def pull(self, record: dict[str, Any]) -> bool:
        return ((self.team is None or self.team in record.get("teams", ()))
                and (self.repo is None or record["repo"].lower() == self.repo.lower()))

    def item(self, repo: str, teams: Iterable[str]) -> bool:
        return (self.team is None or self.team in teams) and (self.repo is None or repo.lower() == self.repo.lower())


def page_path(where: str, repo: str, number: int) -> str:
    """The pull request's board page, as the check run's details link names it."""
    return f"/board/{where}/{repo}/pull/{number}"


def row_id(repo: str, number: int) -> str:
    """A stable HTML id for a pull request's row: ``pr-org-app-12``."""
    return "pr-" + "".join(c if c.isalnum() else "-" for c in repo) + f"-{number}"


def _hours(since: str | None, now: datetime) -> float | None:
    return (now - datetime.fromisoformat(since)).total_seconds() / HOUR if since else None


def open_pulls(records: Iterable[dict[str, Any]], can_read: CanRead, filters: Filters,
               now: datetime) -> list[dict[str, Any]]:
    """The open pull requests the viewer may read, narrowed by ``filters``: failed first, then those
    waiting, then done; in each, those waiting longest first."""
    rows = []
    for r in records:
        if not r.get("open") or not can_read(r["where"], r["repo"]) or not filters.pull(r):
            continue
        names = r.get("team_names", {})
        rows.append({
            "where": r["where"], "repo": r["repo"], "number": r["number"], "title": r["title"],
            "author": r["author"], "url": r["url"], "state": r["state"], "done": r["done"],
            "applicable": r["applicable"], "teams": r["teams"], "team_names": [names.get(t, t) for t in r["teams"]],
            "cross_team": r["cross_team"], "missing_reviews": r["reviews"]["missing_teams"],
            "missing_review_names": [names.get(t, t) for t in r["reviews"]["missing_teams"]],
            "approvals": len(r["reviews"]["approvers"]), "approvals_needed": r["reviews"]["needed"],
            "waivers": r["waivers"], "opened_at": r["opened_at"], "waited_hours": _hours(r["opened_at"], now),
            "evaluated_at": r["evaluated_at"], "page": page_path(r["where"], r["repo"], r["number"]),
            "id": row_id(r["repo"], r["number"]),
        })
    rows.sort(key=lambda row: (STATE_ORDER.get(row["state"], 3), -(row["waited_hours"] or 0.0),
                               row["repo"], row["number"]))
    return rows


def readable_history(history: NexusHistory, where: str, can_read: CanRead) -> NexusHistory:
    """The history without what the viewer may not read: the metrics are then computed on it."""
    return dataclasses.replace(
        history, items=tuple(r for r in history.items if can_read(where, r.ref.repo)),
        evidence=tuple(e for e in history.evidence if can_read(where, e.repo)))


def backlog(items: Iterable[ItemRecord], config: "Config", filters: Filters) -> list[dict[str, Any]]:
    """Per team (in config order, then items of no team), the open backlog items (issues) that are
    ``ready``, ``needs-refinement``, or neither yet (never judged, or judged before the labels existed)."""
    keys = tuple(config.teams)
    by_label = {config.team_label(key).casefold(): key for key in keys}
    ready, refine = config.labels.ready.casefold(), config.labels.needs_refinement.casefold()
    counts: dict[str | None, dict[str, int]] = {key: {"ready": 0, "needs_refinement": 0, "unjudged": 0}
                                                for key in (*keys, None)}
    for record in items:
        if record.is_pull_request or record.closed_at is not None:
            continue
        labels = {label.casefold() for label in record.labels}
        teams = [by_label[label] for label in labels if label in by_label]
        if not filters.item(record.ref.repo, teams):
            continue
        state = "ready" if ready in labels else "needs_refinement" if refine in labels else "unjudged"
        for key in teams or [None]:
            counts[key][state] += 1
    shown = [key for key in keys if filters.team in (None, key)] + ([None] if sum(counts[None].values()) else [])
    return [{"team": key, "name": config.team_name(key) if key else None, **counts[key]} for key in shown]


def dependencies(rows: Iterable[DependencyRow], filters: Filters) -> list[dict[str, Any]]:
    """The sprint's cross-team dependency table (blocked first, as ``sprint_dependencies`` orders it)."""
    return [plain(row) for row in rows
            if filters.item(row.ref.repo, row.teams) or any(filters.item(d.ref.repo, d.teams) for d in row.depends_on)]


def metrics(found: SprintMetrics, filters: Filters) -> dict[str, Any]:
    """The sprint's figures and alarms as plain data; a team filter keeps that team's row and the
    Nexus's, and the alarms of that team or of the Nexus."""
    data = plain(found)
    if filters.team is not None:
        data["teams"] = [row for row in data["teams"] if row["team"] == filters.team]
        data["alarms"] = [a for a in data["alarms"] if a["team"] in (None, filters.team)]
    return data


def plain(value: Any) -> Any:
    """Dataclasses, item references, enums and instants as JSON data."""
    if isinstance(value, ItemRef):
        return {"forge": value.forge, "repo": value.repo, "number": value.number}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
