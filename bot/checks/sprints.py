"""Sprint arithmetic: which sprint an instant falls in, and when sprint N starts and ends.

Two calendars, one interface (``Calendar``):

- ``FixedCalendar``: sprint 1 starts at midnight of ``nexus.sprint.start`` in ``nexus.sprint.timezone``
  and every sprint lasts ``length_days``; sprints are numbered from 1 (an instant before the first
  sprint is in none).
- ``MilestoneCalendar``: the forge's milestones titled like "Sprint 12" (``milestone_pattern``,
  group 1 the number), each sprint ending at the end of its milestone's due date; a sprint starts when
  the one before it ends, the first one ``length_days`` before its end. A milestone without a due date,
  or whose due date is not after the previous sprint's, is left out; of two milestones with the same
  number the one due first counts.

``calendar()`` picks the milestones when ``from_milestones`` is set and at least one milestone is a
sprint, the fixed calendar otherwise. Bounds are aware datetimes in UTC; a sprint's ``end`` is the
first instant after it. Pure: no I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Iterable, Protocol

from ..config.nexus import SprintCalendar, zone
from . import patterns

Milestone = tuple[str, "date | datetime | None"]  # (title, due date)


@dataclass(frozen=True)
class Sprint:
    number: int
    start: datetime  # aware (UTC): its first instant
    end: datetime  # aware (UTC): the first instant after it
    first_day: date  # in the calendar's time zone
    last_day: date

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end


class Calendar(Protocol):
    def number(self, at: datetime) -> int | None:
        """The number of the sprint ``at`` falls in; None when it falls in none."""

    def sprint(self, number: int) -> Sprint | None:
        """Sprint ``number``; None when the calendar has no such sprint."""

    def before(self, number: int, count: int) -> list[Sprint]:
        """Up to ``count`` sprints ending with ``number`` (itself included), oldest first."""


def calendar(config: SprintCalendar, milestones: Iterable[Milestone] = ()) -> Calendar:
    tz = zone(config.timezone)
    if config.from_milestones:
        found = milestone_sprints(milestones, config.milestone_pattern, config.length_days, tz)
        if found.sprints:
            return found
    return FixedCalendar(config.start, config.length_days, tz)


def current(cal: Calendar, now: datetime) -> Sprint | None:
    number = cal.number(now)
    return None if number is None else cal.sprint(number)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(timezone.utc)


class FixedCalendar:
    def __init__(self, start: date, length_days: int, tz: tzinfo = timezone.utc):
        self.start, self.length, self.tz = start, length_days, tz

    def number(self, at: datetime) -> int | None:
        days = (at.astimezone(self.tz).date() - self.start).days
        return days // self.length + 1 if days >= 0 else None

    def sprint(self, number: int) -> Sprint | None:
        if number < 1:
            return None
        try:
            first = self.start + timedelta(days=(number - 1) * self.length)
            after = first + timedelta(days=self.length)
            return Sprint(number, _midnight(first, self.tz), _midnight(after, self.tz), first, after - timedelta(days=1))
        except OverflowError:  # past the year 9999
            return None

    def before(self, number: int, count: int) -> list[Sprint]:
        return [s for n in range(max(1, number - count + 1), number + 1) if (s := self.sprint(n))]


class MilestoneCalendar:
    def __init__(self, sprints: list[Sprint]):
        self.sprints = sprints  # by number, contiguous after the first
        self._ends = [s.end for s in sprints]
        self._index = {s.number: i for i, s in enumerate(sprints)}

    def number(self, at: datetime) -> int | None:
        i = bisect_right(self._ends, at)
        if i == len(self.sprints) or at < self.sprints[i].start:
            return None
        return self.sprints[i].number

    def sprint(self, number: int) -> Sprint | None:
        i = self._index.get(number)
        return None if i is None else self.sprints[i]

    def before(self, number: int, count: int) -> list[Sprint]:
        i = self._index.get(number)
        return [] if i is None else self.sprints[max(0, i - count + 1): i + 1]


def milestone_sprints(milestones: Iterable[Milestone], pattern: str, length_days: int,
                      tz: tzinfo = timezone.utc) -> MilestoneCalendar:
    """The sprints that milestones titled like "Sprint 12" with a due date describe."""
    compiled = patterns.compile(pattern)
    due: dict[int, date] = {}
    for title, when in milestones:
        match = compiled.search(title or "")
        if match is None or when is None or not (match.group(1) or "").isdigit():
            continue
        number = int(match.group(1))
        day = when.astimezone(tz).date() if isinstance(when, datetime) else when
        if number >= 1 and (number not in due or day < due[number]):
            due[number] = day
    sprints: list[Sprint] = []
    for number in sorted(due):
        last_day = due[number]
        first_day = sprints[-1].last_day + timedelta(days=1) if sprints else last_day - timedelta(days=length_days - 1)
        if first_day > last_day:
            continue  # due no later than the sprint before it: not a sprint of this calendar
        try:
            end = _midnight(last_day + timedelta(days=1), tz)
        except OverflowError:  # due on the last day there is
            break
        sprints.append(Sprint(number, _midnight(first_day, tz), end, first_day, last_day))
    return MilestoneCalendar(sprints)
