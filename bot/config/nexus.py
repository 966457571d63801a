"""The schema of the ``nexus:`` section: the sprint calendar and the thresholds of the Nexus metrics
(``/nexus metrics``, computed by ``bot/checks/nexus_metrics.py`` over ``bot/checks/sprints.py``).

The whole section is the organisation's: a repository's file that sets it is refused (``layers.py``;
the organisation's section applies, with a notice), since every repository's metrics are read against
one calendar and one set of alarms.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
from pydantic import Field, field_validator, model_validator

from .base import Strict, check_regex


@lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class SprintCalendar(Strict):
    start: date = date(2026, 1, 5)  # the first day of sprint 1
    length_days: int = Field(default=14, ge=1, le=365)
    timezone: str = "UTC"  # sprints start at midnight here (IANA name, e.g. Europe/Paris)
    # Sprints from the forge's milestones named like "Sprint 12" (group 1: the number), each ending on
    # its due date; a sprint starts the day after the previous one's due date (or length_days before
    # its own). Without such milestones, the calendar above applies.
    from_milestones: bool = False
    milestone_pattern: str = r"(?i)^\s*sprint\s*(\d+)\s*$"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (an IANA name such as Europe/Paris or UTC)") from None
        return value

    @field_validator("milestone_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        check_regex(value)
        if re2.compile(value).groups < 1:
            raise ValueError("the pattern needs a group for the sprint's number, e.g. (?i)^sprint (\\d+)$")
        return value


class Integration(Strict):
    """What says a merged pull request was integrated and tested."""

    environment: str = "staging"  # a successful deployment to it
    # or a successful check or status by these names (globs, as the check kind's) on the base branch;
    # unset: the names of the check evidence of the DoD item ``names_from_item`` (17, staging)
    names: list[str] | None = None
    names_from_item: str = "staging"
    base_branches: list[str] = ["main", "master"]  # the pull requests measured: those merged into these (globs)


class Thresholds(Strict):
    velocity_drop_percent: float = Field(default=20, gt=0)  # alarm when velocity falls more than this
    velocity_rise_percent: float = Field(default=30, gt=0)  # or rises more than this, sprint to sprint
    lead_time_goal_hours: float = Field(default=24, gt=0)  # integration lead time (median): goal under this
    lead_time_alarm_hours: float = Field(default=48, gt=0)  # alarm over this
    cross_team_bugs_goal: int = Field(default=5, ge=1)  # cross-team bugs opened per sprint: goal under this
    blocked_alarm_hours: float = Field(default=24, gt=0)  # a blockage lasting longer is an alarm

    @model_validator(mode="after")
    def _alarm_past_goal(self) -> "Thresholds":
        if self.lead_time_alarm_hours < self.lead_time_goal_hours:
            raise ValueError("lead_time_alarm_hours must not be below lead_time_goal_hours")
        return self


class NexusConfig(Strict):
    sprint: SprintCalendar = SprintCalendar()
    thresholds: Thresholds = Thresholds()
    integration: Integration = Integration()
    bug_label: str = "bug"  # a cross-team item carrying it is a cross-team bug
    report_issue: bool = False  # open an issue with the metrics at the end of each sprint
