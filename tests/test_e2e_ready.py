"""Ready and triage end to end: signed issue (and pull request) webhooks over HTTP to the real
service, a fake forge on a real socket, and assertions on the labels and the one comment the bot
leaves. Every test runs on GitHub and on Forgejo (the ``world`` fixture, tests/world.py).

The rendered comment for an incomplete English and French issue is kept in golden files
(tests/golden/ready_*.md): regenerate them with ``UPDATE_GOLDEN=1 python -m pytest tests/test_e2e_ready.py``
and review the wording change in the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path


from bot.markers import READY as MARKER

from .world import REPO

GOLDEN = Path(__file__).parent / "golden"
READY, REFINE = "ready", "needs-refinement"

# The organisation's own example of a Ready item (NEXUS.md), and a French one.
READY_EN = """\
User Story: As a syndic, I want to submit an expense for approval, so that the council can
review it before payment.
Acceptance criteria:
- Given: expense in Draft state
- When: syndic clicks "Submit for approval"
- Then: expense state = PendingApproval
- And: email sent to council members
Estimation: 5 points
Teams: Backend (3 pts), Frontend (2 pts)
Dependencies: Needs email service (Infra team)
"""

READY_FR = """\
## User story
En tant que membre du conseil syndical, je veux approuver ou rejeter une facture en attente,
afin que le syndic puisse la payer sans attendre l'assemblée générale.

## Critères d'acceptation
- Étant donné une facture à l'état EnAttenteApprobation
- Quand un membre du conseil clique sur « Approuver »
- Alors la facture passe à l'état Approuvée

**Estimation** : 5 points
**Équipes** : Backend (3 pts), Frontend (2 pts)
"""

# Ready too, written with other official keywords of French Gherkin (cucumber's table).
READY_FR_GHERKIN = """\
En tant que syndic, je veux relancer automatiquement les copropriétaires en retard de paiement,
afin que la trésorerie de la copropriété reste saine.

Scénario : relance après 30 jours
- Sachant que l'appel de fonds du lot 12 est impayé depuis 30 jours
- Quand la relance quotidienne s'exécute
- Donc le copropriétaire du lot 12 reçoit un e-mail de relance
- Et la relance est inscrite dans l'historique du lot

Estimation : 3 points
Équipes : Backend
"""

# A first draft: no "so that", no Then, no estimate; the team is named.
DRAFT_EN = """\
As a syndic, I want to submit an expense for approval.

Acceptance criteria:
- Given an expense in Draft state
- When the syndic clicks "Submit for approval"

Teams: Backend
"""

DRAFT_FR = """\
En tant que syndic, je veux exporter le grand livre en PDF.

Critères d'acceptation :
- Étant donné un exercice comptable clôturé
- Quand le syndic clique sur « Exporter en PDF »

Équipes : Backend
"""


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def ready_comments(world, number: int) -> list[str]:
    return [body for body in world.bot_comments(number) if MARKER in body]


def delivery_id(headers: dict) -> str:
    return next(value for name, value in headers.items() if name.endswith("-Delivery"))


async def open_issue(world, number: int, body: str, title: str = "Submit an expense for approval", labels=()):
    world.open_issue(number, title=title, body=body, labels=labels)
    assert await world.send("issue_opened", number) == 202
    await world.settle()


async def edit_issue(world, number: int, body: str):
    world.edit_issue(number, body=body)
    assert await world.send("issue_edited", number) == 202
    await world.settle()


# ----- the Ready verdict: labels and one comment ----------------------------------------------------


async def test_an_incomplete_issue_gets_needs_refinement_and_one_comment_naming_what_is_missing(world):
    await open_issue(world, 1, DRAFT_EN)

    labels = world.issue_labels(1)
    assert REFINE in labels and READY not in labels
    [comment] = world.bot_comments(1)
    assert MARKER in comment
    assert "This backlog item is not Ready yet" in comment
    assert '❌ **User story (As a …, I want …, so that …)**: The story has no "so that …" part' in comment
    assert "❌ **Acceptance criteria (Given / When / Then)**: Given / When steps found, but no Then" in comment
    assert "❌ **Estimated in story points (1, 2, 3, 5, 8, 13, 21)**: No estimate in story points" in comment
    assert "✅ **Dependencies identified (teams, linked items)**" in comment  # met: not explained
    assert "❌ **Testable (every scenario has a Then)**" in comment
    assert "Edit the issue: this comment updates itself." in comment


async def test_a_french_issue_is_answered_in_french(world):
    await open_issue(world, 2, DRAFT_FR, title="Exporter le grand livre en PDF")

    assert REFINE in world.issue_labels(2)
    [comment] = world.bot_comments(2)
    assert "Cet élément du backlog n'est pas encore Ready" in comment
    assert "❌ **User story (En tant que …, je veux …, afin de …)** : La story n'a pas de « afin de … »" in comment
    assert "❌ **Critères d'acceptation (Étant donné / Quand / Alors)** : Des étapes Étant donné / Quand" in comment
    assert "❌ **Estimée en story points (1, 2, 3, 5, 8, 13, 21)** : Pas d'estimation en story points" in comment
    assert "Modifiez le ticket : ce commentaire se met à jour tout seul." in comment
    assert "This backlog item" not in comment and "Acceptance criteria" not in comment


async def test_completing_the_issue_swaps_the_label_and_edits_the_same_comment_down_to_one_line(world):
    await open_issue(world, 3, DRAFT_EN)
    [comment_id] = world.bot_comment_ids(3)

    await edit_issue(world, 3, READY_EN)

    labels = world.issue_labels(3)
    assert READY in labels and REFINE not in labels
    assert world.bot_comment_ids(3) == [comment_id]  # edited in place, not replaced
    [comment] = world.bot_comments(3)
    assert comment.strip() == f"{MARKER}\n✅ Ready: all five Ready criteria are met."
    assert world.writes_to(r"/comments/\d+$")[-1].method == "PATCH"
    assert not [w for w in world.writes_to(r"/comments") if w.method == "DELETE"]


async def test_a_french_issue_once_complete_gets_the_french_ready_line(world):
    await open_issue(world, 4, DRAFT_FR, title="Approuver une facture")
    await edit_issue(world, 4, READY_FR)

    assert READY in world.issue_labels(4) and REFINE not in world.issue_labels(4)
    assert [c.strip() for c in world.bot_comments(4)] == [f"{MARKER}\n✅ Ready : les cinq critères sont remplis."]


async def test_a_french_issue_in_official_gherkin_keywords_gets_ready(world):
    await open_issue(world, 14, READY_FR_GHERKIN, title="Relancer les copropriétaires en retard")

    labels = world.issue_labels(14)
    assert READY in labels and REFINE not in labels
    assert world.comments(14) == []


async def test_ten_edits_leave_exactly_one_bot_comment(world):
    await open_issue(world, 5, DRAFT_EN)
    [comment_id] = world.bot_comment_ids(5)

    for i in range(10):  # back and forth between drafts and a Ready text, each edit judged
        body = READY_EN if i % 3 == 2 else DRAFT_EN.replace("Teams: Backend", f"Teams: Backend\nEstimation: {i} points")
        await edit_issue(world, 5, body)
        assert world.bot_comment_ids(5) == [comment_id], f"after edit {i + 1}"

    assert len(world.bot_comments(5)) == 1
    assert world.bot.worker.evaluations == 11
    posts = [w for w in world.writes_to(r"/issues/5/comments$") if w.method == "POST"]
    assert len(posts) == 1


async def test_an_issue_opened_ready_gets_ready_and_no_comment(world):
    await open_issue(world, 6, READY_EN)

    labels = world.issue_labels(6)
    assert READY in labels and REFINE not in labels
    assert world.comments(6) == []
    assert world.writes_to(r"/comments") == []


async def test_an_issue_that_falls_back_from_ready_gets_the_full_comment_again(world):
    await open_issue(world, 7, READY_EN)
    await edit_issue(world, 7, DRAFT_EN)

    assert REFINE in world.issue_labels(7) and READY not in world.issue_labels(7)
    [comment] = world.bot_comments(7)
    assert "This backlog item is not Ready yet" in comment


async def test_a_closed_issue_is_not_judged(world):
    world.open_issue(11, title="Submit an expense for approval", body=DRAFT_EN)
    world.close(11)
    for what in ("issue_opened", "issue_edited"):
        assert await world.send(what, 11) == 202
    await world.settle()

    assert world.issue_labels(11) == set()
    assert world.comments(11) == []


async def test_a_language_added_in_configuration_only_gets_a_comment(world):
    """A language in ``ready.languages`` the bot has no frame texts for: its own criteria texts in
    the English frame, rather than an error and no comment."""
    from bot.config import default_config_text, load_config

    german = load_config(default_config_text()).ready.languages["en"].model_dump(mode="json")
    german["detect"] = {"markers": ["ich m[oö]chte"], "words": ["ich", "und", "der", "die", "das"], "letters": "äöüß"}
    german["criteria"]["estimate"]["reasons"]["missing"] = "Keine Schätzung in Story Points."
    world.set_repo_file(".github/nexus.yml", f"ready:\n  languages:\n    de: {json.dumps(german)}\n")
    await open_issue(world, 12, "Als Kassenwart möchte ich die Ausgaben prüfen, und das Gremium der Eigentümer.",
                     title="Ausgaben prüfen")

    assert REFINE in world.issue_labels(12)
    [comment] = world.bot_comments(12)
    assert "This backlog item is not Ready yet" in comment
    assert "Keine Schätzung in Story Points." in comment


async def test_an_off_scale_points_label_is_reported_in_the_comment(world):
    body = READY_EN.replace("Estimation: 5 points\n", "")
    await open_issue(world, 8, body, labels=["points:4"])

    assert REFINE in world.issue_labels(8)
    assert "points:4" in world.issue_labels(8)  # the person's label stays
    [comment] = world.bot_comments(8)
    assert "❌ **Estimated in story points (1, 2, 3, 5, 8, 13, 21)**: 4 is not on the scale 1, 2, 3, 5, 8, 13, 21." in comment


async def test_golden_ready_comment_english(world):
    await open_issue(world, 9, DRAFT_EN)
    [comment] = world.bot_comments(9)
    assert_golden("ready_incomplete_en.md", comment)


async def test_golden_ready_comment_french(world):
    await open_issue(world, 10, DRAFT_FR, title="Exporter le grand livre en PDF")
    [comment] = world.bot_comments(10)
    assert_golden("ready_incomplete_fr.md", comment)


# ----- triage ---------------------------------------------------------------------------------------


async def test_teams_line_adds_team_labels_and_the_cross_team_label(world):
    await open_issue(world, 21, READY_EN)
    assert {"team:backend", "team:frontend", "nexus"} <= world.issue_labels(21)
    assert "team:infra" not in world.issue_labels(21)  # named on the dependencies line, not a team of the item


async def test_french_teams_line_adds_team_labels_and_the_cross_team_label(world):
    await open_issue(world, 22, DRAFT_FR.replace("Équipes : Backend", "Équipes : Backend, Frontend"),
                     title="Exporter le grand livre en PDF")
    assert {"team:backend", "team:frontend", "nexus"} <= world.issue_labels(22)


async def test_a_feat_title_adds_the_feature_type(world):
    await open_issue(world, 23, DRAFT_EN, title="feat: submit an expense for approval")
    assert "feature" in world.issue_labels(23)
    assert world.issue_labels(23) & {"bug", "refactor", "docs", "test"} == set()


async def test_a_label_a_person_set_is_kept_and_no_second_type_is_added(world):
    await open_issue(world, 24, READY_EN, title="feat: submit an expense for approval", labels=["bug", "team:infra"])

    labels = world.issue_labels(24)
    assert {"bug", "team:infra"} <= labels  # a person's labels are never removed
    assert "feature" not in labels  # the issue already has a type
    assert {"team:backend", "team:frontend", "nexus", READY} <= labels
    assert not [w for w in world.writes_to(r"/labels") if w.method == "DELETE"]


async def test_a_ready_label_set_by_a_person_on_an_incomplete_issue_is_swapped(world):
    # ready / needs-refinement are bot-owned (NEXUS.md, "Labels"): the verdict decides, not a person
    await open_issue(world, 25, DRAFT_EN)
    world.set_labels(25, [*world.issue_labels(25) - {REFINE}, READY])
    assert await world.send("issue_labeled", 25, label=READY) == 202
    await world.settle()

    labels = world.issue_labels(25)
    assert REFINE in labels and READY not in labels
    assert len(world.bot_comments(25)) == 1


async def test_triage_labels_a_person_removed_come_back_at_the_next_evaluation(world):
    """What the code does today: triage only adds, from the text, at every evaluation."""
    await open_issue(world, 26, READY_EN)
    world.set_labels(26, world.issue_labels(26) - {"nexus"})
    await world.send("issue_unlabeled", 26, label="nexus")
    await world.settle()
    assert "nexus" in world.issue_labels(26)


# ----- pull requests are not backlog items ----------------------------------------------------------


async def test_pull_requests_are_not_judged_for_ready(world):
    world.open_pr(31, files=["docs/guide.md"], body="Some documentation.", labels=["docs"])
    for what in ("issue_opened", "issue_edited", "opened", "edited", "labeled"):
        assert await world.send(what, 31) == 202, what
        await world.settle()

    assert world.labels(31) & {READY, REFINE} == set()
    assert ready_comments(world, 31) == []


async def test_a_pr_closing_an_issue_reports_whether_the_issue_is_ready_as_advisory(world):
    await open_issue(world, 12, DRAFT_EN)
    assert REFINE in world.issue_labels(12)

    world.open_pr(13, files=["docs/guide.md", "CHANGELOG.md"], body="Fixes #12")
    for name in ["tests", "lint", "unit-tests", "security: cargo audit", "deploy staging (smoke)"]:
        world.ci(world.head(13), name, "success")
    world.review(13, "bob", "APPROVED")
    await world.send("opened", 13)
    await world.settle()

    item = world.item(13, "linked-item-ready")
    assert item["state"] == "failed" and item["required"] is False
    assert "#12 not Ready" in item["reason"]
    assert world.state(13) == "success", world.published(13)  # advisory: the check does not fail for it

    world.cross_reference(12, REPO, 13)  # the forge records that PR #13 mentions #12
    await edit_issue(world, 12, READY_EN)
    assert READY in world.issue_labels(12)
    await world.settle()  # no event on the PR: the bot rechecks the PRs that mention #12

    item = world.item(13, "linked-item-ready")
    assert item["state"] == "passed" and "#12 Ready" in item["reason"]
    assert world.state(13) == "success"

    await edit_issue(world, 12, DRAFT_EN)  # back to needs-refinement: the PR follows again
    await world.settle()
    assert world.item(13, "linked-item-ready")["state"] == "failed"


# ----- anti-loop ------------------------------------------------------------------------------------


async def test_the_bots_own_label_and_comment_events_trigger_nothing(world):
    await open_issue(world, 41, DRAFT_EN)
    writes, evaluations = len(world.api_writes()), world.bot.worker.evaluations

    labeled = world.delivery("issue_labeled", 41, sender=world.bot_login, label=REFINE)
    commented = world.delivery("comment", 41, sender=world.bot_login)  # the latest comment: the bot's
    for delivery in (labeled, commented):
        status, _ = await world.bot.deliver(delivery, world.path)
        assert status == 202
    await world.settle()

    assert len(world.api_writes()) == writes
    assert world.bot.worker.evaluations == evaluations
    for headers, _ in (labeled, commented):
        assert (await world.outcome(delivery_id(headers))) == ("done", "ignored: caused by the bot itself")


async def test_a_box_ticked_with_a_check_mark_counts_in_an_issue_as_in_a_pull_request(world):
    """A dependency listed as a ticked task ("- [✅] #44") under the Dependencies heading is read."""
    world.open_issue(44, title="E-mail service", labels=["team:infra"])
    await open_issue(world, 45, DRAFT_EN.replace("Teams: Backend\n", "### Dependencies\n- [✅] #44\n"))
    [comment] = ready_comments(world, 45)
    assert "✅ **Dependencies identified (teams, linked items)**" in comment
