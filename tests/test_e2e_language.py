"""The organisation's language end to end: a repository (or the organisation) set to French gets its
DoD report, Ready comment and command replies (the Nexus metrics too) in French, over signed webhooks to the real bot and a
fake forge (GitHub and Forgejo: the ``world`` fixture); the same with no setting stays English. The
machine-readable parts (the verdict JSON, hidden markers) never change language.

Regenerate the golden file with ``UPDATE_GOLDEN=1 python -m pytest tests/test_e2e_language.py``.
"""

from __future__ import annotations

import re

from bot.config import default_config_text
from bot.markers import READY as READY_MARKER

from .test_e2e_commands import assert_golden, command, expense_backlog, reply
from .test_e2e_metrics import backfilled, restart_with_backfill, row, seed
from .test_e2e_ready import DRAFT_EN, open_issue
from .world import OTHER_REPO, REPO, only

FRENCH = "language: fr\n"
HIDDEN = re.compile(r"<!--.*?-->", re.DOTALL)


async def opened_pr(world, number: int) -> None:
    world.open_pr(number, files=["docs/guide.md"])
    assert await world.send("opened", number) == 202
    await world.settle()


def visible(markdown: str) -> str:
    return HIDDEN.sub("", markdown)


# ---- the DoD report ------------------------------------------------------------------------------

async def test_a_repository_set_to_french_gets_a_french_dod_report(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    await opened_pr(world, 1)
    report = world.report(1)
    assert world.state(1) == "failure"
    assert re.match(r"\d+/\d+ faits · \d+ manquant\(s\) : ", report.title), report.title
    text = visible(report.summary)
    assert "Prochaines étapes :" in text
    assert "**CHANGELOG.md mis à jour** : aucune modification de CHANGELOG.md" in text
    assert "Ajoutez une entrée dans CHANGELOG.md qui décrit le changement." in text  # the item's help
    assert "#### Sécurité et conformité" in text and "| | # | Item | Résultat |" in text
    assert "What to do next" not in text and "no change to" not in text and " done" not in report.title


@only("github")
async def test_golden_french_dod_report(world):
    """A cross-team change with CI partly in, one approval, a ticked box and a waiver-free body."""
    world.set_repo_file(".github/nexus.yml", FRENCH)
    world.open_pr(16, files=["backend/src/expense.rs", "frontend/src/Approve.svelte", "CHANGELOG.md"],
                  body="## Rollback plan\nRevert the commit.\n\n- [x] Logs anonymised (no PII)\n- [ ] Prometheus metrics exposed\n")
    for name, state in [("tests", "success"), ("lint", "failure"), ("unit-tests", "running")]:
        world.ci(world.head(16), name, state)
    world.ci(world.head(16), "coverage (backend)", "success", text="Coverage: 87.5 %")
    world.review(16, "bob", "APPROVED")
    await world.send("opened", 16)
    await world.settle()
    report = world.report(16)
    assert_golden("dod_report_fr.md", report.title + "\n\n" + visible(report.summary).strip() + "\n")


async def test_the_verdict_and_markers_stay_language_neutral_in_a_french_report(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    await opened_pr(world, 2)
    changelog = world.item(2, "changelog")  # read from the hidden verdict JSON
    assert changelog["state"] == "failed" and changelog["reason"].startswith("no change to CHANGELOG.md")
    hidden = " ".join(HIDDEN.findall(world.report(2).summary))
    assert "nexus-verdict" in hidden
    for french in ("aucune", "faits", "Prochaines", "mis à jour", "manquant"):
        assert french not in hidden


async def test_without_a_language_the_report_stays_english(world):
    await opened_pr(world, 3)
    report = world.report(3)
    assert re.match(r"\d+/\d+ done · \d+ missing: ", report.title), report.title
    text = visible(report.summary)
    assert "What to do next:" in text and "**CHANGELOG.md updated**: no change to CHANGELOG.md" in text
    assert "Prochaines" not in text and "Résultat" not in text


async def test_a_repository_may_choose_its_own_language_over_the_organisations(world):
    world.set_org_config(default_config_text()[1] + "\n" + FRENCH)
    world.set_repo_file(".github/nexus.yml", "language: en\n", repo=REPO)
    world.open_pr(4, files=["docs/guide.md"], repo=OTHER_REPO)
    await world.send("opened", 4, repo=OTHER_REPO)
    await opened_pr(world, 5)
    assert "Prochaines étapes :" in world.report(4, repo=OTHER_REPO).summary  # the organisation's French
    assert "What to do next:" in world.report(5).summary  # the repository's own choice


async def test_a_language_without_a_catalog_fails_the_check_naming_the_line(world):
    world.set_repo_file(".github/nexus.yml", "review:\n  min_approvals: 1\nlanguage: de\n")
    await opened_pr(world, 6)
    report = world.report(6)
    assert world.state(6) == "failure"
    assert ".github/nexus.yml:3" in report.title and "language" in report.title
    assert "no catalog for the language 'de'" in report.summary


async def test_the_config_check_of_a_french_repository_is_french(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    world.open_pr(14, files=["docs/guide.md", "CHANGELOG.md"])
    await world.send("opened", 14)
    text = FRENCH + "items:\n  - id: bdd-tests\n    severity: required\n  - id: tests\n    enabled: false\n"
    world.open_pr(15, files=[".github/nexus.yml", "CHANGELOG.md"])
    world.set_repo_file(".github/nexus.yml", text, ref=world.head(15))
    await world.send("opened", 15)
    await world.settle()
    check = world.config_check(15)
    assert check.title == "Valide, 1 changement refusé · 1 des 1 pull requests ouvertes changeraient", check.title
    assert "bdd-tests : en attente (non bloquant) → en attente" in check.summary
    assert "Ce que cela changerait sur les pull requests ouvertes" in check.summary
    if world.forge != "github":  # Forgejo lists the refusals in the comment (GitHub: annotations)
        assert ("items[tests].enabled: refusé, la règle de l'organisation s'applique "
                "(un dépôt ne peut pas désactiver un item de l'organisation)") in check.summary


# ---- the Ready comment ---------------------------------------------------------------------------

async def test_a_french_repository_answers_an_english_issue_in_french(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    await open_issue(world, 7, DRAFT_EN)  # written in English: detection alone would answer in English
    [comment] = [c for c in world.bot_comments(7) if READY_MARKER in c]
    assert "### Cet élément du backlog n'est pas encore Ready" in comment
    assert "not Ready yet" not in comment


async def test_without_a_language_the_ready_comment_follows_the_issue(world):
    await open_issue(world, 8, DRAFT_EN)
    [comment] = [c for c in world.bot_comments(8) if READY_MARKER in c]
    assert "This backlog item is not Ready yet" in comment


# ---- command replies -----------------------------------------------------------------------------

async def test_help_and_refusals_are_french_in_a_french_repository(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    world.open_issue(9, "Export")
    help_ = reply(world, 9, await command(world, 9, "/nexus help"))
    assert "Commandes que vous pouvez lancer sur ce ticket :" in help_
    assert "| commande | ce qu'elle fait |" in help_
    assert "Affiche le tableau des dépendances de cet élément" in help_
    assert "Commands you can run" not in help_ and "List the commands" not in help_

    refused = reply(world, 9, await command(world, 9, "/nexus dod"))
    assert "**Non effectué :** `/nexus dod` ne fonctionne que sur les pull requests." in refused

    unknown = reply(world, 9, await command(world, 9, "/nexus dpes"))
    assert "**Non effectué :** dpes n'est pas une commande. Vouliez-vous dire `/nexus deps` ?" in unknown

    denied = reply(world, 9, await command(world, 9, "/nexus priority P1", user="rita"))
    assert ("`/nexus priority <priority>` ne peut être lancée que par "
            "les personnes ayant un accès en écriture à ce dépôt.") in denied


async def test_label_and_waiver_answers_are_french_in_a_french_repository(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    world.permission("carol", "write")
    world.team("nit", ["nina"])
    world.open_issue(10, "Export")
    assert "Ajouté : P1." in reply(world, 10, await command(world, 10, "/nexus priority P1"))
    wrong = reply(world, 10, await command(world, 10, "/nexus priority P9"))
    assert "P9 n'est pas une priorité ; valeurs valides : P0, P1, P2, P3" in wrong

    world.open_pr(11, files=["docs/a.md"])
    waived = reply(world, 11, await command(world, 11, '/nexus waive changelog "docs only"', user="nina"))
    assert "Dérogation accordée sur `changelog` (CHANGELOG.md mis à jour). Raison : docs only" in waived


async def test_the_dependency_table_is_french_in_a_french_repository(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    expense_backlog(world)
    answer = reply(world, 43, await command(world, 43, "/nexus deps"))
    assert "**Dépendances de #43**" in answer
    assert "| Item Backlog | Équipe Owner | Dépend de | Statut | Blocage ? |" in answer  # the NIT's own table
    assert "| Backend | #44, org/infra#3 | Backlog | Oui : attend org/infra#3 (Infra) |" in answer
    assert "| Backend | — | Backlog | Non |" in answer
    assert "n1 -->|dépend de| n2" in answer and "Label blocked posé : #43, #45." in answer
    assert "blocked" in world.labels(43)  # labels are the taxonomy's, whatever the language


async def test_nexus_metrics_and_the_sprint_dependencies_are_french_in_a_french_repository(world):
    """The history of tests/test_e2e_metrics.py (backfilled at first sight): /nexus metrics of the sprint
    before and of the running one, /nexus deps sprint and a refused sprint, all in French, numbers with
    a decimal comma; the numbers themselves as in English."""
    world.set_repo_file(".github/nexus.yml", FRENCH)
    prev, cur, _ = seed(world)
    world.permission("carol", "write")
    await restart_with_backfill(world)
    assert await world.send("issue_edited", 13) == 202
    await world.settle()
    await backfilled(world)

    ended = reply(world, 13, await command(world, 13, f"/nexus metrics sprint {prev.number}"))
    assert f"**Le Nexus en chiffres : sprint {prev.number}** (du {prev.first_day} au {prev.last_day})" in ended
    assert ("| Équipe | Vélocité (points) | par rapport au sprint" in ended
            and "| Délai d'intégration, médiane | Délai d'intégration, p90 | PR intégrées / mergées | En attente "
                "| Bugs inter-équipes | Bloqués maintenant |" in ended), ended
    assert row(ended, "Backend")[1] == "7" and row(ended, "Nexus")[1] == "**10**"
    assert "Objectifs : délai d'intégration sous 24 h" in ended
    assert "**Vélocité des " in ended and "(story points Done)" in ended
    assert 'title "Vélocité du Nexus (story points)"' in ended and f'"Sprint {prev.number}"' in ended
    assert 'y-axis "Points"' in ended

    running = reply(world, 13, await command(world, 13, "/nexus metrics"))
    assert f"(du {cur.first_day} au {cur.last_day}, en cours)" in running
    alarms = running.split("| Équipe |")[0]
    assert "**Alarmes**" in alarms
    assert re.search(r"- 🔴 #13 Approval e-mail : bloqué depuis (29|30|31),\d h "
                     r"\(un blocage doit être levé en moins de 24 h\)\.", alarms), alarms
    assert re.search(r"\| 1 \(le plus long : (29|30|31),\d h\) 🔴 \|", running)
    assert "**Bloqués maintenant** (les plus longs d'abord)" in running
    assert "**Bugs inter-équipes ouverts dans le sprint** : #12." in running
    assert "Le sprint est en cours : sa vélocité est ce qui est Done à ce jour" in running

    deps = reply(world, 13, await command(world, 13, "/nexus deps sprint"))
    assert f"**Dépendances inter-équipes, sprint {cur.number}** (du {cur.first_day} au {cur.last_day})" in deps
    assert "| Item Backlog | Équipe Owner | Dépend de | Statut | Blocage ? |" in deps
    blocked = next(line for line in deps.splitlines() if line.startswith("| #13 "))
    assert "#14 (Infra, Backlog)" in blocked and re.search(r"\| Oui, depuis le .* \((29|30|31),\d h\) 🔴 \|", blocked), blocked
    assert "🔴 bloqué depuis plus de 24 h : un blocage doit être levé en moins de 24 h." in deps

    refused = reply(world, 13, await command(world, 13, "/nexus metrics sprint 0"))
    assert ("**Non effectué :** Les sprints sont numérotés à partir de 1 : `/nexus metrics sprint 1` est le premier, "
            "`/nexus metrics` le sprint en cours.") in refused
    for english in ("The Nexus in numbers", "Velocity", "Lead time", "Goals:", "Cross-team", "Blocked", "in progress",
                    "blocked for", "Sprints are numbered"):
        assert english not in ended + running + deps + refused, english


async def test_without_a_language_replies_stay_english(world):
    world.open_issue(12, "Export")
    assert "Commands you can run on this issue:" in reply(world, 12, await command(world, 12, "/nexus help"))
    assert "**Not done:** `/nexus dod` works on pull requests only." in reply(
        world, 12, await command(world, 12, "/nexus dod"))


@only("github")
async def test_golden_french_help_on_a_pull_request_for_someone_with_write_access(world):
    world.set_repo_file(".github/nexus.yml", FRENCH)
    world.permission("carol", "write")
    world.open_pr(13, files=["docs/a.md"])
    assert_golden("commands_help_fr.md", reply(world, 13, await command(world, 13, "/nexus help")))
