"""``/nexus metrics [sprint N]`` and ``/nexus deps sprint``: the replies, against the in-memory context of
tests/test_commands_unit.py holding a hand-made history (calendar: sprint 1 from 2026-01-05, 14 days)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.commands import answer_comment
from tests.test_commands_unit import FakeContext, run
from tests.test_nexus_metrics import at, check, deployed, history, issue, org_config, pull, ref

NOW = at(2026, 2, 20, 12)  # sprint 4 (2026-02-16 to 2026-03-01) is running; sprint 3 has ended


def busy_history(now=NOW):
    items = [
        issue(1, "team:backend", closed=at(2026, 1, 25), points=20),  # sprint 2
        issue(2, "team:backend", closed=at(2026, 2, 10), points=13),  # sprint 3: 20 -> 15, -25 %
        issue(3, "team:backend", "team:frontend", closed=at(2026, 2, 11), points=2, split=[("backend", 2)]),
        issue(4, "team:frontend", "team:infra", closed=at(2026, 2, 12), points=8),  # unsplit
        pull(10, at(2026, 2, 3, 9), "backend"),  # integrated 50 h later
        pull(11, at(2026, 2, 13), "infra"),  # still waiting
        issue(20, "bug", "nexus", "team:ia", opened=at(2026, 2, 4)),
        issue(30, "team:ia", "blocked", blocked_since=now - timedelta(hours=30), depends_on=[ref(31)]),
        issue(31, "team:backend", "in progress"),
        issue(32, "team:frontend", depends_on=[ref(31)], closed=at(2026, 2, 17)),
    ]
    evidence = [deployed(at(2026, 2, 5, 11)), check("unit tests", at(2026, 2, 14))]
    return history(now, items, evidence)


@pytest.mark.asyncio
async def test_metrics_of_an_ended_sprint_alarms_first_then_the_numbers():
    ctx = FakeContext(history=busy_history(), is_pull_request=False, permissions={"alice": "read"})
    outcome = await run(ctx, "metrics sprint 3")
    assert outcome.ok and ctx.calls == [("nexus_history",)] and ctx.writes == []
    text = outcome.message
    assert text.startswith("**The Nexus in numbers: sprint 3** (2026-02-02 to 2026-02-15)")
    alarms = text.index("**Alarms**")
    table = text.index("| Team | Velocity (points) | vs sprint 2 |")
    assert alarms < table
    alarm_lines = [line for line in text[alarms:table].splitlines() if line.startswith("- ")]
    assert alarm_lines == [
        "- 🔴 Backend: velocity fell 25 % against sprint 2 (20 → 15 points; alarm beyond 20 %).",
        "- 🔴 Nexus: integration lead time 50.0 h (median; alarm over 48 h).",
        "- 🔴 Backend: integration lead time 50.0 h (median; alarm over 48 h).",
        "- 🔴 #11 PR 11: merged 180.0 h ago and not integrated yet (alarm over 48 h).",
    ]
    assert "| Backend | 15 | -25 % 🔴 | 50.0 h 🔴 | 50.0 h | 1/1 | 0 | 0 | 0 |" in text
    assert "| Infra | 0 | — | — | — | 0/1 | 1 | 0 | 0 |" in text
    assert "| IA | 0 | — | — | — | 0/0 | 0 | 1 | 0 |" in text
    assert "| **Nexus** | **23** | +15 % | 50.0 h 🔴 | 50.0 h | 1/2 | 1 | 1 | 0 |" in text
    assert "8 of the Nexus's points are of items owned by several teams without a split" in text
    assert "- #11 PR 11 (Infra): merged 2026-02-13 00:00 UTC, waiting 180.0 h 🔴" in text
    assert "**Cross-team bugs opened in the sprint**: #20." in text
    assert "**Blocked now**" not in text  # a past sprint: blockages are a state of now
    assert "| Team | Sprint 1 | Sprint 2 | Sprint 3 |" in text and "| **Nexus** | **0** | **20** | **23** |" in text
    assert 'x-axis ["Sprint 1", "Sprint 2", "Sprint 3"]' in text and "bar [0, 20, 23]" in text


@pytest.mark.asyncio
async def test_metrics_of_the_current_sprint_shows_the_blockages_and_judges_no_drop_yet():
    outcome = await run(FakeContext(history=busy_history()), "metrics")
    text = outcome.message
    assert text.startswith("**The Nexus in numbers: sprint 4** (2026-02-16 to 2026-03-01, in progress)")
    assert text.index("**Alarms**") < text.index("| Team |")
    assert "- 🔴 #30 Item 30: blocked for 30.0 h (a blockage must be resolved within 24 h)." in text
    assert "velocity fell" not in text  # 23 -> 0 so far, but the sprint is still running
    assert "The sprint is in progress" in text
    assert "- #30 Item 30 (IA): blocked since 2026-02-19 06:00 UTC, 30.0 h 🔴" in text
    assert "| IA | 0 | — | — | — | 0/0 | 0 | 0 | 1 (longest 30.0 h) 🔴 |" in text
    assert 'x-axis ["Sprint 1", "Sprint 2", "Sprint 3", "Sprint 4"]' in text


@pytest.mark.asyncio
async def test_metrics_reads_without_the_chart():
    """Forgejo shows the Mermaid block as code: the velocity table says the same."""
    text = (await run(FakeContext(history=busy_history()), "metrics sprint 3")).message
    before_chart = text[: text.index("```mermaid")]
    assert "| Backend | 0 | 20 | 15 |" in before_chart and "| Frontend | 0 | 0 | 0 |" in before_chart


@pytest.mark.asyncio
async def test_quiet_sprint_says_no_alarm():
    items = [issue(1, "team:backend", closed=at(2026, 2, 10), points=5), pull(2, at(2026, 2, 10), "backend")]
    ctx = FakeContext(history=history(NOW, items, [deployed(at(2026, 2, 10, 6))]))
    text = (await run(ctx, "metrics sprint 3")).message
    assert "No alarm." in text and "**Alarms**" not in text and "🔴" not in text.split("Goals:")[0]
    assert "| Backend | 5 | — | 6.0 h | 6.0 h | 1/1 | 0 | 0 | 0 |" in text


@pytest.mark.asyncio
@pytest.mark.parametrize("line, message", [
    ("metrics sprint 0", ("Sprints are numbered from 1: `/nexus metrics sprint 1` is the first, `/nexus metrics` the "
                          "current one.")),
    ("metrics sprint 5", "Sprint 5 has not started yet: it starts on 2026-03-02. `/nexus metrics` shows the current sprint."),
    ("metrics sprint 999999", "There is no sprint 999999 in the sprint calendar."),  # past the year 9999
    ("metrics sprint x", "Wrong arguments. Usage: `/nexus metrics [sprint N]`: Show the Nexus in numbers"),
    ("metrics 3", "Wrong arguments. Usage: `/nexus metrics [sprint N]`"),
    ("metrics sprint", "Wrong arguments. Usage: `/nexus metrics [sprint N]`"),
    ("metrics sprint -1", "Wrong arguments. Usage: `/nexus metrics [sprint N]`"),
], ids=["sprint 0", "a future sprint", "beyond the calendar", "not a number", "no sprint word", "no number", "negative"])
async def test_metrics_refuses_what_is_not_a_sprint_clearly(line, message):
    ctx = FakeContext(history=busy_history())
    outcome = await run(ctx, line)
    assert not outcome.ok and outcome.message.startswith(message), outcome.message
    assert ctx.writes == []


@pytest.mark.asyncio
async def test_before_the_first_sprint():
    outcome = await run(FakeContext(history=history(at(2025, 12, 20))), "metrics")
    assert not outcome.ok
    assert outcome.message.startswith("No sprint is running yet: sprint 1 starts on 2026-01-05")


@pytest.mark.asyncio
async def test_metrics_by_milestones():
    config = org_config(("    from_milestones: false", "    from_milestones: true"))
    milestones = [("Sprint 11", at(2026, 2, 6, 8)), ("Sprint 12", at(2026, 2, 20, 8)), ("Sprint 13", None)]
    items = [issue(1, "team:infra", closed=at(2026, 2, 7), points=3)]
    ctx = FakeContext(config=config, history=history(at(2026, 2, 10), items, milestones=milestones))
    text = (await run(ctx, "metrics")).message
    assert text.startswith("**The Nexus in numbers: sprint 12** (2026-02-07 to 2026-02-20, in progress)")
    assert "| Infra | 3 |" in text and "| Team | Sprint 11 | Sprint 12 |" in text
    refused = await run(ctx, "metrics sprint 13")
    assert refused.message.startswith('There is no sprint 13: no milestone titled like "Sprint 13"')
    late = FakeContext(config=config, history=history(at(2026, 3, 1), items, milestones=milestones))
    assert (await run(late, "metrics")).message.startswith("No sprint is running: no milestone")


@pytest.mark.asyncio
async def test_titles_people_wrote_are_escaped():
    items = [replace(pull(1, at(2026, 2, 17), "backend"), title="@nina <!-- x --> | [y](z)")]
    text = (await run(FakeContext(history=history(NOW, items)), "metrics")).message
    assert "@nina" not in text and "<!--" not in text and "| [y]" not in text
    assert "\\| \\[y\\]\\(z\\)" in text


@pytest.mark.asyncio
async def test_deps_sprint_renders_the_sprint_dependency_table():
    ctx = FakeContext(history=busy_history(), is_pull_request=False)
    outcome = await run(ctx, "deps sprint")
    assert outcome.ok and ctx.calls == [("nexus_history",)] and outcome.label_changes == ()
    text = outcome.message
    assert text.startswith("**Cross-team dependencies, sprint 4** (2026-02-16 to 2026-03-01)")
    rows = [line for line in text.splitlines() if line.startswith("| #")]
    assert rows == [
        "| #30 Item 30 | IA | #31 (Backend, In progress) | Backlog | Yes, since 2026-02-19 06:00 UTC (30.0 h) 🔴 |",
        "| #32 Item 32 | Frontend | #31 (Backend, In progress) | Done | No |",
    ]
    assert "blocked for more than 24 h" in text


@pytest.mark.asyncio
async def test_deps_sprint_with_nothing_to_show_and_deps_depth_unchanged():
    ctx = FakeContext(history=history(NOW, [issue(1, "team:backend", depends_on=[ref(2)]), issue(2, "team:backend")]))
    text = (await run(ctx, "deps SPRINT")).message
    assert "No open item depends on another team's item" in text and "| Backlog item |" not in text
    assert not (await run(ctx, "deps sprint 2")).ok  # "sprint" takes no number
    depth = await run(ctx, "deps 9")  # the depth path is as before
    assert depth.message.startswith("The depth is a number of links") and ctx.calls.count(("nexus_history",)) == 1


@pytest.mark.asyncio
async def test_metrics_in_a_comment_with_other_commands():
    ctx = FakeContext(history=busy_history())
    answer = await answer_comment(ctx, "/nexus metrics sprint 3\n/nexus deps sprint\n")
    assert answer is not None and not answer.reevaluate and answer.label_changes == []
    assert answer.reply.index("> /nexus metrics sprint 3") < answer.reply.index("> /nexus deps sprint")
    assert ctx.calls.count(("nexus_history",)) == 2
