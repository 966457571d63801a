"""The Nexus in numbers: what the NIT watches, per sprint, for each team and for the whole Nexus,
computed from the records the bot keeps (``bot/history.py``). Pure: no I/O; "now" is the time the
history was read (``NexusHistory.as_of``).

- **Velocity**: story points of the backlog items (issues, not pull requests) closed as completed in
  the sprint. An item with a split ("Teams: Backend (3 pts), Frontend (2 pts)") counts each team's
  share for that team and its total once for the Nexus; without a split its points go to its owner
  team when it has exactly one team label, and to the Nexus only when it has several ("unsplit") or
  none ("no team"). The total is ``points`` (the estimate that counts), else the split's sum; an item
  done with neither is counted as unestimated. Alarm when it falls more than
  ``velocity_drop_percent`` against the sprint before (judged once the sprint has ended: a running
  sprint is still filling up) or rises more than ``velocity_rise_percent``; no alarm without a
  baseline (no sprint before, or 0 points in it).
- **Integration lead time**: from a pull request's merge into a branch of ``integration.base_branches``
  (or into a base the record does not know: a backfill's search results do not name it) to the first integration evidence that contains it, in the sprint of the merge. Without commit
  graphs, "contains it" is approximated: evidence of the same repository, at or after ``merged_at``,
  that is either a successful deployment to ``integration.environment`` of the PR's base branch (or of
  a branch the forge did not name), or a successful check or status named like
  ``integration.names`` on a commit of the PR's base branch. Median and p90 over the integrated pull
  requests; goal: median under ``lead_time_goal_hours``; alarm: median over
  ``lead_time_alarm_hours``. Pull requests still waiting are listed with their age, an alarm past
  ``lead_time_alarm_hours``. A pull request counts for each team it touches, and once for the Nexus.
- **Cross-team bugs**: issues carrying ``bug_label`` that are cross-team by their current labels
  (the cross-team label, or two team labels), opened in the sprint; one closed as not completed
  (duplicate, not planned) does not count. Alarm when the Nexus has ``cross_team_bugs_goal`` or more.
- **Blockages** (the current sprint only: it is a state, not a history): open items labelled
  blocked now (``blocked_since``), with how long; alarm past ``blocked_alarm_hours``.

``sprint_dependencies`` gives the sprint's cross-team dependency table (``/nexus deps sprint``): every
open item that depends on an item of another team, plus those closed in the sprint.

Every pass over the records is linear (one ``sort`` per repository's evidence), so a year of an
organisation's history computes in a fraction of a second (``bench/metrics.py``).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Iterable

from ..history import IntegrationEvidence, ItemRecord, NexusHistory
from ..model import ItemRef
from .deps import IN_PROGRESS_LABELS, Status
from .sprints import Calendar, Sprint, calendar

if TYPE_CHECKING:
    from ..config import Config
    from ..config.nexus import Thresholds

HOUR = 3600.0
CHART_SPRINTS = 6  # the velocity chart covers this many sprints, the one asked for the last
LIST_LIMIT = 20  # waiting pull requests, blockages, bugs shown by name (the rest are counted)
ALARM_ORDER = ("velocity_drop", "velocity_rise", "lead_time", "waiting", "cross_team_bugs", "blocked")


class SprintUnknown(Exception):
    """No such sprint to report on; ``reason``: from_one | not_started | no_such_sprint | no_current."""

    def __init__(self, reason: str, number: int | None = None, sprint: Sprint | None = None):
        super().__init__(reason)
        self.reason, self.number, self.sprint = reason, number, sprint


@dataclass(frozen=True)
class TeamRow:
    team: str | None  # a team key; None: the whole Nexus
    velocity: int
    previous: int | None  # the sprint before's velocity; None: no sprint before
    change_percent: float | None  # None: no baseline
    velocity_alarm: str | None  # "drop" | "rise"
    merged: int  # pull requests merged in the sprint (measured ones)
    integrated: int
    lead_median_hours: float | None
    lead_p90_hours: float | None
    lead_state: str | None  # "met" | "missed" | "alarm"; None: nothing integrated
    waiting: int
    bugs: int
    blocked: int
    blocked_longest_hours: float | None
    unsplit: int = 0  # Nexus only: points of items of several teams without a split
    no_team: int = 0  # Nexus only: points of items without a team label
    unestimated: int = 0  # Nexus only: items done without an estimate


@dataclass(frozen=True)
class Alarm:
    kind: str  # one of ALARM_ORDER
    team: str | None  # None: the Nexus
    value: float  # percent, hours or a count
    threshold: float
    ref: ItemRef | None = None
    title: str = ""


@dataclass(frozen=True)
class Waiting:
    """A merged pull request no integration evidence contains yet."""

    ref: ItemRef
    title: str
    teams: tuple[str, ...]
    merged_at: datetime
    hours: float
    alarm: bool


@dataclass(frozen=True)
class Blockage:
    ref: ItemRef
    title: str
    teams: tuple[str, ...]
    since: datetime
    hours: float
    alarm: bool


@dataclass(frozen=True)
class ChartPoint:
    sprint: int
    nexus: int
    teams: tuple[tuple[str, int], ...]  # (team key, points), in config order


@dataclass(frozen=True)
class SprintMetrics:
    sprint: Sprint
    current: bool  # now falls in it
    ended: bool
    teams: tuple[TeamRow, ...]  # config order
    nexus: TeamRow
    alarms: tuple[Alarm, ...]  # ALARM_ORDER, the Nexus before the teams
    waiting: tuple[Waiting, ...]  # oldest first
    blockages: tuple[Blockage, ...]  # longest first; only for the current sprint
    bugs: tuple[ItemRef, ...]
    chart: tuple[ChartPoint, ...]  # oldest first
    integration_names: tuple[str, ...]
    environment: str


@dataclass(frozen=True)
class Dependency:
    ref: ItemRef
    title: str  # "" when the item is not in the history
    teams: tuple[str, ...]
    status: Status | None  # None: not in the history


@dataclass(frozen=True)
class DependencyRow:
    ref: ItemRef
    title: str
    teams: tuple[str, ...]
    status: Status
    depends_on: tuple[Dependency, ...]
    blocked_since: datetime | None
    blocked_hours: float | None


# ----- entry points ----------------------------------------------------------------------------

def sprint_calendar(history: NexusHistory, config: "Config") -> Calendar:
    return calendar(config.nexus.sprint, history.milestones)


def resolve_sprint(cal: Calendar, now: datetime, number: int | None = None) -> Sprint:
    """Sprint ``number`` (the current one when None), if it has started; else ``SprintUnknown``."""
    if number is None:
        found = cal.number(now)
        sprint = cal.sprint(found) if found is not None else None
        if sprint is None:
            raise SprintUnknown("no_current", None, cal.sprint(1))
        return sprint
    if number < 1:
        raise SprintUnknown("from_one", number)
    sprint = cal.sprint(number)
    if sprint is None:
        raise SprintUnknown("no_such_sprint", number)
    if sprint.start > now:
        raise SprintUnknown("not_started", number, sprint)
    return sprint


def nexus_metrics(history: NexusHistory, config: "Config", number: int | None = None) -> SprintMetrics:
    """The metrics of sprint ``number`` (the current sprint when None) as of ``history.as_of``."""
    now = history.as_of
    cal = sprint_calendar(history, config)
    sprint = resolve_sprint(cal, now, number)
    limits = config.nexus.thresholds
    teams = _Teams(config)
    chart_sprints = cal.before(sprint.number, CHART_SPRINTS)
    previous = chart_sprints[-2] if len(chart_sprints) > 1 else None
    velocities = _velocities(history.items, cal, chart_sprints, teams)
    current = now in sprint
    ended = now >= sprint.end
    names = integration_names(config)
    measures, waiting = _lead_times(history, config, sprint, now, teams, names)
    bugs = _cross_team_bugs(history.items, config, sprint, teams)
    blockages = _blockages(history.items, now, teams, limits.blocked_alarm_hours) if current else []

    rows, alarms = [], []
    for key in (*teams.keys, None):
        row, raised = _row(key, velocities[sprint.number], velocities[previous.number] if previous else None,
                           ended, measures, waiting, bugs, blockages, limits)
        rows.append(row)
        alarms += raised
    nexus = rows[-1]
    if nexus.bugs >= limits.cross_team_bugs_goal:
        alarms.append(Alarm("cross_team_bugs", None, nexus.bugs, limits.cross_team_bugs_goal))
    alarms += [Alarm("waiting", None, w.hours, limits.lead_time_alarm_hours, w.ref, w.title) for w in waiting if w.alarm]
    alarms += [Alarm("blocked", None, b.hours, limits.blocked_alarm_hours, b.ref, b.title) for b in blockages if b.alarm]
    rank = {key: n for n, key in enumerate((None, *teams.keys))}
    alarms.sort(key=lambda a: (ALARM_ORDER.index(a.kind), rank.get(a.team, len(rank)), -a.value))
    return SprintMetrics(
        sprint=sprint, current=current, ended=ended, teams=tuple(rows[:-1]), nexus=nexus, alarms=tuple(alarms),
        waiting=tuple(waiting), blockages=tuple(blockages), bugs=tuple(sorted(ref for ref, _ in bugs)),
        chart=tuple(ChartPoint(s.number, velocities[s.number].nexus,
                               tuple((key, velocities[s.number].of(key)) for key in teams.keys))
                    for s in chart_sprints),
        integration_names=names, environment=config.nexus.integration.environment,
    )


def sprint_dependencies(history: NexusHistory, config: "Config",
                        number: int | None = None) -> tuple[Sprint, list[DependencyRow]]:
    """The sprint's cross-team dependency table: every open item that depends on an item of a team it
    does not share (as ``bot/checks/deps.py`` judges blockers), plus such items closed in the sprint.
    Blocked items first (the longest blocked first), then open ones, then done ones."""
    now = history.as_of
    sprint = resolve_sprint(sprint_calendar(history, config), now, number)
    teams = _Teams(config)
    by_ref = {r.ref: r for r in history.items}
    in_review = {ref for r in history.items if r.is_pull_request and r.closed_at is None and r.merged_at is None
                 for ref in r.closes}
    ready = config.labels.ready.casefold()
    rows = []
    for record in history.items:
        if not record.depends_on or (record.closed_at is not None and record.closed_at not in sprint):
            continue
        own = set(teams.of_record(record))
        deps = []
        for ref in record.depends_on:
            other = by_ref.get(ref)
            deps.append(Dependency(ref, "", (), None) if other is None else
                        Dependency(ref, other.title, teams.of_record(other), _status(other, in_review, ready)))
        if not any(d.status is not None and not set(d.teams) <= own for d in deps):
            continue
        status = _status(record, in_review, ready)
        since = record.blocked_since if status is not Status.DONE else None
        rows.append(DependencyRow(record.ref, record.title, teams.of_record(record), status, tuple(deps), since,
                                  (now - since).total_seconds() / HOUR if since else None))
    rows.sort(key=lambda r: (r.blocked_since is None, r.blocked_since or now, r.status is Status.DONE, r.ref))
    return sprint, rows


def integration_names(config: "Config") -> tuple[str, ...]:
    """The check and status names that say a merge was integrated: ``nexus.integration.names``, else
    those of the check evidence of the DoD item ``names_from_item``."""
    integration = config.nexus.integration
    if integration.names is not None:
        return tuple(integration.names)
    item = next((i for i in config.items if i.id == integration.names_from_item), None)
    return tuple(name for ev in (item.evidence if item else ()) if ev.kind == "check" for name in ev.names)


# ----- the pieces ------------------------------------------------------------------------------

class _Teams:
    """Team keys from labels (as ``deps.owner_teams``), in config order, one lookup per label set."""

    def __init__(self, config: "Config"):
        self.keys = tuple(config.teams)
        self._by_label = {config.team_label(key).casefold(): key for key in self.keys}
        self._cross_team = config.labels.cross_team.casefold()
        self._cache: dict[frozenset[str], tuple[tuple[str, ...], frozenset[str]]] = {}

    def _read(self, labels: frozenset[str]) -> tuple[tuple[str, ...], frozenset[str]]:
        hit = self._cache.get(labels)
        if hit is None:
            folded = frozenset(label.casefold() for label in labels)
            found = {self._by_label[label] for label in folded if label in self._by_label}
            hit = self._cache[labels] = (tuple(key for key in self.keys if key in found), folded)
        return hit

    def of(self, labels: frozenset[str]) -> tuple[str, ...]:
        return self._read(labels)[0]

    def folded(self, labels: frozenset[str]) -> frozenset[str]:
        return self._read(labels)[1]

    def of_record(self, record: ItemRecord) -> tuple[str, ...]:
        """A pull request's teams are those it touches (else its labels'); an issue's, its labels'."""
        if record.teams:
            return tuple(key for key in self.keys if key in record.teams)
        return self.of(record.labels)

    def cross_team(self, labels: frozenset[str]) -> bool:
        teams, folded = self._read(labels)
        return len(teams) >= 2 or self._cross_team in folded


class _Velocity:
    def __init__(self) -> None:
        self.teams: dict[str, int] = {}
        self.nexus = self.unsplit = self.no_team = self.unestimated = 0

    def of(self, key: str | None) -> int:
        return self.nexus if key is None else self.teams.get(key, 0)

    def add(self, record: ItemRecord, teams: _Teams) -> None:
        split = [(key, points) for key, points in record.team_points if key in teams.keys]
        total = record.points if record.points is not None else (sum(p for _, p in record.team_points)
                                                                 if record.team_points else None)
        if total is None:
            self.unestimated += 1
            return
        self.nexus += total
        if record.team_points:
            for key, points in split:
                self.teams[key] = self.teams.get(key, 0) + points
            return
        owners = teams.of(record.labels)
        if len(owners) == 1:
            self.teams[owners[0]] = self.teams.get(owners[0], 0) + total
        elif owners:
            self.unsplit += total
        else:
            self.no_team += total


def _row(key: str | None, now_v: "_Velocity", before_v: "_Velocity | None", ended: bool,
         measures: list[tuple[tuple[str, ...], float]], waiting: list[Waiting],
         bugs: list[tuple[ItemRef, tuple[str, ...]]], blockages: list[Blockage],
         limits: "Thresholds") -> tuple[TeamRow, list[Alarm]]:
    """One team's row (``key`` None: the Nexus's), and the alarms it raises."""
    mine = (lambda teams_of: True) if key is None else (lambda teams_of: key in teams_of)
    alarms = []
    velocity = now_v.of(key)
    prior = before_v.of(key) if before_v else None
    change = (velocity - prior) * 100.0 / prior if prior else None
    velocity_alarm = None
    if change is not None and change > limits.velocity_rise_percent:
        velocity_alarm = "rise"
        alarms.append(Alarm("velocity_rise", key, change, limits.velocity_rise_percent))
    elif change is not None and ended and -change > limits.velocity_drop_percent:
        velocity_alarm = "drop"
        alarms.append(Alarm("velocity_drop", key, -change, limits.velocity_drop_percent))
    hours = sorted(h for teams_of, h in measures if mine(teams_of))
    median = statistics.median(hours) if hours else None
    lead_state = None
    if median is not None:
        lead_state = ("alarm" if median > limits.lead_time_alarm_hours
                      else "missed" if median >= limits.lead_time_goal_hours else "met")
        if lead_state == "alarm":
            alarms.append(Alarm("lead_time", key, median, limits.lead_time_alarm_hours))
    my_waiting = sum(1 for w in waiting if mine(w.teams))
    my_blocked = [b.hours for b in blockages if mine(b.teams)]
    row = TeamRow(
        team=key, velocity=velocity, previous=prior, change_percent=change, velocity_alarm=velocity_alarm,
        merged=len(hours) + my_waiting, integrated=len(hours), lead_median_hours=median,
        lead_p90_hours=hours[math.ceil(0.9 * len(hours)) - 1] if hours else None, lead_state=lead_state,
        waiting=my_waiting, bugs=sum(1 for _, teams_of in bugs if mine(teams_of)),
        blocked=len(my_blocked), blocked_longest_hours=max(my_blocked, default=None),
        **({"unsplit": now_v.unsplit, "no_team": now_v.no_team, "unestimated": now_v.unestimated} if key is None else {}),
    )
    return row, alarms


def _velocities(items: Iterable[ItemRecord], cal: Calendar, sprints: list[Sprint], teams: _Teams) -> dict[int, _Velocity]:
    out = {sprint.number: _Velocity() for sprint in sprints}
    first, end = sprints[0].start, sprints[-1].end
    for record in items:
        if record.is_pull_request or not record.completed or record.closed_at is None:
            continue
        if not first <= record.closed_at < end:
            continue
        number = cal.number(record.closed_at)
        if number in out:
            out[number].add(record, teams)
    return out


class _Integrations:
    """The times of integration evidence, per (repository, branch) and per repository (deployments
    of a branch the forge did not name), sorted: the first one at or after a merge is a bisection."""

    def __init__(self, evidence: Iterable[IntegrationEvidence], repos: set[str], since: datetime | None,
                 names: tuple[str, ...], environment: str):
        """Only evidence of ``repos`` at or after ``since`` (the first merge measured) can matter."""
        environment = environment.casefold()
        patterns = tuple(name.casefold() for name in names)
        named: dict[str, bool] = {}
        self.on_branch: dict[tuple[str, str], list[datetime]] = {}
        self.unnamed_branch: dict[str, list[datetime]] = {}
        for ev in evidence:
            if since is None or ev.at < since or ev.repo not in repos:
                continue
            if ev.environment is not None and ev.environment.casefold() == environment:
                pass  # a deployment to the integration environment
            else:
                ok = named.get(ev.name)
                if ok is None:
                    ok = named[ev.name] = any(fnmatchcase(ev.name.casefold(), p) for p in patterns)
                if not ok or ev.branch is None:
                    continue  # a check on a commit of an unknown branch may be a pull request's own
            if ev.branch is None:
                self.unnamed_branch.setdefault(ev.repo, []).append(ev.at)
            else:
                self.on_branch.setdefault((ev.repo, ev.branch), []).append(ev.at)
        for times in (*self.on_branch.values(), *self.unnamed_branch.values()):
            times.sort()

    def first(self, repo: str, branch: str, after: datetime) -> datetime | None:
        best = None
        for times in (self.on_branch.get((repo, branch)), self.unnamed_branch.get(repo)):
            if times:
                i = bisect_left(times, after)
                if i < len(times) and (best is None or times[i] < best):
                    best = times[i]
        return best


def _lead_times(history: NexusHistory, config: "Config", sprint: Sprint, now: datetime, teams: _Teams,
                names: tuple[str, ...]) -> tuple[list[tuple[tuple[str, ...], float]], list[Waiting]]:
    integration = config.nexus.integration
    limit = config.nexus.thresholds.lead_time_alarm_hours
    merged = [r for r in history.items if r.is_pull_request and r.merged_at is not None and r.merged_at in sprint
              and (not r.base or any(fnmatchcase(r.base, pattern) for pattern in integration.base_branches))]
    since = min((r.merged_at for r in merged if r.merged_at is not None), default=None)
    index = _Integrations(history.evidence, {r.ref.repo for r in merged}, since, names, integration.environment)
    measures, waiting = [], []
    for pr in merged:
        assert pr.merged_at is not None
        owners = teams.of_record(pr)
        at = index.first(pr.ref.repo, pr.base, pr.merged_at)
        if at is not None:
            measures.append((owners, (at - pr.merged_at).total_seconds() / HOUR))
        else:
            hours = (now - pr.merged_at).total_seconds() / HOUR
            waiting.append(Waiting(pr.ref, pr.title, owners, pr.merged_at, hours, hours > limit))
    waiting.sort(key=lambda w: (w.merged_at, w.ref))
    return measures, waiting


def _cross_team_bugs(items: Iterable[ItemRecord], config: "Config", sprint: Sprint,
                     teams: _Teams) -> list[tuple[ItemRef, tuple[str, ...]]]:
    bug = config.nexus.bug_label.casefold()
    found = []
    for record in items:
        if record.is_pull_request or record.opened_at not in sprint:
            continue
        if record.closed_at is not None and not record.completed:
            continue  # a duplicate, or not planned
        if bug in teams.folded(record.labels) and teams.cross_team(record.labels):
            found.append((record.ref, teams.of(record.labels)))
    return found


def _blockages(items: Iterable[ItemRecord], now: datetime, teams: _Teams, limit: float) -> list[Blockage]:
    found = []
    for record in items:
        if record.blocked_since is None or record.closed_at is not None:
            continue
        hours = (now - record.blocked_since).total_seconds() / HOUR
        found.append(Blockage(record.ref, record.title, teams.of_record(record), record.blocked_since, hours,
                              hours > limit))
    found.sort(key=lambda b: (b.since, b.ref))
    return found


def _status(record: ItemRecord, in_review: set[ItemRef], ready: str) -> Status:
    """As ``deps.item_status`` judges an item, from a record (which has no assignees)."""
    if record.closed_at is not None or record.merged_at is not None:
        return Status.DONE
    if record.is_pull_request or record.ref in in_review:
        return Status.IN_REVIEW
    labels = {label.casefold() for label in record.labels}
    if labels & IN_PROGRESS_LABELS:
        return Status.IN_PROGRESS
    return Status.READY if ready in labels else Status.BACKLOG
