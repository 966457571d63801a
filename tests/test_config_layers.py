"""A repository may tighten the organisation's DoD, never weaken it (bot/config/layers.py).

Each weakening is refused with the repository file's line, and the organisation's rule applies; each
tightening applies; what the organisation opens in ``repositories.may_relax`` a repository may relax.
A refusal is a notice carried by the config, not an error: the rest of the file applies.
"""

from __future__ import annotations

import pytest

from bot.config import load_config, default_config_text

REPO = ".github/nexus.yml"
ORG = default_config_text()


def layered(text: str, org: tuple[str, str] = ORG):
    return load_config(org, (REPO, text))


def item(config, item_id: str):
    return next(i for i in config.items if i.id == item_id)


WEAKENINGS = [
    ("disable an item", "items:\n  - id: tests\n    enabled: false\n", 3, "items[tests].enabled",
     lambda c: item(c, "tests").enabled),
    ("make it advisory", "items:\n  - id: security-scan\n    severity: advisory\n", 3, "items[security-scan].severity",
     lambda c: item(c, "security-scan").required),
    ("loosen a threshold", "items:\n  - id: benchmarks\n    evidence: {kind: metric, names: ['*bench*'], "
     "pattern: '(?i)p99[^0-9]*([0-9]+(?:[.,][0-9]+)?)', op: '<', threshold: 9, unit: ms}\n", 3,
     "items[benchmarks].evidence[0]", lambda c: item(c, "benchmarks").evidence[0].threshold == 5),
    ("turn a threshold round", "items:\n  - id: load-tests\n    evidence: {kind: metric, names: ['*load*'], "
     "pattern: '([0-9]+(?:[.,][0-9]+)?)\\s*req', op: '<', threshold: 287, unit: req/s}\n", 3,
     "items[load-tests].evidence[0]", lambda c: item(c, "load-tests").evidence[0].op == ">"),
    ("accept other CI names", "items:\n  - id: tests\n    evidence: {kind: check, names: ['always-green']}\n", 3,
     "items[tests].evidence[0]", lambda c: item(c, "tests").evidence[0].names[0] == "test*"),
    ("apply less often", "items:\n  - id: changelog\n    when: {labels_none: [skip-changelog, chore]}\n", 3,
     "items[changelog].when", lambda c: item(c, "changelog").when.labels_none == ["skip-changelog"]),
    ("lower approvals", "review:\n  min_approvals: 0\n", 2, "review.min_approvals", lambda c: c.review.min_approvals == 1),
    ("lower cross-team approvals", "review:\n  cross_team_min_approvals: 1\n", 2, "review.cross_team_min_approvals",
     lambda c: c.review.cross_team_min_approvals == 2),
    ("add someone who may waive", "waivers:\n  users: [mallory]\n", 2, "waivers.users", lambda c: c.waivers.users == []),
    ("add a permission that may waive", "waivers:\n  permissions: [admin, write]\n", 2, "waivers.permissions",
     lambda c: c.waivers.permissions == ["admin"]),
    ("rename the check", "reporting:\n  check_name: Whatever\n", 2, "reporting.check_name",
     lambda c: c.reporting.check_name == "Nexus DoD"),
    ("add a member to a team", "teams:\n  backend:\n    members: [mallory]\n", 3, "teams.backend.members",
     lambda c: c.teams["backend"].members == []),
    ("take paths from a team", "teams:\n  infra:\n    paths: [infra/]\n", 3, "teams.infra.paths",
     lambda c: ".github/workflows/" in c.teams["infra"].paths),
    ("stop using CODEOWNERS", "review:\n  ownership_source: config\n", 2, "review.ownership_source",
     lambda c: c.review.ownership_source == "codeowners"),
    ("open itself", "repositories:\n  may_relax:\n    items: ['*']\n", 1, "repositories", lambda c: c.repositories.may_relax.items == []),
]


@pytest.mark.parametrize("name,text,line,field,org_rule_holds", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_a_weakening_is_refused_with_its_line_and_the_organisation_rule_applies(name, text, line, field, org_rule_holds):
    config = layered(text)
    assert org_rule_holds(config)
    [notice] = map(str, config.notices)
    assert notice.startswith(f"{REPO}:{line}: {field}: refused, the organisation's rule applies"), notice


def test_a_repository_may_not_make_an_unwaivable_item_waivable():
    org = ("nexus.yml", ORG[1].replace("    help: Fix the failing test job, then push.\n",
                                       "    help: Fix the failing test job, then push.\n    waivable: false\n", 1))
    config = layered("items:\n  - id: tests\n    waivable: true\n", org)
    assert not item(config, "tests").waivable
    assert str(config.notices[0]).startswith(f"{REPO}:3: items[tests].waivable: refused")


TIGHTENINGS = [
    ("raise a coverage threshold", "items:\n  - id: coverage\n    evidence:\n"
     "      - {kind: metric, names: ['coverage*backend*', 'backend*coverage*'], op: '>=', threshold: 95, unit: '%', when: {teams_any: [backend]}}\n"
     "      - {kind: metric, names: ['coverage*frontend*', 'frontend*coverage*'], op: '>=', threshold: 80, unit: '%', when: {teams_any: [frontend]}}\n",
     lambda c: [e.threshold for e in item(c, "coverage").evidence] == [95, 80]),
    ("lower a p99 bound", "items:\n  - id: benchmarks\n    evidence: {kind: metric, names: ['*bench*'], "
     "pattern: '(?i)p99[^0-9]*([0-9]+(?:[.,][0-9]+)?)', op: '<', threshold: 4, unit: ms}\n",
     lambda c: item(c, "benchmarks").evidence[0].threshold == 4),
    ("make an advisory item required", "items:\n  - id: docs\n    severity: required\n", lambda c: item(c, "docs").required),
    ("apply an item always", "items:\n  - id: rfc\n    when: null\n", lambda c: item(c, "rfc").when is None),
    ("apply an item to more labels", "items:\n  - id: rfc\n    when: {labels_any: [major, rfc, breaking]}\n",
     lambda c: "breaking" in item(c, "rfc").when.labels_any),
    ("raise approvals", "review:\n  min_approvals: 2\n  cross_team_min_approvals: 3\n",
     lambda c: (c.review.min_approvals, c.review.cross_team_min_approvals) == (2, 3)),
    ("narrow the CI names", "items:\n  - id: tests\n    evidence: {kind: check, names: ['ci/test*']}\n",
     lambda c: item(c, "tests").evidence[0].names == ["ci/test*"]),
    ("require every check", "items:\n  - id: lint\n    evidence: {kind: check, names: ['lint*', '*clippy*'], require: all}\n",
     lambda c: item(c, "lint").evidence[0].require == "all"),
    ("add an item", "items:\n  - id: qa\n    title: QA signed off\n    category: code\n    evidence: {kind: label, present: [qa-ok]}\n",
     lambda c: item(c, "qa").required),
    ("add evidence to an item", "items:\n  - id: changelog\n    evidence:\n"
     "      - {kind: files, patterns: ['CHANGELOG.md', '**/CHANGELOG.md']}\n      - {kind: label, absent: [wip]}\n",
     lambda c: [e.kind for e in item(c, "changelog").evidence] == ["files", "label"]),
    ("add a team and paths", "teams:\n  data:\n    paths: [data/]\n  infra:\n    paths: [infra/, .github/workflows/, deploy/, ops/]\n",
     lambda c: "data" in c.teams and "ops/" in c.teams["infra"].paths),
    ("take someone off the waiver list", "waivers:\n  permissions: []\n", lambda c: c.waivers.permissions == []),
    ("reword and relabel the taxonomy", "labels:\n  priorities: [P0, P1, P2, P3, P4]\n  points_prefix: 'sp:'\n",
     lambda c: c.labels.points_prefix == "sp:"),
]


@pytest.mark.parametrize("name,text,applied", TIGHTENINGS, ids=[t[0] for t in TIGHTENINGS])
def test_a_tightening_applies(name, text, applied):
    config = layered(text)
    assert config.notices == ()
    assert applied(config)


def test_refusals_are_line_by_line_and_the_rest_of_the_file_applies():
    config = layered(
        "review:\n  min_approvals: 0\n  cross_team_min_approvals: 3\n"
        "items:\n  - id: tests\n    enabled: false\n  - id: docs\n    severity: required\n"
    )
    assert [str(n).split(": refused")[0] for n in config.notices] == [
        f"{REPO}:6: items[tests].enabled", f"{REPO}:2: review.min_approvals"]
    assert config.review.cross_team_min_approvals == 3 and item(config, "docs").required


def test_what_the_organisation_opens_a_repository_may_relax():
    org = ("nexus.yml", ORG[1] + "repositories:\n  may_relax:\n    items: [bdd-tests, changelog]\n"
                                 "    settings: [review.min_approvals, waivers.users]\n")
    config = layered("items:\n  - id: changelog\n    enabled: false\n  - id: tests\n    enabled: false\n"
                     "review:\n  min_approvals: 0\nwaivers:\n  users: [rita]\n", org)
    assert not item(config, "changelog").enabled and config.review.min_approvals == 0
    assert config.waivers.users == ["rita"]
    assert [str(n).split(": refused")[0] for n in config.notices] == [f"{REPO}:5: items[tests].enabled"]
