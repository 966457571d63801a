"""Ready criteria: a table of real-looking backlog items (tests/data/ready_cases.yml), then links,
estimates, the config section, the labels, properties and speed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from ruamel.yaml import YAML

from bot.checks.issue_body import read_body
from bot.checks.links import Link, extract_links
from bot.checks.ready import evaluate_ready, ready_labels, scenarios
from bot.checks.ready_rules import rules
from bot.config import READY_CRITERIA, READY_REASONS, ConfigError, ReadyConfig, default_config_text, load_config
from bot.model import Issue

from .guards import no_hang

CONFIG = load_config(default_config_text())
REPO = "org/koprogo-api"
CASES = YAML(typ="safe").load((Path(__file__).parent / "data" / "ready_cases.yml").read_text(encoding="utf-8"))


def issue(body: str | None, title: str = "Backlog item", labels=(), number: int = 99) -> Issue:
    return Issue("github", REPO, number, title, body, "po", labels=tuple(labels))  # type: ignore[arg-type]


def with_repo_config(text: str):
    return load_config(default_config_text(), (".github/nexus.yml", text))


# ----- the table -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_ready_table(case):
    verdict = evaluate_ready(issue(case["body"], case.get("title", "Backlog item"), case.get("labels", [])), CONFIG)
    assert {c.id: c.passed for c in verdict.criteria} == case["expect"]
    assert verdict.language == case["language"]
    assert verdict.ready is all(case["expect"].values())
    assert [c.id for c in verdict.criteria] == list(READY_CRITERIA)
    for result in verdict.criteria:
        assert result.title and result.reason and result.example
        assert "{" not in result.reason + result.title + result.example  # every placeholder filled


def test_table_is_large_named_and_bilingual():
    names = [c["name"] for c in CASES]
    assert len(names) >= 30 and len(set(names)) == len(names)
    assert {c["language"] for c in CASES} == {"en", "fr"}
    assert any(all(c["expect"].values()) for c in CASES) and any(not any(c["expect"].values()) for c in CASES)


def case(name: str) -> dict:
    return next(c for c in CASES if c["name"] == name)


def verdict_of(name: str):
    c = case(name)
    return evaluate_ready(issue(c["body"], c.get("title", "Backlog item"), c.get("labels", [])), CONFIG)


def test_the_guide_example_gives_points_teams_and_reasons():
    v = verdict_of("guide-example-french-headings")
    assert v.points == 5
    assert v.teams == ["backend", "frontend"]
    assert v.criterion("dependencies").reason == "Dependencies identified: teams Backend, Frontend, Infra."
    assert v.criterion("acceptance-criteria").reason == "1 scenario(s) found."
    assert ready_labels(v, CONFIG) == ({"ready"}, {"needs-refinement"})


def test_a_french_item_is_answered_in_french():
    v = verdict_of("french-complete")
    assert v.dependencies == [Link("depends_on", None, 44)]
    assert v.criterion("user-story").title == "User story (En tant que …, je veux …, afin de …)"
    assert v.criterion("estimate").reason == "Estimée à 5 points."
    assert v.criterion("dependencies").reason == "Dépendances identifiées : dépend de #44; équipes Backend, Frontend."


def test_failed_criteria_explain_and_show_the_expected_form():
    v = evaluate_ready(issue(""), CONFIG)
    assert not v.ready and len(v.missing()) == 5
    assert v.criterion("user-story").example.startswith("As a syndic, I want to submit an expense")
    assert v.criterion("estimate").example == "Estimation: 5 points (or a points:5 label)"
    assert v.criterion("estimate").reason.startswith("No estimate in story points: add a points:N label")
    assert ready_labels(v, CONFIG) == ({"needs-refinement"}, {"ready"})
    fr = verdict_of("bug-report-french")
    assert fr.criterion("testable").reason == "Aucun scénario à automatiser."
    assert fr.criterion("acceptance-criteria").example.startswith("- Étant donné une facture")


def test_scenarios_without_then_are_named():
    v = verdict_of("second-scenario-without-then")
    assert v.criterion("testable").reason == "No Then in: Scenario: rejected without a reason."
    v = verdict_of("scenario-without-then")
    assert v.criterion("acceptance-criteria").reason.startswith("Given / When steps found, but no Then")


# ----- Gherkin keywords: cucumber's own table, for the configured languages --------------------------

def steps(body: str, config=CONFIG) -> list[tuple[str | None, int, int, int, int]]:
    """(header, given, when, then, steps) of every scenario read in ``body``."""
    return [(s.header, s.given, s.when, s.then, s.steps) for s in scenarios(read_body(body), rules(config))]


FRENCH_OFFICIAL = [
    ("sachant-que-quand-alors",
     "- Sachant que la facture est à l'état Brouillon\n- Quand le syndic la soumet\n- Alors elle passe à l'état EnAttente",
     [(None, 1, 1, 1, 3)]),
    ("etant-donne-lorsque-donc",
     "Étant donné une facture validée\nLorsque le conseil la rejette\nDonc le syndic reçoit un e-mail",
     [(None, 1, 1, 1, 3)]),
    ("soit-et-mais",
     "Scénario : rejet motivé\nSoit une facture en attente\nEt un membre du conseil connecté\n"
     "Quand il la rejette\nAlors la facture est Rejetée\nMais elle reste visible dans l'historique",
     [("Scénario : rejet motivé", 1, 1, 1, 5)]),
    ("elided-keywords", "Sachant qu'une facture existe\nEt qu'elle est validée\nLorsqu'on la paie\nDonc elle est close",
     [(None, 1, 1, 1, 4)]),
    ("star-steps-in-a-feature-block",
     "```gherkin\nPlan du scénario : relance\n  Étant donné que l'appel est impayé\n  * depuis 30 jours\n"
     "  Quand la relance s'exécute\n  Alors un e-mail part\n  * et l'historique le note\n```",
     [("Plan du scénario : relance", 1, 1, 1, 5)]),
    ("headers-without-accents-bold-and-colons",
     "- **Contexte** :\n- **Etant donne** : un compte\n\n**Scenario**: paiement\n- Quand : le syndic paie\n- Donc : payé",
     [("Scenario: paiement", 0, 1, 1, 2)]),
]


@pytest.mark.parametrize("body,expected", [c[1:] for c in FRENCH_OFFICIAL], ids=[c[0] for c in FRENCH_OFFICIAL])
def test_official_french_keywords_make_scenarios(body, expected):
    assert steps(body) == expected
    v = evaluate_ready(issue(body), CONFIG)
    assert v.criterion("acceptance-criteria").passed and v.criterion("testable").passed


def test_a_star_step_continues_the_scenario_it_is_in():
    # a Given and a * step are two steps: a scenario, which lacks its Then
    v = evaluate_ready(issue("```gherkin\nSoit une facture en attente\n* un conseil de trois membres\n```"), CONFIG)
    assert v.criterion("testable").reason == "Pas de « Alors » dans : Soit une facture en attente."
    # outside code a leading "* " is a markdown bullet: the lone Given stays prose
    v = evaluate_ready(issue("Soit une facture en attente\n* un conseil de trois membres"), CONFIG)
    assert v.criterion("testable").reason == "Aucun scénario à automatiser."


def test_french_prose_with_et_mais_donc_soit_is_not_a_scenario():
    body = ("Le syndic doit pouvoir exporter le grand livre.\nDonc il faut un bouton sur la page.\n"
            "Et aussi un lien dans le menu.\nMais pas avant la clôture de l'exercice.\n"
            "Soit dit en passant, le format PDF suffit.\n")
    v = evaluate_ready(issue(body), CONFIG)
    assert v.criterion("acceptance-criteria").reason == "Aucun scénario Étant donné / Quand / Alors trouvé."
    assert v.criterion("testable").reason == "Aucun scénario à automatiser."


OTHER_LANGUAGES = [
    ("de", "Szenario: Rechnung freigeben\n- Angenommen eine Rechnung im Entwurf\n- Wenn der Verwalter sie einreicht\n"
           "- Dann ist sie zur Freigabe\n- Und der Beirat wird benachrichtigt"),
    ("es", "Escenario: aprobar un gasto\n- Dado un gasto en borrador\n- Cuando el administrador lo envía\n"
           "- Entonces el gasto queda pendiente de aprobación\n- Y el consejo recibe un correo"),
    ("ja", "シナリオ: 経費の承認\n前提経費が下書きである\nもし管理者が申請する\nならば経費は承認待ちになる"),
]


@pytest.mark.parametrize("code,body", OTHER_LANGUAGES, ids=[c[0] for c in OTHER_LANGUAGES])
def test_another_language_counts_once_configured(code, body):
    assert not evaluate_ready(issue(body), CONFIG).criterion("acceptance-criteria").passed  # not en, not fr
    config = with_repo_config(f"ready:\n  gherkin_languages: [en, fr, {code}]\n")
    [(header, given, when, then, _)] = steps(body, config)
    assert header is not None and (given, when, then) == (1, 1, 1)
    v = evaluate_ready(issue(body), config)
    assert v.criterion("acceptance-criteria").passed and v.criterion("testable").passed


def test_a_language_may_add_keywords_to_cucumbers():
    body = "Scénario : export\nQuand le syndic exporte le grand livre\nOn doit voir un PDF"
    assert steps(body) == [("Scénario : export", 0, 1, 0, 1)]
    config = with_repo_config("ready:\n  languages:\n    fr:\n      scenario:\n        then: ['on doit voir']\n")
    assert steps(body, config) == [("Scénario : export", 0, 1, 1, 2)]
    assert steps("Soit une facture\nQuand elle est payée\nDonc elle est close", config) == [(None, 1, 1, 1, 3)]


def test_the_embedded_config_reads_english_and_french_gherkin():
    assert CONFIG.ready.gherkin_languages == ["en", "fr"] == ReadyConfig().gherkin_languages


def test_links_to_the_issue_itself_and_to_its_own_repo():
    v = evaluate_ready(issue("Depends on #99 and on org/koprogo-api#3, blocks org/koprogo-web#5", number=99), CONFIG)
    assert v.dependencies == [Link("depends_on", None, 3), Link("blocks", "org/koprogo-web", 5)]


# ----- links ------------------------------------------------------------------------------------------

D, B = "depends_on", "blocks"
LINK_CASES = [
    ("same-repo", "Depends on #44", [(D, None, 44)]),
    ("list-of-refs", "Depends on #44, #45 and org/api#46.", [(D, None, 44), (D, None, 45), (D, "org/api", 46)]),
    ("cross-repo-french", "Dépend de org/koprogo-infra#12", [(D, "org/koprogo-infra", 12)]),
    ("blocked-by", "Blocked by #3", [(D, None, 3)]),
    ("bloque-par", "Bloqué par #3, bloquée par #4", [(D, None, 3), (D, None, 4)]),
    ("bloque-par-no-accent", "bloque par #3", [(D, None, 3)]),
    ("blocks", "Blocks #45", [(B, None, 45)]),
    ("bloque", "Bloque #45 (alertes Grafana)", [(B, None, 45)]),
    ("requires", "Requires #7", [(D, None, 7)]),
    ("issue-url", "Depends on https://github.com/org/koprogo-api/issues/12", [(D, "org/koprogo-api", 12)]),
    ("pull-url", "Blocked by https://github.com/org/web/pull/18.", [(D, "org/web", 18)]),
    ("forgejo-pulls-url", "Requires https://forge.example.org/org/mcp/pulls/9", [(D, "org/mcp", 9)]),
    ("url-with-anchor", "Depends on https://github.com/org/web/issues/12#issuecomment-1", [(D, "org/web", 12)]),
    ("two-kinds-one-line", "Blocks #45, depends on #44", [(B, None, 45), (D, None, 44)]),
    ("label-line", "Dependencies: #44, org/web#3", [(D, None, 44), (D, "org/web", 3)]),
    ("list-under-heading", "### Dependencies\n\n- #44\n- [x] org/api#12\n\nSee also #99", [(D, None, 44), (D, "org/api", 12)]),
    ("list-under-label", "Blocks:\n* #45\n* #46\nUnrelated text #47\n- #48", [(B, None, 45), (B, None, 46)]),
    ("bold-phrase", "**Depends on** #44", [(D, None, 44)]),
    ("deduplicated", "Depends on #4. Also, depends on #4", [(D, None, 4)]),
    ("priority-is-not-a-link", "#1 priority for the council", []),
    ("heading-is-not-a-link", "# Title\n## #2 Approval workflow\nsee #12", []),
    ("mention-is-not-a-link", "See #12 for the mock-ups", []),
    ("other-sentence", "Depends on the mail service. See #12", []),
    ("too-far", "Depends on " + "the approval workflow being agreed by the council " * 2 + "#12", []),
    ("inline-code-ignored", "The bot reads `Depends on #4` lines", []),
    ("fenced-code-ignored", "```\nDepends on #5\n```\nDepends on #6", [(D, None, 6)]),
    ("comment-ignored", "<!-- Depends on #1 -->\nDepends on #2", [(D, None, 2)]),
    ("html-entity", "Depends on &#35;", []),
    ("number-too-long", "Blocks #12345678901234", []),
    ("unblocks-is-not-blocks", "This unblocks #3", []),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in LINK_CASES], ids=[c[0] for c in LINK_CASES])
def test_extract_links(text, expected):
    assert [(link.kind, link.repo, link.number) for link in extract_links(text, CONFIG)] == expected


def test_extract_links_defaults_and_own_repo():
    assert extract_links(None) == [] and extract_links("") == []
    assert extract_links("Depends on #44") == [Link("depends_on", None, 44)]  # built-in phrases
    assert extract_links("Depends on ORG/Koprogo-API#3", CONFIG, repo="org/koprogo-api") == [Link("depends_on", None, 3)]
    assert extract_links("Blocks https://h/org/koprogo-api/issues/3", CONFIG.ready, repo="org/koprogo-api") == [
        Link("blocks", None, 3)
    ]
    assert Link("blocks", "org/web", 3).ref == "org/web#3" and Link("depends_on", None, 4).ref == "#4"


def test_link_phrases_come_from_config():
    config = with_repo_config("ready:\n  languages:\n    en:\n      dependencies:\n        depends_on: [follows]\n")
    assert extract_links("Follows #3", config) == [Link("depends_on", None, 3)]
    assert extract_links("Depends on #4", config) == []


# ----- estimates ---------------------------------------------------------------------------------------

def estimate(body: str, labels=(), config=CONFIG):
    v = evaluate_ready(issue(body, labels=labels), config)
    return v.criterion("estimate"), v.points


@pytest.mark.parametrize(
    "line,points",
    [
        ("Estimation: 5 points", 5),
        ("Estimate: 3 pts", 3),
        ("Story points: 8", 8),
        ("Points : 5", 5),
        ("Estimation\u00a0: 13 points", 13),
        ("**Estimation**: 2", 2),
        ("We sized it at 5 SP.", 5),
        ("### Story points\n\n21", 21),
        ("Estimated: 1", 1),
    ],
)
def test_estimate_lines(line, points):
    result, got = estimate(line)
    assert result.passed and got == points


def test_estimate_not_on_the_scale():
    result, points = estimate("Estimation: 4 points")
    assert not result.passed and points is None
    assert result.reason == "4 is not on the scale 1, 2, 3, 5, 8, 13, 21."
    result, _ = estimate("Estimation : 4 points\nEn tant que syndic, je veux voir les factures, afin de les payer.")
    assert result.reason == "4 n'est pas sur l'échelle 1, 2, 3, 5, 8, 13, 21."
    result, _ = estimate("Estimate: 2.5")
    assert result.reason == "2.5 is not on the scale 1, 2, 3, 5, 8, 13, 21."


def test_the_label_wins_over_the_line():
    result, points = estimate("Estimate: 4", labels=["points:5"])
    assert result.passed and points == 5
    assert result.reason == "Estimated at 5 points (label points:5). The label points:5 counts; the description says 4."
    result, points = estimate("Estimation: 5 points", labels=["points:4"])
    assert not result.passed and points is None
    assert result.reason == "4 is not on the scale 1, 2, 3, 5, 8, 13, 21. The label points:4 counts; the description says 5."
    result, points = estimate("Estimation: 8", labels=["points:8"])
    assert result.reason == "Estimated at 8 points (label points:8)."


def test_estimate_edge_cases():
    assert estimate("", labels=["points:XL"])[0].reason == 'The estimate "points:XL" is not a number of story points.'
    assert estimate("Estimation: TBD")[0].reason == 'The estimate "TBD" is not a number of story points.'
    teams_only, _ = estimate("Teams: Backend (3 pts), Frontend (2 pts)")
    assert not teams_only.passed and teams_only.reason.startswith("No estimate")  # "3 pts" there is a split
    assert estimate("", labels=["Points:3"])[1] == 3


def test_scale_and_prefix_come_from_config():
    config = with_repo_config("labels:\n  points_prefix: 'sp:'\nready:\n  scale: [1, 2, 4, 8]\n")
    result, points = estimate("", labels=["sp:4"], config=config)
    assert result.passed and points == 4 and result.title == "Estimated in story points (1, 2, 4, 8)"
    result, _ = estimate("Estimate: 3", config=config)
    assert result.reason == "3 is not on the scale 1, 2, 4, 8." and result.example == "Estimation: 5 points (or a sp:5 label)"


# ----- config -------------------------------------------------------------------------------------------

def test_dod_yml_writes_out_every_setting_of_the_ready_section():
    loaded, built_in = CONFIG.ready, ReadyConfig()
    assert loaded.scale == [1, 2, 3, 5, 8, 13, 21] and loaded.triage.default_priority is None
    assert set(loaded.languages) == set(built_in.languages) == {"en", "fr"}
    for key, lang in loaded.languages.items():
        assert set(lang.criteria) == set(READY_CRITERIA)
        for cid, text in lang.criteria.items():
            assert set(text.reasons) == set(READY_REASONS[cid]) == set(built_in.languages[key].criteria[cid].reasons)


def test_a_repository_may_reword_a_criterion():
    config = with_repo_config(
        "ready:\n  languages:\n    fr:\n      criteria:\n        estimate:\n          title: Estimée (Fibonacci)\n"
    )
    v = evaluate_ready(issue(case("french-complete")["body"]), config)
    assert v.criterion("estimate").title == "Estimée (Fibonacci)"
    assert v.criterion("user-story").title.startswith("User story (En tant que")  # the rest is kept


@pytest.mark.parametrize(
    "override,field,words",
    [
        ("ready:\n  languages:\n    en:\n      teams: ['(']\n", "ready.languages.en.teams", "regular expression"),
        (
            "ready:\n  languages:\n    en:\n      criteria:\n        estimate:\n          reasons:\n            ok: '{pts}'\n",
            "ready.languages.en.criteria",
            "{pts}",
        ),
        ("ready:\n  default_language: nl\n", "ready", "'nl'"),
        ("ready:\n  scale: [0, 1]\n", "ready.scale", "at least 1"),
        ("ready:\n  languages:\n    en:\n      estimate:\n        inline: ['\\d+ SP']\n", "ready.languages.en.estimate.inline", "points"),
        ("ready:\n  languages:\n    en:\n      criteria:\n        estimate:\n          reasons:\n            okay: x\n", "ready.languages.en.criteria", "okay"),
        ("ready:\n  triage:\n    priority: P2\n", "ready.triage.priority", "unknown setting"),
        ("ready:\n  gherkin_languages: [en, fra]\n", "ready.gherkin_languages.1", "did you mean fr"),
        ("ready:\n  gherkin_languages:\n    - en\n    - klingon\n", "ready.gherkin_languages.1", "'klingon' is not a language code"),
        ("ready:\n  gherkin_languages: []\n", "ready.gherkin_languages", "at least 1"),
    ],
)
def test_bad_ready_settings_are_named(override, field, words):
    with pytest.raises(ConfigError) as err:
        with_repo_config(override)
    assert err.value.field == field and words in str(err.value) and err.value.line is not None


def test_a_language_must_word_every_criterion():
    en = ReadyConfig().languages["en"].model_dump()
    del en["criteria"]["testable"]
    with pytest.raises(ValidationError, match="criterion 'testable' is missing"):
        ReadyConfig.model_validate({"languages": {"en": en}})


# ----- properties and speed ------------------------------------------------------------------------------

MARKDOWN_BITS = st.sampled_from(
    [
        "As a syndic, ", "I want ", "so that ", "En tant que ", "je veux ", "afin de ", "Given ", "When ", "Then ",
        "Étant donné ", "Quand ", "Alors ", "And ", "Scenario:", "Background:", "Estimation: ", "points:", "Teams: ",
        "Équipes : ", "Backend", "Depends on ", "Bloqué par ", "#", "#12", "org/repo#3", "https://h/o/r/issues/4",
        "```", "`", "<!--", "-->", "**", "*", "_", "- ", "1. ", "- [x] ", "> ", "### ", ":", "\n", "\n\n", "\r\n",
        "(", ")", "[", "]", "…", "’", "\u00a0", "5", "4", "99999999999999", "_No response_",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(st.text(), st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=5)), max_size=60).map("".join)),
    title=st.text(max_size=40),
    labels=st.lists(st.one_of(st.text(max_size=12), st.sampled_from(["points:5", "points:", "points:x", "points:4"])), max_size=3),
)
def test_evaluate_ready_never_raises(body, title, labels):
    v = evaluate_ready(issue(body, title, labels), CONFIG)
    assert v.language in ("en", "fr") and len(v.criteria) == 5
    assert v.points is None or v.points in CONFIG.ready.scale
    assert all(isinstance(link.number, int) and link.number >= 0 for link in v.dependencies)
    add, remove = ready_labels(v, CONFIG)
    assert len(add) == len(remove) == 1 and add != remove


def huge_realistic_body() -> str:
    ready = case("nexus-ready-example-plain")["body"]
    log = "2025-03-02T10:00:01Z WARN expenses::approval retry=3 id=4242 state=PendingApproval (see #12)\n"
    return ready + "\n```\n" + log * (1_000_000 // len(log)) + "```\n"


PATHOLOGICAL = {
    "one-long-line": "x" * 1_000_000,
    "short-lines": "a\n" * 500_000,
    "blank-lines": "\n" * 1_000_000,
    "role-without-want": "As a syndic, " * 80_000,
    "wants-without-role": "I want " * 140_000,
    "many-references": "Depends on #1 " * 70_000,
    "list-of-references": "### Dependencies\n" + "- #1\n" * 200_000,
    "open-comments": "<!--" * 250_000,
    "backticks": "`" * 1_000_000,
    "emphasis": "*_" * 500_000,
    "repo-like": "a/b#" * 250_000,
    "digits": "1" * 1_000_000,
    "urls": "https://x/" * 100_000,
    "steps": "Given When Then\n" * 60_000,
    "spaces-before-a-listed-reference": "### Blocks\n" + " " * 900_000 + "x #4",
    "long-teams-value": "Teams: " + "a:/" * 3_000 + "\n" + "Teams: " + "a" * 9_000,
    "punctuation-heading": "# " + "!" * 9_000 + "a\n" * 5,
}


def test_a_one_megabyte_body_is_read():
    body = huge_realistic_body()
    assert len(body) >= 1_000_000
    with no_hang():
        v = evaluate_ready(issue(body), CONFIG)
    assert v.ready  # the item at the top is still read


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_bodies_do_not_backtrack(name):
    with no_hang():
        evaluate_ready(issue(PATHOLOGICAL[name]), CONFIG)
        extract_links(PATHOLOGICAL[name], CONFIG)
