"""``/nexus deps sprint``: the sprint's cross-team dependency table (the NIT's "who blocks whom").

Every open item that depends on an item of a team it does not share, and those closed in the current
sprint, from the same history as ``/nexus metrics`` (``bot/checks/nexus_metrics.py``,
``sprint_dependencies``); rendered by ``templates/deps_sprint.md.j2``. ``deps.py`` answers
``deps sprint`` with it, importing this module when the command runs: this module reads its
``STATUS_TEXT``, so that a status reads the same in both tables, in the config's ``language``.
"""

from __future__ import annotations

from ..checks.nexus_metrics import DependencyRow, SprintUnknown, sprint_dependencies
from ..config import Config
from .context import CommandContext
from .deps import STATUS_TEXT
from .registry import Outcome, refused
from .reply import render
from .sprint_reply import moment, refusal, team_names

ROWS_LIMIT = 100  # rows shown; the rest are counted


async def answer(ctx: CommandContext) -> Outcome:
    history = await ctx.nexus_history()
    try:
        sprint, rows = sprint_dependencies(history, ctx.config)
    except SprintUnknown as unknown:
        return refused(refusal(unknown, ctx.config, "deps sprint"))
    return Outcome(ok=True, message=render(
        "deps_sprint.md.j2",
        ctx.config.lang,
        sprint=sprint.number,
        first_day=str(sprint.first_day),
        last_day=str(sprint.last_day),
        rows=[_row(row, ctx.config, ctx.repo) for row in rows[:ROWS_LIMIT]],
        more=max(0, len(rows) - ROWS_LIMIT),
        limit=ctx.config.nexus.thresholds.blocked_alarm_hours,
    ))


def _row(row: DependencyRow, config: Config, home: str) -> dict[str, object]:
    return {
        "ref": row.ref.short(home),
        "title": row.title,
        "teams": team_names(row.teams, config),
        "status": STATUS_TEXT[row.status],
        "depends_on": [{"ref": d.ref.short(home), "teams": team_names(d.teams, config),
                        "status": STATUS_TEXT[d.status] if d.status else None} for d in row.depends_on],
        "since": moment(row.blocked_since, config) if row.blocked_since else None,
        "hours": row.blocked_hours,
    }
