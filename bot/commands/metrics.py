"""``/nexus metrics [sprint N]``: the Nexus in numbers for the current sprint (or sprint N).

The numbers come from ``bot/checks/nexus_metrics.py`` over the history the context reads
(``CommandContext.nexus_history``); the reply (``templates/metrics.md.j2``) puts the alarms first,
then one row per team and one for the Nexus, the pull requests waiting for integration, the
blockages, and the velocity of the last six sprints as a table and as a Mermaid chart (GitHub draws
it; Forgejo shows the code, and the table says the same). A sprint that is not there to report on is
refused with why (``sprint_reply.refusal``). All of it is written in the config's ``language``
(the template's ``_()``/``ngettext``; numbers the reader's way: 50,0 h in French), the end-of-sprint
report issue (``app/sprint_report.py``) too.
"""

from __future__ import annotations

import re

from ..checks.nexus_metrics import CHART_SPRINTS, LIST_LIMIT, Alarm, SprintMetrics, SprintUnknown, TeamRow, nexus_metrics
from ..config import Config
from .context import CommandContext
from .parser import Invocation
from ..msg import Msg
from .registry import REGISTRY, Command, Outcome, refused
from .reply import render
from .sprint_reply import moment, refusal, team_names

GRAMMAR = re.compile(r"(?:(?i:sprint) \d{1,6})?")  # nothing, or "sprint N"


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    number = int(invocation.args[1]) if invocation.args else None
    history = await ctx.nexus_history()
    try:
        metrics = nexus_metrics(history, ctx.config, number)
    except SprintUnknown as unknown:
        return refused(refusal(unknown, ctx.config, "metrics"))
    return Outcome(ok=True, message=render_metrics(metrics, ctx.config, ctx.repo))


def render_metrics(metrics: SprintMetrics, config: Config, home: str) -> str:
    limits = config.nexus.thresholds
    sprint = metrics.sprint
    rows = {row.team: row for row in (*metrics.teams, metrics.nexus)}
    named = {None: None, **{key: config.team_name(key) for key in config.teams}}
    chart = metrics.chart
    return render(
        "metrics.md.j2",
        config.lang,
        sprint=sprint.number,
        first_day=str(sprint.first_day),
        last_day=str(sprint.last_day),
        current=metrics.current,
        ended=metrics.ended,
        previous=chart[-2].sprint if len(chart) > 1 else None,
        alarms=[_alarm(alarm, rows.get(alarm.team), named.get(alarm.team), home) for alarm in metrics.alarms],
        rows=[_row(row, config) for row in metrics.teams],
        nexus=_row(metrics.nexus, config),
        waiting=[{"ref": w.ref.short(home), "title": w.title, "teams": team_names(w.teams, config),
                  "merged": moment(w.merged_at, config), "hours": w.hours, "alarm": w.alarm}
                 for w in metrics.waiting[:LIST_LIMIT]],
        waiting_more=max(0, len(metrics.waiting) - LIST_LIMIT),
        blockages=[{"ref": b.ref.short(home), "title": b.title, "teams": team_names(b.teams, config),
                    "since": moment(b.since, config), "hours": b.hours, "alarm": b.alarm}
                   for b in metrics.blockages[:LIST_LIMIT]],
        blockages_more=max(0, len(metrics.blockages) - LIST_LIMIT),
        bugs=[ref.short(home) for ref in metrics.bugs[:LIST_LIMIT]],
        bugs_more=max(0, len(metrics.bugs) - LIST_LIMIT),
        chart_sprints=[point.sprint for point in chart],
        chart_rows=[{"name": config.team_name(key), "points": [dict(point.teams)[key] for point in chart]}
                    for key in config.teams],
        chart_nexus=[point.nexus for point in chart],
        chart_max=max([1, *(point.nexus for point in chart)]),
        chart_length=CHART_SPRINTS,
        names=list(metrics.integration_names),
        environment=metrics.environment,
        limits=limits,
        prefix=config.command_prefix,
    )


def _row(row: TeamRow, config: Config) -> dict[str, object]:
    limits = config.nexus.thresholds
    return {
        "name": config.team_name(row.team) if row.team else None,
        "velocity": row.velocity,
        "change": row.change_percent,
        "velocity_alarm": row.velocity_alarm,
        "merged": row.merged,
        "integrated": row.integrated,
        "median": row.lead_median_hours,
        "p90": row.lead_p90_hours,
        "lead_state": row.lead_state,
        "waiting": row.waiting,
        "bugs": row.bugs,
        "bugs_alarm": row.team is None and row.bugs >= limits.cross_team_bugs_goal,
        "blocked": row.blocked,
        "blocked_longest": row.blocked_longest_hours,
        "blocked_alarm": row.blocked_longest_hours is not None and row.blocked_longest_hours > limits.blocked_alarm_hours,
        "unsplit": row.unsplit,
        "no_team": row.no_team,
        "unestimated": row.unestimated,
    }


def _alarm(alarm: Alarm, row: TeamRow | None, team: str | None, home: str) -> dict[str, object]:
    return {
        "kind": alarm.kind,
        "team": team,
        "value": alarm.value,
        "threshold": alarm.threshold,
        "ref": alarm.ref.short(home) if alarm.ref else None,
        "title": alarm.title,
        "velocity": row.velocity if row else None,
        "previous": row.previous if row else None,
    }


REGISTRY.add(
    Command(
        name="metrics",
        usage="[sprint N]",
        help=Msg("Show the Nexus in numbers for the current sprint (or sprint N): velocity, integration lead time, "
                 "cross-team bugs, blockages, alarms first."),
        handler=handle,
        grammar=GRAMMAR,
    )
)
