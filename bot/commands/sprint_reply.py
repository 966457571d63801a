"""What ``/nexus metrics`` and ``/nexus deps sprint`` share in their replies: why a sprint cannot be
reported on (``templates/metrics_refused.md.j2``), instants in the sprint calendar's time zone, and
team names. Replies are in the config's ``language``."""

from __future__ import annotations

from datetime import datetime

from ..checks.nexus_metrics import SprintUnknown
from ..config import Config
from ..config.nexus import zone
from .reply import render


def refusal(unknown: SprintUnknown, config: Config, command: str) -> str:
    sprint = unknown.sprint
    return render("metrics_refused.md.j2", config.lang, reason=unknown.reason, number=unknown.number, command=command,
                  prefix=config.command_prefix, starts=str(sprint.first_day) if sprint else None,
                  from_milestones=config.nexus.sprint.from_milestones)


def moment(at: datetime, config: Config) -> str:
    """An instant as people of the Nexus read it: in the sprint calendar's time zone."""
    name = config.nexus.sprint.timezone
    return f"{at.astimezone(zone(name)).strftime('%Y-%m-%d %H:%M')} {name}"


def team_names(keys: tuple[str, ...], config: Config) -> str:
    return ", ".join(config.team_name(key) for key in keys if key in config.teams)
