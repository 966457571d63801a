"""Triage: the labels a new issue gets from its title and body; only additions, never a duplicate."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checks.triage import triage
from bot.config import default_config_text, load_config
from bot.model import Issue

CONFIG = load_config(default_config_text())
WITH_DEFAULT_PRIORITY = load_config(
    default_config_text(), (".github/nexus.yml", "ready:\n  triage:\n    default_priority: P2\n")
)

ISSUE_FORM = """### Type

Bug

### Teams

- [X] Backend
- [ ] Frontend
- [x] IA

### Priority

P1 (high)
"""

CASES = [
    # name, title, body, labels, labels to add
    (
        "french-teams-two-labels-and-nexus",
        "Approbation des factures par le conseil syndical",
        "En tant que syndic, je veux …\n\nÉquipes : Backend, Frontend\n",
        [],
        {"team:backend", "team:frontend", "nexus"},
    ),
    ("guide-teams-with-points", "Submit expense", "Teams: Backend (3 pts), Frontend (2 pts)", [], {"team:backend", "team:frontend", "nexus"}),
    ("one-team-no-nexus", "Staging in Terraform", "Team: Infra", [], {"team:infra"}),
    ("team-by-key-any-case", "Edge RAM", "**Teams**: ia", [], {"team:ia"}),
    ("teams-slash-separated", "Approval UI", "Équipes : Backend/Frontend", [], {"team:backend", "team:frontend", "nexus"}),
    ("unknown-team", "Mobile app", "Teams: Mobile", [], set()),
    ("team-in-a-url-is-not-a-team", "Certs", "Teams: see https://github.com/org/koprogo-infra/issues/3", [], set()),
    ("team-outside-a-teams-line", "Backend refactor", "The backend team and the frontend team agree.", [], set()),
    ("feat-prefix", "feat: submit an expense for approval", "", [], {"feature"}),
    ("feature-prefix", "Feature: council digest", "", [], {"feature"}),
    ("feat-scope", "feat(expenses): approval workflow", "", [], {"feature"}),
    ("fix-breaking", "fix!: reject approvals of paid expenses", "", [], {"bug"}),
    ("fix-scope-breaking", "fix(api)!: 500 on double approval", "", [], {"bug"}),
    ("bug-prefix", "bug: approve button dead on Safari", "", [], {"bug"}),
    ("bracket-prefix", "[Bug] approve button dead on Safari", "", [], {"bug"}),
    ("upper-case-prefix", "FEAT: PWA offline mode", "", [], {"feature"}),
    ("refactor-prefix", "refactor: split the expense aggregate", "", [], {"refactor"}),
    ("docs-prefix", "docs: runbook for the mail relay", "", [], {"docs"}),
    ("test-prefix", "test: Playwright flow for approvals", "", [], {"test"}),
    ("unmapped-prefix", "chore: bump actix-web", "", [], set()),
    ("not-a-prefix", "Release 2.0: notes for syndics", "", [], set()),
    ("issue-form", "Approve button dead", ISSUE_FORM, [], {"bug", "team:backend", "team:ia", "nexus", "P1"}),
    ("form-type-first-word", "Council digest", "### Type\n\nFeature request\n", [], {"feature"}),
    ("form-type-french", "Résumé hebdomadaire", "### Type d'item\n\nFonctionnalité\n", [], {"feature"}),
    ("title-type-wins-over-form", "docs: mail relay", "### Type\n\nBug\n", [], {"docs"}),
    ("never-a-second-type", "feat: council digest", "### Type\n\nFeature\n", ["bug"], set()),
    ("never-a-second-type-from-the-map", "fix: x", "", ["feature"], set()),
    ("labels-already-present", "feat: approval UI", "Teams: Backend, Frontend", ["team:backend", "feature"], {"team:frontend", "nexus"}),
    ("present-labels-any-case", "Approval UI", "Teams: Backend, Frontend", ["Team:Backend", "NEXUS"], {"team:frontend"}),
    ("labelled-team-plus-named-team", "Approval UI", "Teams: Frontend", ["team:backend"], {"team:frontend", "nexus"}),
    ("never-a-second-priority", "x", "### Priority\n\nP1", ["P3"], set()),
    ("nothing-to-say", "Something about the ledger", "Some prose without fields.", [], set()),
    ("empty", "", "", [], set()),
]


@pytest.mark.parametrize("title,body,labels,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_triage(title, body, labels, expected):
    assert triage(Issue("github", "org/koprogo-api", 7, title, body, "po", labels=tuple(labels)), CONFIG) == expected


def test_default_priority_when_configured():
    def add(labels=(), body=""):
        return triage(Issue("github", "org/koprogo-api", 7, "feat: x", body, "po", labels=tuple(labels)), WITH_DEFAULT_PRIORITY)

    assert add() == {"feature", "P2"}
    assert add(["P0"]) == {"feature"}  # never a second priority
    assert add(body="### Priority\n\nP1") == {"feature", "P1"}  # the form's choice beats the default
    assert triage(Issue("github", "o/r", 1, "feat: x", "", "po"), CONFIG) == {"feature"}  # null: none


def test_team_labels_and_type_map_come_from_config():
    config = load_config(
        default_config_text(),
        (
            ".github/nexus.yml",
            "teams:\n  mobile:\n    name: Mobile\n    label: 'squad:mobile'\n"
            "ready:\n  triage:\n    types:\n      chore: maintenance\n",
        ),
    )
    got = triage(Issue("github", "o/r", 1, "chore: bump", "Teams: Mobile, Backend", "po"), config)
    assert got == {"maintenance", "squad:mobile", "team:backend", "nexus"}


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=60), body=st.text(max_size=400), labels=st.lists(st.text(max_size=12), max_size=4))
def test_triage_only_adds_absent_labels(title, body, labels):
    added = triage(Issue("github", "o/r", 1, title, body, "po", labels=tuple(labels)), CONFIG)
    assert not {a.casefold() for a in added} & {label.casefold() for label in labels}
