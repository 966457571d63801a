"""A pull request bigger than the forge lists (GitHub: 3,000 files): which items depend on the files
(``bot/checks/truncation.py``), and the teams of the PR's labels counted as touched."""

from __future__ import annotations

from dataclasses import replace

from bot.checks import Facts, evaluate
from bot.checks.truncation import items_on_paths, truncation
from bot.config import load_config

from .builders import default_config, pr

SMALL = """
categories: {code: Code}
teams:
  backend: {paths: ["backend/"]}
  frontend: {paths: ["frontend/"]}
items:
  - {id: ci, title: CI, category: code, evidence: {kind: check, names: [ci]}}
  - {id: one-approval, title: One approval, category: code, evidence: {kind: approvals, min: 1, per_team: false}}
  - {id: per-team, title: Per team, category: code, evidence: {kind: approvals}}
  - {id: changelog, title: Changelog, category: code, evidence: {kind: files, patterns: [CHANGELOG.md]}}
  - id: api-contract
    title: API contract
    category: code
    when: {paths: ["backend/api/**"]}
    evidence: {kind: files, patterns: [openapi.yml]}
  - id: coverage
    title: Coverage
    category: code
    evidence: [{kind: metric, names: [cov], op: ">=", threshold: 90, when: {teams_any: [backend]}}]
  - {id: cross, title: Cross, category: code, when: {cross_team: true}, evidence: {kind: label, present: [ok]}}
  - {id: off, title: Off, category: code, enabled: false, when: {paths: ["x/"]}, evidence: {kind: check, names: [x]}}
"""


def small():
    return load_config(("nexus.yml", SMALL))


def test_the_items_that_depend_on_the_changed_files_and_why():
    found = dict(items_on_paths(small()))
    assert found == {
        "per-team": ("reviews",),  # one approval per touched team: the teams come from the files
        "changelog": ("files",),
        "api-contract": ("paths", "files"),
        "coverage": ("teams",),  # a condition on a piece of evidence counts too
        "cross": ("teams",),
    }  # not: a check, a plain approval count, a disabled item


def test_the_embedded_dod_names_its_path_dependent_items_in_config_order():
    ids = [item for item, _ in items_on_paths(default_config())]
    assert ids[:6] == ["coverage", "reviews", "rfc", "adr", "docs", "changelog"]
    assert "backend-openapi" in ids and "tests" not in ids and "approved-pr" not in ids


def cut(snapshot, changed):
    return replace(snapshot, changed_files=changed)


def test_a_cut_list_counts_the_teams_of_the_labels_and_says_so():
    config = small()
    whole = pr(files=["frontend/a.ts"], labels=["team:backend"])
    assert Facts.of(cut(whole, 1), config).teams == ["frontend"]  # listed whole: labels add no team
    assert truncation(Facts.of(cut(whole, 1), config)) is None
    assert truncation(Facts.of(whole, config)) is None  # a forge that does not say how many

    facts = Facts.of(cut(whole, 2), config)
    assert facts.teams == ["backend", "frontend"] and facts.cross_team  # config order
    said = truncation(facts)
    assert (said.listed, said.changed) == (1, 2)
    assert (said.teams_from_files, said.teams_from_labels) == (("frontend",), ("backend",))
    assert [item for item, _ in said.items] == ["per-team", "changelog", "api-contract", "coverage", "cross"]
    assert facts.relabelled(()).teams == ["frontend"]  # the label removed: its team no longer counts


def test_the_verdict_carries_the_cut_for_machines():
    verdict = evaluate(cut(pr(files=["frontend/a.ts"], labels=["team:backend"]), 3001), small())
    data = verdict.as_json()["files_truncated"]
    assert data == {"listed": 1, "changed": 3001, "items": ["per-team", "changelog", "api-contract", "coverage", "cross"],
                    "teams": {"files": ["frontend"], "labels": ["backend"]}}
    assert next(i for i in verdict.items if i.id == "coverage").state.value != "not_applicable"
    assert "files_truncated" not in evaluate(pr(files=["frontend/a.ts"]), small()).as_json()
