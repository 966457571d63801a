"""Every evidence kind and condition of the rules engine, table-driven, without any forge."""

from __future__ import annotations

import pytest

from bot.checks import Context, Facts, evaluate
from bot.checks import check, checkbox, files, labels, metric, section
from bot.checks.approvals import judge as approvals_judge
from bot.checks.conditions import applies
from bot.checks.approvals import ApprovalsEvidence
from bot.checks.check import CheckEvidence
from bot.checks.checkbox import CheckboxEvidence
from bot.checks.files import FilesEvidence
from bot.checks.labels import LabelEvidence
from bot.checks.metric import MetricEvidence
from bot.checks.section import SectionEvidence
from bot.checks.text import Text
from bot.config import Condition
from bot.model import State, Waiver

from .guards import no_hang
from .builders import default_config, ok, pr, review, running


def checkboxes(body: str) -> list[tuple[bool, str]]:
    return Text(body).checkboxes


def judge(module, evidence, snapshot):
    return module.judge(evidence, Facts.of(snapshot, default_config()))


# ---- check --------------------------------------------------------------------------------

CHECK_CASES = [
    ("passes when a matching check succeeded", ["test*"], [ok("tests")], State.PASSED),
    ("neutral and skipped count as success", ["lint*"], [ok("lint", conclusion="neutral")], State.PASSED),
    ("pending while running", ["test*"], [running("tests")], State.PENDING),
    ("pending when not reported yet", ["test*"], [], State.PENDING),
    ("fails when one matching check failed", ["test*"], [ok("tests"), ok("test-e2e", conclusion="failure", id=2)], State.FAILED),
    ("case-insensitive glob", ["*AUDIT*"], [ok("Security: cargo audit")], State.PASSED),
    ("latest run of a name wins", ["tests"], [ok("tests", conclusion="failure", id=1), ok("tests", id=2)], State.PASSED),
    ("the bot's own check is no evidence", ["nexus*"], [ok("Nexus DoD")], State.PENDING),
]


@pytest.mark.parametrize("name,names,checks,expected", CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check(name, names, checks, expected):
    assert judge(check, CheckEvidence(kind="check", names=names), pr(checks=checks)).state is expected


def test_check_missing_can_fail_and_require_all():
    ev = CheckEvidence(kind="check", names=["unit*", "e2e*"], require="all", missing="fail")
    result = judge(check, ev, pr(checks=[ok("unit")]))
    assert result.state is State.FAILED and "e2e*" in result.reason
    assert judge(check, ev, pr(checks=[ok("unit"), ok("e2e", id=2)])).state is State.PASSED


def test_failed_check_says_what_to_do():
    result = judge(check, CheckEvidence(kind="check", names=["lint"]), pr(checks=[ok("lint", conclusion="failure")]))
    assert "lint (failure)" in result.reason and "fix" in result.action


# ---- metric -------------------------------------------------------------------------------

COV = MetricEvidence(kind="metric", names=["coverage*"], op=">=", threshold=90, unit="%")
METRIC_CASES = [
    ("91.2 % passes", COV, "Coverage: 91.2 % of lines", State.PASSED),
    ("85 % fails", COV, "Coverage: 85%", State.FAILED),
    ("decimal comma", COV, "Couverture : 90,5 %", State.PASSED),
    ("exactly the threshold with >=", COV, "90%", State.PASSED),
    ("the number next to the unit, not the first", COV, "3 files, 92.0% covered", State.PASSED),
    ("p99 with a pattern", MetricEvidence(kind="metric", names=["bench*"], pattern=r"(?i)p99[^0-9]*([0-9]+(?:[.,][0-9]+)?)", op="<", threshold=5, unit="ms"), "p50 1.2 ms, P99: 4.1 ms", State.PASSED),
    ("p99 too slow", MetricEvidence(kind="metric", names=["bench*"], pattern=r"(?i)p99[^0-9]*([0-9]+(?:[.,][0-9]+)?)", op="<", threshold=5, unit="ms"), "P99 7.9 ms", State.FAILED),
    ("thousands separator", MetricEvidence(kind="metric", names=["load*"], op=">", threshold=287, unit="req/s"), "sustained 1,312 req/s", State.PASSED),
    ("grams of CO2", MetricEvidence(kind="metric", names=["co2*"], op="<", threshold=0.12, unit="g"), "0.09 g per request", State.PASSED),
    ("no number at all", COV, "coverage report uploaded", State.FAILED),
]


@pytest.mark.parametrize("name,ev,text,expected", METRIC_CASES, ids=[c[0] for c in METRIC_CASES])
def test_metric(name, ev, text, expected):
    check_name = ev.names[0].rstrip("*") + "job"
    assert judge(metric, ev, pr(checks=[ok(check_name, text)])).state is expected


def test_metric_reason_names_value_and_threshold():
    result = judge(metric, COV, pr(checks=[ok("coverage-backend", "Coverage 85.0%")]))
    assert result.reason == "coverage-backend: 85 %, needs >= 90 %"


def test_metric_pending_while_running_and_when_absent():
    assert judge(metric, COV, pr(checks=[running("coverage")])).state is State.PENDING
    assert judge(metric, COV, pr()).state is State.PENDING


@pytest.mark.parametrize("raw,value", [("91.2", 91.2), ("91,2", 91.2), ("1,234.5", 1234.5), ("1.234,5", 1234.5),
                                       ("1\u202f234,5", 1234.5), ("1,234", 1234), ("0,125", 0.125), ("1.2.3", None)])
def test_read_number(raw, value):
    assert metric.read_number(raw) == value


# ---- files --------------------------------------------------------------------------------

FILES_CASES = [
    ("root changelog", ["backend/a.rs", "CHANGELOG.md"], True),
    ("nested changelog", ["frontend/CHANGELOG.md"], True),
    ("no files at all", [], False),
    ("similar name is not it", ["CHANGELOG.md.bak", "docs/CHANGELOG.txt"], False),
    ("unicode paths", ["docs/résumé.md", "CHANGELOG.md"], True),
]


@pytest.mark.parametrize("name,paths,passes", FILES_CASES, ids=[c[0] for c in FILES_CASES])
def test_files(name, paths, passes):
    ev = FilesEvidence(kind="files", patterns=["CHANGELOG.md", "**/CHANGELOG.md"])
    assert (judge(files, ev, pr(files=paths)).state is State.PASSED) == passes


def test_files_on_3000_files_finds_the_last_one():
    paths = [f"backend/src/m{i}.rs" for i in range(2999)] + ["CHANGELOG.md"]
    ev = FilesEvidence(kind="files", patterns=["CHANGELOG.md"])
    result = judge(files, ev, pr(files=paths))
    assert result.state is State.PASSED and result.reason == "CHANGELOG.md changed"


def test_adr_glob_and_negation():
    ev = FilesEvidence(kind="files", patterns=["docs/adr/*.md"])
    assert judge(files, ev, pr(files=["docs/adr/0007-queue.md"])).state is State.PASSED
    assert judge(files, ev, pr(files=["docs/adr/drafts/x.md"])).state is State.FAILED
    negated = FilesEvidence(kind="files", patterns=["docs/**", "!docs/drafts/**"])
    assert judge(files, negated, pr(files=["docs/drafts/a.md"])).state is State.FAILED
    assert judge(files, negated, pr(files=["docs/guide.md"])).state is State.PASSED


# ---- labels -------------------------------------------------------------------------------

def test_labels_present_and_absent():
    present = LabelEvidence(kind="label", present=["reviewed-by-po"])
    absent = LabelEvidence(kind="label", absent=["do-not-merge"])
    assert judge(labels, present, pr(labels=["reviewed-by-po"])).state is State.PASSED
    assert judge(labels, present, pr()).state is State.FAILED
    assert judge(labels, absent, pr()).state is State.PASSED
    assert judge(labels, absent, pr(labels=["do-not-merge"])).state is State.FAILED


# ---- checkbox and section -----------------------------------------------------------------

CHECKBOX_CASES = [
    ("dash x", "- [x] Logs anonymised", State.PASSED),
    ("star capital X", "* [X] logs anonymized (no PII)", State.PASSED),
    ("plus and numbered", "1. [x] PII removed from logs", State.PASSED),
    ("indented", "   - [x] PII removed", State.PASSED),
    ("unticked", "- [ ] Logs anonymised", State.FAILED),
    ("empty brackets", "- [] Logs anonymised", State.FAILED),
    ("absent", "Nothing to declare", State.FAILED),
    ("inside a code block it does not count", "```\n- [x] Logs anonymised\n```", State.FAILED),
    ("inside an HTML comment it does not count", "<!-- - [x] Logs anonymised -->", State.FAILED),
    ("CRLF line ends", "Intro\r\n- [x] Logs anonymised\r\n", State.PASSED),
]


@pytest.mark.parametrize("name,body,expected", CHECKBOX_CASES, ids=[c[0] for c in CHECKBOX_CASES])
def test_checkbox(name, body, expected):
    ev = CheckboxEvidence(kind="checkbox", text="(?i)pii|anonymi[sz]ed")
    assert judge(checkbox, ev, pr(body=body)).state is expected


SECTION_CASES = [
    ("markdown heading", "## Rollback plan\nRevert the migration 0042.\n## Tests\nok", State.PASSED),
    ("bold heading", "**Rollback plan**\nRedeploy v1.4.2", State.PASSED),
    ("label line", "Rollback plan: redeploy the previous image", State.PASSED),
    ("empty section", "## Rollback plan\n\n## Tests\nall green", State.FAILED),
    ("only a template comment", "## Rollback plan\n<!-- describe how to roll back -->\n", State.FAILED),
    ("missing", "## Summary\nNew endpoint", State.FAILED),
    ("French heading", "### Plan de rollback\nRetour à la version 1.4", State.PASSED),
    ("subsection belongs to the section", "## Rollback plan\n### Steps\n1. revert", State.PASSED),
]


@pytest.mark.parametrize("name,body,expected", SECTION_CASES, ids=[c[0] for c in SECTION_CASES])
def test_section(name, body, expected):
    ev = SectionEvidence(kind="section", heading="(?i)rollback")
    assert judge(section, ev, pr(body=body)).state is expected


def test_huge_unicode_body_is_read():
    body = ("Ünïcödé 😀 " * 100_000) + "\n- [x] PII removed\n" + ("- [ ] other\n" * 20_000)
    with no_hang():
        boxes = checkboxes(body)
    assert (True, "PII removed") in boxes and len(boxes) == 20_001


def test_unclosed_html_comments_do_not_backtrack():
    with no_hang():
        assert checkboxes("<!--" * 20_000 + "\n- [x] PII removed") == []


# ---- approvals ----------------------------------------------------------------------------

CROSS = ["backend/src/api.rs", "frontend/src/App.svelte"]
MEMBERS = {"backend": frozenset({"bob", "dana"}), "frontend": frozenset({"carol", "dana"})}


def approvals(snapshot, members=MEMBERS, config=None):
    facts = Facts.of(snapshot, config or default_config(), Context(members=members))
    return approvals_judge(ApprovalsEvidence(kind="approvals"), facts)


def test_cross_team_needs_one_approval_per_team():
    result = approvals(pr(files=CROSS, reviews=[review("bob", "APPROVED")]))
    assert result.state is State.PENDING
    assert "Frontend: approval still needed" in result.reason and "someone from Frontend" in result.reason
    both = approvals(pr(files=CROSS, reviews=[review("bob", "APPROVED"), review("carol", "APPROVED")]))
    assert both.state is State.PASSED


def test_member_of_both_teams_alone_is_not_two_reviewers():
    result = approvals(pr(files=CROSS, reviews=[review("dana", "APPROVED")]))
    assert result.state is State.PENDING and "1/2 approvals" in result.reason


def test_changes_requested_withdraws_an_approval():
    result = approvals(pr(files=CROSS, reviews=[review("bob", "APPROVED"), review("carol", "APPROVED"),
                                                review("bob", "CHANGES_REQUESTED")]))
    assert result.state is State.FAILED and "changes requested by bob" in result.reason


def test_comment_after_approval_keeps_it():
    result = approvals(pr(files=["backend/a.rs"], reviews=[review("bob", "APPROVED"), review("bob", "COMMENTED")]))
    assert result.state is State.PASSED


def test_author_approval_counts_for_nothing():
    result = approvals(pr(files=["backend/a.rs"], author="bob", reviews=[review("bob", "APPROVED")]))
    assert result.state is State.PENDING and "bob (author)" in result.reason


def test_stale_approvals_kept_by_default_dismissed_when_configured():
    from .builders import config_with

    stale = pr(files=["backend/a.rs"], reviews=[review("bob", "APPROVED", sha="old")])
    assert approvals(stale).state is State.PASSED
    strict = config_with("review:\n  dismiss_stale: true\n")
    result = approvals(stale, config=strict)
    assert result.state is State.PENDING and "older commit" in result.reason


def test_nexus_label_makes_a_change_cross_team():
    result = approvals(pr(files=["backend/a.rs"], labels=["nexus"], reviews=[review("bob", "APPROVED")]))
    assert "1/2 approvals" in result.reason


# ---- conditions ---------------------------------------------------------------------------

def facts_of(**kw):
    return Facts.of(pr(**kw), default_config())


CONDITION_CASES = [
    ("paths", Condition(paths=["migrations/"]), dict(files=["migrations/0042.sql"]), True),
    ("paths no match", Condition(paths=["migrations/"]), dict(files=["backend/a.rs"]), False),
    ("labels_any", Condition(labels_any=["major"]), dict(labels=["major"]), True),
    ("labels_none", Condition(labels_none=["skip-changelog"]), dict(labels=["skip-changelog"]), False),
    ("teams_any", Condition(teams_any=["infra"]), dict(files=[".github/workflows/ci.yml"]), True),
    ("cross_team", Condition(cross_team=True), dict(files=CROSS), True),
    ("single team", Condition(cross_team=True), dict(files=["frontend/a.ts"]), False),
    ("base branch glob", Condition(base_branches=["release/*"]), dict(base_ref="release/1.2"), True),
    ("base branch no match", Condition(base_branches=["release/*"]), dict(base_ref="main"), False),
    ("no files at all", Condition(teams_any=["backend"]), dict(files=[]), False),
]


@pytest.mark.parametrize("name,cond,snapshot,expected", CONDITION_CASES, ids=[c[0] for c in CONDITION_CASES])
def test_conditions(name, cond, snapshot, expected):
    holds, why = applies(cond, facts_of(**snapshot))
    assert holds is expected and (holds or why)


# ---- the whole verdict ----------------------------------------------------------------------

def test_verdict_states():
    cfg = default_config()
    missing = evaluate(pr(files=["docs/guide.md"]), cfg)
    assert missing.state is State.FAILED
    assert next(i for i in missing.items if i.id == "changelog").state is State.FAILED
    waiting = evaluate(pr(files=["docs/guide.md", "CHANGELOG.md"]), cfg)
    assert waiting.state is State.PENDING  # CI and reviews not in yet: waiting, never failed
    assert not [i for i in waiting.items if i.state is State.FAILED]


def test_waiver_turns_a_failure_into_waived():
    verdict = evaluate(pr(files=["docs/guide.md"]), default_config(),
                       Context(waivers={"changelog": Waiver("changelog", "nina", "hotfix")}))
    item = next(i for i in verdict.items if i.id == "changelog")
    assert item.state is State.WAIVED and "nina" in item.reason and "hotfix" in item.reason


def test_team_additions_apply_only_to_their_team():
    verdict = evaluate(pr(files=["frontend/src/App.svelte"]), default_config())
    states = {i.id: i.state for i in verdict.items}
    assert states["frontend-a11y"] is State.PENDING
    assert states["backend-migration"] is State.NOT_APPLICABLE
    assert states["integration-tests"] is State.NOT_APPLICABLE


def test_codeowners_team_handles_win_over_config_paths():
    codeowners = "* @org/frontend\n/.github/workflows/ @org/infra\n"
    facts = Facts.of(pr(files=[".github/workflows/ci.yml", "backend/x.rs"], codeowners=codeowners), default_config())
    assert facts.teams == ["frontend", "infra"]


FORGEJO_CODEOWNERS_CASES = [
    ("regex on the whole path", "\\.github/workflows/.* @org/infra\n", ".github/workflows/ci.yml", ["@org/infra"]),
    ("anchored: no match in the middle", "workflows/.* @org/infra\n", ".github/workflows/ci.yml", []),
    ("every matching line applies", ".*\\.rs @org/backend\nbackend/.* @org/ia\n", "backend/a.rs", ["@org/backend", "@org/ia"]),
    ("a leading ! excludes", ".*\\.rs @org/backend\n!vendor/.* @org/backend\n", "vendor/x.rs", []),
    ("an unreadable line is skipped", "[bad @org/x\n.* @org/ia\n", "a.py", ["@org/ia"]),
    ("comments and blank lines", "# owners\n\n.* @org/ia # everyone\n", "a.py", ["@org/ia"]),
]


@pytest.mark.parametrize("name,text,path,handles", FORGEJO_CODEOWNERS_CASES, ids=[c[0] for c in FORGEJO_CODEOWNERS_CASES])
def test_forgejo_codeowners_syntax(name, text, path, handles):
    from bot.forges.forgejo_codeowners import ForgejoCodeOwners

    assert [h for _, h in ForgejoCodeOwners(text).of(path)] == handles


def test_labels_are_compared_as_forges_compare_them():
    """A repository's own ``Major`` or ``NEXUS`` label is the config's ``major`` / ``nexus``."""
    facts = Facts.of(pr(files=["backend/a.rs"], labels=["Major", "NEXUS"]), default_config())
    assert applies(Condition(labels_any=["major"]), facts)[0]
    assert facts.cross_team
    assert judge(labels, LabelEvidence(kind="label", absent=["major"]), pr(labels=["MAJOR"])).state is State.FAILED


def test_label_convergence_ignores_case():
    from types import SimpleNamespace

    from bot.model import carried_labels, has_label, missing_labels

    names = SimpleNamespace(missing=missing_labels, carried=carried_labels, has=has_label)

    assert names.missing({"ready", "team:backend"}, ["Ready"]) == {"team:backend"}
    assert names.carried({"needs-refinement"}, ["Needs-Refinement", "bug"]) == {"Needs-Refinement"}
    assert names.has(["P1"], "p1") and not names.has(["P1"], "P2")
