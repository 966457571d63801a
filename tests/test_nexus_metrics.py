"""The Nexus in numbers (issue 14): sprint arithmetic and the metrics, against hand-made histories.

Default calendar: sprint 1 starts on Monday 2026-01-05, 14 days each, UTC; so sprint 3 runs from
2026-02-02 to 2026-02-15 and sprint 4 starts on 2026-02-16.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from bot.checks.deps import Status
from bot.checks.nexus_metrics import (
    SprintUnknown,
    integration_names,
    nexus_metrics,
    resolve_sprint,
    sprint_dependencies,
)
from bot.checks.sprints import FixedCalendar, MilestoneCalendar, calendar, milestone_sprints
from bot.config import default_config_text, load_config
from bot.config.nexus import zone
from bot.history import IntegrationEvidence, ItemRecord, NexusHistory
from bot.model import ItemRef

CONFIG = load_config(default_config_text())
UTC = timezone.utc


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def org_config(*replacements: tuple[str, str]):
    """The embedded config with some of its lines changed, loaded as an organisation's file."""
    text = default_config_text()[1]
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return load_config(("org/.github/nexus.yml", text))


def ref(number: int, repo: str = "org/api") -> ItemRef:
    return ItemRef("github", repo, number)


def issue(number: int, *labels: str, opened: datetime = at(2026, 2, 3), closed: datetime | None = None,
          completed: bool = True, points: int | None = None, split=(), blocked_since=None, depends_on=(),
          repo: str = "org/api") -> ItemRecord:
    return ItemRecord(ref(number, repo), False, f"Item {number}", opened, closed or opened, frozenset(labels),
                      closed_at=closed, completed=completed and closed is not None, points=points,
                      team_points=tuple(split), blocked_since=blocked_since,
                      depends_on=tuple(depends_on))


def pull(number: int, merged: datetime | None, *teams: str, base: str = "main", repo: str = "org/api",
         closes=(), labels=()) -> ItemRecord:
    return ItemRecord(ref(number, repo), True, f"PR {number}", at(2026, 2, 2), merged or at(2026, 2, 2),
                      frozenset(labels), closed_at=merged, merged_at=merged, base=base, teams=tuple(teams),
                      closes=tuple(closes))


def deployed(when: datetime, repo: str = "org/api", environment: str = "staging", branch: str | None = "main"):
    return IntegrationEvidence(repo, "sha", "deployment", when, branch=branch, environment=environment)


def check(name: str, when: datetime, branch: str | None = "main", repo: str = "org/api"):
    return IntegrationEvidence(repo, "sha", name, when, branch=branch)


def history(now: datetime, items=(), evidence=(), milestones=()) -> NexusHistory:
    return NexusHistory(now, tuple(items), tuple(evidence), tuple(milestones))


def row(metrics, team):
    return metrics.nexus if team is None else next(r for r in metrics.teams if r.team == team)


def kinds(metrics) -> list[tuple[str, str | None]]:
    return [(a.kind, a.team) for a in metrics.alarms]


# ----- sprints --------------------------------------------------------------------------------

def test_fixed_calendar_numbers_from_one_at_midnight():
    cal = calendar(CONFIG.nexus.sprint)
    assert isinstance(cal, FixedCalendar)
    assert cal.number(at(2026, 1, 4, 23, 59, 59)) is None  # before sprint 1
    assert cal.number(at(2026, 1, 5)) == 1
    assert cal.number(at(2026, 2, 15, 23, 59, 59)) == 3
    assert cal.number(at(2026, 2, 16)) == 4
    three = cal.sprint(3)
    assert (three.start, three.end) == (at(2026, 2, 2), at(2026, 2, 16))
    assert (three.first_day, three.last_day) == (date(2026, 2, 2), date(2026, 2, 15))
    assert cal.sprint(0) is None
    assert [s.number for s in cal.before(3, 6)] == [1, 2, 3]
    assert [s.number for s in cal.before(10, 6)] == [5, 6, 7, 8, 9, 10]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["UTC", "Europe/Paris", "America/Los_Angeles", "Australia/Lord_Howe"]),
       st.integers(min_value=1, max_value=30))
def test_every_instant_falls_in_the_sprint_its_number_names(instant, zone_name, length):
    cal = FixedCalendar(date(2026, 1, 5), length, zone(zone_name))
    number = cal.number(instant)
    if number is None:
        assert instant < cal.sprint(1).start
    else:
        sprint = cal.sprint(number)
        assert instant in sprint and cal.sprint(number + 1).start == sprint.end
        assert sprint.start.astimezone(zone(zone_name)).time().hour == 0


def test_sprints_start_at_midnight_in_the_configured_zone():
    config = org_config(("    timezone: UTC", "    timezone: Europe/Paris"))
    cal = calendar(config.nexus.sprint)
    # 23:30 UTC on Sunday is 00:30 on Monday in Paris: the next sprint has begun
    assert cal.number(at(2026, 2, 15, 23, 30)) == 4
    assert cal.sprint(4).start == at(2026, 2, 15, 23)
    # across the change to summer time (29 March 2026), sprints still start at local midnight
    summer = cal.sprint(cal.number(at(2026, 4, 10)))
    assert summer.start.astimezone(zone("Europe/Paris")).hour == 0 and summer.start.utcoffset() == timedelta(0)


def test_sprints_from_milestones():
    cal = milestone_sprints(
        [("Sprint 1", date(2026, 1, 16)), ("Sprint 2", datetime(2026, 1, 30, 8, tzinfo=UTC)), ("Backlog", None),
         ("sprint 3", date(2026, 1, 20)),  # due before sprint 2 ends: not a sprint of this calendar
         ("Sprint 4", date(2026, 2, 13)), ("Sprint 5", None), ("Sprint 4", date(2026, 2, 20)),
         ("Sprint 99", date.max)],  # due on the last day there is: no end to it
        CONFIG.nexus.sprint.milestone_pattern, 14)
    assert [s.number for s in cal.sprints] == [1, 2, 4]
    one, two, four = cal.sprints
    assert (one.first_day, one.last_day) == (date(2026, 1, 3), date(2026, 1, 16))
    assert (two.first_day, two.last_day) == (date(2026, 1, 17), date(2026, 1, 30))
    assert (four.first_day, four.last_day) == (date(2026, 1, 31), date(2026, 2, 13))  # the first one due counts
    assert cal.number(at(2026, 1, 30, 23, 59, 59)) == 2
    assert cal.number(at(2026, 1, 31)) == 4
    assert cal.number(at(2026, 2, 14)) is None and cal.number(at(2026, 1, 2)) is None
    assert cal.sprint(3) is None
    assert [s.number for s in cal.before(4, 2)] == [2, 4]


def test_milestones_are_used_only_when_asked_and_present():
    config = org_config(("    from_milestones: false", "    from_milestones: true"))
    assert isinstance(calendar(config.nexus.sprint, [("Sprint 7", date(2026, 3, 1))]), MilestoneCalendar)
    assert isinstance(calendar(config.nexus.sprint, [("Release 1.0", date(2026, 3, 1))]), FixedCalendar)
    assert isinstance(calendar(CONFIG.nexus.sprint, [("Sprint 7", date(2026, 3, 1))]), FixedCalendar)


def test_resolve_sprint_refuses_what_is_not_a_started_sprint():
    cal = calendar(CONFIG.nexus.sprint)
    now = at(2026, 2, 20)
    assert resolve_sprint(cal, now).number == 4
    assert resolve_sprint(cal, now, 3).number == 3
    for number, reason in ((0, "from_one"), (5, "not_started"), (-2, "from_one")):
        with pytest.raises(SprintUnknown) as info:
            resolve_sprint(cal, now, number)
        assert info.value.reason == reason
    with pytest.raises(SprintUnknown) as info:
        resolve_sprint(cal, at(2025, 12, 1))
    assert info.value.reason == "no_current" and info.value.sprint.number == 1


# ----- velocity -------------------------------------------------------------------------------

def test_velocity_sprint_edges():
    items = [
        issue(1, "team:backend", closed=at(2026, 2, 15, 23, 59, 59), points=5),  # last second of sprint 3
        issue(2, "team:backend", closed=at(2026, 2, 16), points=8),  # first instant of sprint 4
    ]
    three = nexus_metrics(history(at(2026, 2, 20), items), CONFIG, 3)
    four = nexus_metrics(history(at(2026, 2, 20), items), CONFIG)
    assert four.sprint.number == 4 and four.current and not four.ended
    assert (row(three, "backend").velocity, row(three, None).velocity) == (5, 5)
    assert (row(four, "backend").velocity, row(four, "backend").previous) == (8, 5)
    assert [(p.sprint, p.nexus) for p in four.chart] == [(1, 0), (2, 0), (3, 5), (4, 8)]
    assert dict(four.chart[-1].teams)["backend"] == 8


def test_velocity_attribution_split_unsplit_no_team_unestimated():
    done = at(2026, 2, 10)
    items = [
        issue(1, "team:backend", "team:frontend", closed=done, points=5, split=[("backend", 3), ("frontend", 2)]),
        issue(2, "team:backend", "team:infra", closed=done, points=8),  # several teams, no split: Nexus only
        issue(3, "team:infra", closed=done, points=2),  # one team
        issue(4, "bug", closed=done, points=1),  # no team
        issue(5, "team:ia", closed=done),  # no estimate
        issue(6, "team:ia", closed=done, split=[("ia", 3), ("frontend", 1)]),  # a split without a total
        pull(7, done, "backend"),  # pull requests carry no velocity
    ]
    metrics = nexus_metrics(history(at(2026, 2, 20), items), CONFIG, 3)
    assert {r.team: r.velocity for r in metrics.teams} == {"backend": 3, "frontend": 3, "infra": 2, "ia": 3}
    nexus = metrics.nexus
    assert (nexus.velocity, nexus.unsplit, nexus.no_team, nexus.unestimated) == (5 + 8 + 2 + 1 + 4, 8, 1, 1)


def test_reopened_and_not_completed_items_count_for_nothing():
    items = [
        issue(1, "team:backend", points=5),  # reopened: its record has no closed_at any more
        issue(2, "team:backend", closed=at(2026, 2, 10), completed=False, points=8),  # closed as not planned
        issue(3, "team:backend", closed=at(2026, 2, 10), points=3),
    ]
    metrics = nexus_metrics(history(at(2026, 2, 20), items), CONFIG, 3)
    assert row(metrics, "backend").velocity == 3 and metrics.nexus.velocity == 3


def _two_sprints(before: int, now_points: int) -> list[ItemRecord]:
    return [issue(1, "team:backend", closed=at(2026, 1, 25), points=before),
            issue(2, "team:backend", closed=at(2026, 2, 10), points=now_points)]


def test_velocity_drop_of_25_percent_is_an_alarm_once_the_sprint_has_ended():
    items = _two_sprints(20, 15)
    ended = nexus_metrics(history(at(2026, 2, 20), items), CONFIG, 3)
    assert row(ended, "backend").change_percent == -25 and row(ended, "backend").velocity_alarm == "drop"
    assert kinds(ended) == [("velocity_drop", None), ("velocity_drop", "backend")]  # the Nexus first
    assert ended.alarms[0].value == 25 and ended.alarms[0].threshold == 20
    running = nexus_metrics(history(at(2026, 2, 12), items), CONFIG, 3)  # sprint 3 still filling up
    assert running.current and running.alarms == ()


@pytest.mark.parametrize("before, after, alarm", [(20, 16, None), (20, 26, None), (20, 27, "rise"), (0, 13, None)],
                         ids=["drop of 20 % exactly", "rise of 30 % exactly", "rise of 35 %", "no baseline"])
def test_velocity_thresholds(before, after, alarm):
    metrics = nexus_metrics(history(at(2026, 2, 20), _two_sprints(before, after)), CONFIG, 3)
    assert row(metrics, "backend").velocity_alarm == alarm
    assert ("velocity_rise", "backend") in kinds(metrics) if alarm else kinds(metrics) == []


def test_velocity_alarm_thresholds_are_config():
    config = org_config(("    velocity_drop_percent: 20", "    velocity_drop_percent: 30"))
    metrics = nexus_metrics(history(at(2026, 2, 20), _two_sprints(20, 15)), config, 3)
    assert metrics.alarms == ()


# ----- integration lead time ------------------------------------------------------------------

def test_merged_before_and_deployed_after_a_sprint_boundary_counts_in_the_sprint_of_the_merge():
    items = [pull(1, at(2026, 2, 15, 22), "backend")]
    evidence = [deployed(at(2026, 2, 16, 4))]
    three = nexus_metrics(history(at(2026, 2, 20), items, evidence), CONFIG, 3)
    four = nexus_metrics(history(at(2026, 2, 20), items, evidence), CONFIG, 4)
    assert (three.nexus.integrated, three.nexus.lead_median_hours, three.nexus.lead_state) == (1, 6, "met")
    assert row(three, "backend").lead_median_hours == 6 and row(three, "frontend").lead_median_hours is None
    assert four.nexus.merged == 0 and four.nexus.lead_median_hours is None


def test_what_counts_as_integration_evidence():
    merged = at(2026, 2, 10, 12)
    cases = {
        1: [deployed(merged)],  # a deployment at the merge itself
        2: [check("deploy staging (smoke)", merged + timedelta(hours=2))],  # DoD item 17's check, on main
        3: [deployed(merged + timedelta(hours=3), branch=None)],  # the forge did not say which branch
        4: [check("Smoke tests", merged + timedelta(hours=4), branch=None)],  # a check of an unknown branch
        5: [deployed(merged + timedelta(hours=5), environment="production")],
        6: [deployed(merged + timedelta(hours=6), repo="org/web")],  # another repository
        7: [deployed(merged - timedelta(minutes=1))],  # before the merge
        8: [check("unit tests", merged + timedelta(hours=8))],  # not an integration check
        9: [deployed(merged + timedelta(hours=9), branch="feature/x")],  # another branch deployed
    }
    for number, evidence in cases.items():
        metrics = nexus_metrics(history(at(2026, 2, 20), [pull(number, merged, "backend")], evidence), CONFIG, 3)
        integrated = {1: 0, 2: 2, 3: 3}.get(number)
        assert metrics.nexus.lead_median_hours == integrated, number
        assert metrics.nexus.waiting == (0 if integrated is not None else 1), number


def test_first_evidence_after_each_merge_median_p90_and_teams():
    base = at(2026, 2, 3)
    hours = [1, 2, 3, 4, 5, 6, 7, 8, 9, 30]
    items = [pull(n, base + timedelta(days=n), *(("backend", "frontend") if n == 9 else ("backend",)))
             for n in range(len(hours))]
    evidence = [deployed(base + timedelta(days=n, hours=h)) for n, h in enumerate(hours)]
    evidence += [deployed(base + timedelta(days=n, hours=h + 1)) for n, h in enumerate(hours)]  # later ones ignored
    metrics = nexus_metrics(history(at(2026, 2, 20), items, evidence), CONFIG, 3)
    nexus = metrics.nexus
    assert (nexus.integrated, nexus.lead_median_hours, nexus.lead_p90_hours, nexus.lead_state) == (10, 5.5, 9, "met")
    frontend = row(metrics, "frontend")
    assert (frontend.integrated, frontend.lead_median_hours, frontend.lead_state) == (1, 30, "missed")


def test_lead_time_over_48_hours_is_an_alarm_and_waiting_prs_are_listed_with_their_age():
    now = at(2026, 2, 15, 12)
    items = [
        pull(1, at(2026, 2, 3), "infra"),  # integrated after 50 h
        pull(2, at(2026, 2, 12), "infra"),  # waiting 84 h: an alarm
        pull(3, at(2026, 2, 15), "infra"),  # waiting 12 h
        pull(4, at(2026, 2, 4), "infra", base="release/1.0"),  # not into an integration branch: not measured
        pull(5, None, "infra"),  # not merged
    ]
    evidence = [deployed(at(2026, 2, 5, 2))]
    metrics = nexus_metrics(history(now, items, evidence), CONFIG)
    infra = row(metrics, "infra")
    assert (infra.merged, infra.integrated, infra.lead_median_hours, infra.lead_state, infra.waiting) == (
        3, 1, 50, "alarm", 2)
    assert [(w.ref.number, w.hours, w.alarm) for w in metrics.waiting] == [(2, 84, True), (3, 12, False)]
    assert kinds(metrics) == [("lead_time", None), ("lead_time", "infra"), ("waiting", None)]
    assert metrics.alarms[-1].ref == ref(2)


def test_integration_names_default_to_dod_item_17_and_may_be_configured():
    assert integration_names(CONFIG) == ("*staging*", "*smoke*")
    config = org_config(('    # names: ["*staging*", "*smoke*"]', '    names: ["integration*"]'))
    assert integration_names(config) == ("integration*",)
    merged = at(2026, 2, 10)
    evidence = [check("deploy-staging", merged + timedelta(hours=1)), check("Integration suite", merged + timedelta(hours=2))]
    metrics = nexus_metrics(history(at(2026, 2, 20), [pull(1, merged, "ia")], evidence), config, 3)
    assert metrics.nexus.lead_median_hours == 2


# ----- cross-team bugs and blockages -------------------------------------------------------------

def test_cross_team_bugs_by_current_labels_opened_in_the_sprint():
    items = [
        issue(1, "bug", "nexus", "team:backend"),
        issue(2, "bug", "team:backend", "team:frontend"),
        issue(3, "bug", "team:backend"),  # was labelled nexus, lost it: no longer cross-team
        issue(4, "feature", "nexus"),  # not a bug
        issue(5, "Bug", "Nexus", opened=at(2026, 1, 30)),  # opened in sprint 2
        issue(6, "bug", "nexus", closed=at(2026, 2, 4), completed=False),  # a duplicate
        issue(7, "bug", "nexus", closed=at(2026, 2, 4)),  # fixed: still a bug found in the sprint
    ]
    metrics = nexus_metrics(history(at(2026, 2, 20), items), CONFIG, 3)
    assert [r.number for r in metrics.bugs] == [1, 2, 7]
    assert (metrics.nexus.bugs, row(metrics, "backend").bugs, row(metrics, "frontend").bugs) == (3, 2, 1)
    assert "cross_team_bugs" not in [kind for kind, _ in kinds(metrics)]
    five = items + [issue(n, "bug", "nexus") for n in (8, 9)]
    metrics = nexus_metrics(history(at(2026, 2, 20), five), CONFIG, 3)
    assert metrics.nexus.bugs == 5 and ("cross_team_bugs", None) in kinds(metrics)


def test_blockages_now_with_how_long_alarm_past_24_hours():
    now = at(2026, 2, 18, 12)
    items = [
        issue(1, "team:backend", "blocked", blocked_since=now - timedelta(hours=30)),
        issue(2, "team:frontend", "blocked", blocked_since=now - timedelta(hours=23)),
        issue(3, "team:frontend", blocked_since=now - timedelta(hours=90), closed=at(2026, 2, 17)),  # closed since
    ]
    metrics = nexus_metrics(history(now, items), CONFIG)
    assert [(b.ref.number, b.hours, b.alarm) for b in metrics.blockages] == [(1, 30, True), (2, 23, False)]
    assert (row(metrics, "backend").blocked, row(metrics, "backend").blocked_longest_hours) == (1, 30)
    assert metrics.nexus.blocked == 2
    assert kinds(metrics) == [("blocked", None)] and metrics.alarms[0].ref == ref(1)
    past = nexus_metrics(history(now, items), CONFIG, 3)  # a state, not a history: only the current sprint
    assert past.blockages == () and past.nexus.blocked == 0


def test_alarms_come_in_a_fixed_order():
    now = at(2026, 2, 20)  # sprint 4 running; sprint 3 reported, ended
    items = _two_sprints(20, 15) + [
        pull(10, at(2026, 2, 3), "backend"),
        *[issue(20 + n, "bug", "nexus") for n in range(5)],
        issue(30, "team:ia", blocked_since=at(2026, 2, 1)),
    ]
    metrics = nexus_metrics(history(now, items, [deployed(at(2026, 2, 6))]), CONFIG, 3)
    assert kinds(metrics) == [("velocity_drop", None), ("velocity_drop", "backend"), ("lead_time", None),
                              ("lead_time", "backend"), ("cross_team_bugs", None)]


# ----- the sprint's dependency table ---------------------------------------------------------------

def test_sprint_dependencies():
    now = at(2026, 2, 20)  # sprint 4
    items = [
        issue(1, "team:backend", "in progress"),  # the API
        issue(2, "team:frontend", depends_on=[ref(1)], blocked_since=at(2026, 2, 19)),  # UI waits for the API
        issue(3, "team:backend", depends_on=[ref(1)]),  # same team: not a cross-team dependency
        issue(4, "team:backend", depends_on=[ref(9, "org/infra")]),  # mail quota, Infra's
        issue(9, "team:infra", "ready", repo="org/infra"),
        issue(5, "team:frontend", depends_on=[ref(1)], closed=at(2026, 2, 17)),  # done in the sprint
        issue(6, "team:frontend", depends_on=[ref(1)], closed=at(2026, 2, 10)),  # done in sprint 3
        issue(7, "team:frontend", depends_on=[ref(99)]),  # an item the bot has no record of
        issue(8, "team:ia", depends_on=[ref(11)]),
        pull(11, None, "backend", closes=[ref(12)]),
        issue(12, "team:backend"),
        issue(13, "team:ia", depends_on=[ref(12)]),  # an open pull request closes #12: in review
    ]
    sprint, rows = sprint_dependencies(history(now, items), CONFIG)
    assert sprint.number == 4
    assert [r.ref.number for r in rows] == [2, 4, 8, 13, 5]
    blocked = rows[0]
    assert (blocked.teams, blocked.status, blocked.blocked_hours) == (("frontend",), Status.BACKLOG, 24)
    assert [(d.ref, d.teams, d.status) for d in blocked.depends_on] == [(ref(1), ("backend",), Status.IN_PROGRESS)]
    assert rows[1].depends_on[0].status is Status.READY and rows[1].depends_on[0].teams == ("infra",)
    assert rows[2].depends_on[0].status is Status.IN_REVIEW  # a pull request
    assert rows[3].depends_on[0].status is Status.IN_REVIEW  # closed by an open pull request
    assert rows[4].status is Status.DONE and rows[4].blocked_since is None
