"""The organisation config and a repository's override: valid, merged, and errors that say where."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from bot.cli import main
from bot.app.converge import label_style
from bot.config import ConfigError, default_config_text, load_config
from bot.model import LabelStyle

REPO = ".github/nexus.yml"


def load_override(text: str):
    return load_config(default_config_text(), (REPO, text))


def test_embedded_config_has_the_23_items_and_team_additions():
    config = load_config(default_config_text())
    numbers = sorted(i.number for i in config.items if i.number)
    assert numbers == list(range(1, 24))
    assert {i.id for i in config.items if i.category == "team"} >= {"backend-openapi", "frontend-a11y",
                                                                   "infra-terraform-plan", "ia-edge-arm64"}
    assert list(config.teams) == ["backend", "frontend", "infra", "ia"]


def test_override_merges_items_by_id_and_adds_new_ones():
    config = load_override(
        "teams:\n  data:\n    paths: [data/]\n"
        "items:\n"
        "  - id: bdd-tests\n    severity: required\n"
        "  - id: po-signoff\n    title: PO signed off\n    category: code\n"
        "    evidence: {kind: label, present: [po-ok]}\n"
    )
    by_id = {i.id: i for i in config.items}
    # a repository may make an advisory item required (tighten); weakening is tests/test_config_layers.py
    assert by_id["bdd-tests"].severity == "required" and by_id["bdd-tests"].evidence[0].kind == "check"
    assert by_id["po-signoff"].evidence[0].kind == "label"
    assert "data" in config.teams and "backend" in config.teams


ERROR_CASES = [
    ("bad number", "items:\n  - id: coverage\n    evidence: {kind: metric, names: [x], op: '>=', threshold: lots}\n",
     3, "items[coverage].evidence.threshold", "valid number"),
    ("misspelt setting", "review:\n  min_approvals: 1\n  dismis_stale: true\n", 3, "review.dismis_stale", "unknown setting"),
    ("not YAML", "review: [\n", 2, None, "not valid YAML"),
    ("unknown evidence kind", "items:\n  - id: lint\n    evidence: {kind: vibes}\n", 3, "items[lint].evidence", "kind"),
    ("unknown category", "items:\n  - id: x\n    title: X\n    category: nope\n    evidence: {kind: label, present: [a]}\n",
     4, "items[x].category", "not a category"),
    ("unknown team", "items:\n  - id: tests\n    when: {teams_any: [qa]}\n", 3, "items[tests].when.teams_any", "not a team"),
    ("bad regex", "items:\n  - id: gdpr\n    evidence: {kind: section, heading: '(unclosed'}\n", 3, "items[gdpr].evidence.heading", "regular expression"),
    ("a list at the top", "- a\n- b\n", 1, None, "mapping"),
    ("duplicate key", "review:\n  min_approvals: 1\n  min_approvals: 2\n", 3, None, "not valid YAML"),
    ("organisation-only setting", "review:\n  membership_ttl_seconds: 5\n", 2, "review.membership_ttl_seconds",
     "whole organisation"),
    ("bad item id", "items:\n  - id: Bad Id\n    title: x\n    category: code\n    evidence: {kind: label, present: [a]}\n",
     2, "items[Bad Id].id", "pattern"),
    ("language without a catalog", "review:\n  min_approvals: 1\nlanguage: de\n", 3, "language",
     "no catalog for the language 'de'; available: en, fr"),
    ("label description over 100", "labels:\n  descriptions:\n    ready: " + "x" * 101 + "\n", 2,
     "labels.descriptions", "100 characters at most, GitHub's limit (ready: 101 characters)"),
    ("label colour not hex", "labels:\n  colors:\n    ready: green\n", 2, "labels.colors", "six hexadecimal digits"),
]


@pytest.mark.parametrize("name,text,line,field,words", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_name_file_line_and_field(name, text, line, field, words):
    with pytest.raises(ConfigError) as info:
        load_override(text)
    err = info.value
    assert err.file == REPO and err.line == line, str(err)
    if field:
        assert err.field == field, str(err)
    assert words in str(err)
    assert str(err).startswith(f"{REPO}:{line}")


ORG = "org/.github/nexus.yml"
NEXUS_ERRORS = [
    ("sprint of no days", "    length_days: 14", "    length_days: 0", "nexus.sprint.length_days", "greater than or equal to 1"),
    ("unknown time zone", "    timezone: UTC", "    timezone: Mars/Olympus", "nexus.sprint.timezone", "not a known time zone"),
    ("milestone pattern without the number", "    milestone_pattern: '(?i)^\\s*sprint\\s*(\\d+)\\s*$'",
     "    milestone_pattern: '(?i)^sprint'", "nexus.sprint.milestone_pattern", "group for the sprint's number"),
    ("alarm below the goal", "    lead_time_alarm_hours: 48", "    lead_time_alarm_hours: 12", "nexus.thresholds",
     "must not be below"),
    ("negative percent", "    velocity_drop_percent: 20", "    velocity_drop_percent: -5",
     "nexus.thresholds.velocity_drop_percent", "greater than 0"),
]


@pytest.mark.parametrize("name,setting,bad,field,words", NEXUS_ERRORS, ids=[c[0] for c in NEXUS_ERRORS])
def test_nexus_section_errors_name_file_line_and_field(name, setting, bad, field, words):
    org = default_config_text()[1]
    assert setting in org, setting
    text = org.replace(setting, bad, 1)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith(bad))
    if field == "nexus.thresholds":  # a check over several settings points at their section
        line = next(n for n, row in enumerate(text.splitlines(), start=1) if row == "  thresholds:")
    with pytest.raises(ConfigError) as info:
        load_config((ORG, text))
    err = info.value
    assert (err.file, err.line, err.field) == (ORG, line, field), str(err)
    assert words in str(err)


def test_nexus_section_is_the_organisations_only():
    config = load_config(default_config_text())
    assert config.nexus.sprint.length_days == 14 and config.nexus.thresholds.velocity_drop_percent == 20
    assert str(config.nexus.sprint.start) == "2026-01-05" and config.nexus.integration.environment == "staging"
    repo = load_override("review:\n  min_approvals: 2\nnexus:\n  sprint:\n    length_days: 7\n")
    assert repo.nexus == config.nexus and repo.review.min_approvals == 2  # the rest of the file applies
    assert [str(n) for n in repo.notices] == [
        f"{REPO}:3: nexus: refused, the organisation's rule applies "
        "(one sprint calendar and one set of metric alarms serve the whole Nexus)"]


def test_oversized_config_is_refused():
    with pytest.raises(ConfigError, match="larger than"):
        load_override("x: " + "a" * 600_000)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_config_or_a_config_error(text):
    try:
        load_override(text)
    except ConfigError as exc:
        assert str(exc).startswith(REPO)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                    max_leaves=12))
def test_any_yaml_structure_gives_a_config_or_a_config_error(data):
    import json

    try:
        load_override("items:\n  - " + json.dumps(data) + "\nreview: " + json.dumps(data) + "\n")
    except ConfigError:
        pass


def test_cli_config_check(tmp_path, capsys):
    good = tmp_path / "nexus.yml"
    good.write_text("review:\n  min_approvals: 2\n")
    bad = tmp_path / "broken.yml"
    bad.write_text("review:\n  min_approvals: -1\n")
    assert main(["config", "check", str(good)]) == 0
    assert main(["config", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: review.min_approvals:" in err
    assert main(["config", "check", "config/dod.yml"]) == 0


def test_taxonomy_labels_are_created_with_a_colour_and_a_short_description():
    config = load_config(default_config_text())
    style = lambda label: label_style(config, label)  # noqa: E731
    assert style("team:backend") == LabelStyle("1d76db", "Touches the code or work of team backend")  # a family's
    assert style("milestone:3") == LabelStyle("5319e7", "Planned for milestone 3")
    assert style("ready") == LabelStyle("0e8a16", "Meets the five Ready criteria: may enter a sprint")
    assert style("bug") == LabelStyle("ededed", "Something isn't working")  # a description alone: grey
    assert style("wontfix") is None  # nothing configured: the forge's own default
    for label in ["nexus", "needs-refinement", "blocked", *config.labels.priorities, *config.labels.types]:
        assert style(label) and style(label).description, label
    own = load_override('labels:\n  descriptions:\n    "team:ia": "Models and edge"\n')
    assert label_style(own, "team:ia").description == "Models and edge"  # the label's own wins over its family's
