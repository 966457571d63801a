"""The message catalogs (bot/locales) and the language-neutral messages (bot/msg.py): every text the
bot can write has a French translation with the same placeholders, the template is up to date with
the code, and a message renders in English by default and in the config's language when asked."""

from __future__ import annotations

import copy
import pickle
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.app.report import render as render_report
from bot.checks import evaluate
from bot.checks.ready import evaluate_ready
from bot.locales import LANGUAGES, localize, translations
from bot.model import Issue
from bot.msg import Msg, NMsg, either, join

from .builders import config_with, pr

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
TEMPLATE = LOCALES / "messages.pot"


def catalog(path: Path, locale: str | None = None):
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def placeholders(text: str) -> set[str]:
    """``{name}`` (code) and ``%(name)s`` (templates) placeholders of a msgid or translation."""
    brace = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    percent = set(re.findall(r"%\((\w+)\)[sd]", text))
    return brace | percent


def ids(cat) -> set:
    return {m.id for m in cat if m.id}


# ---- the catalogs ---------------------------------------------------------------------------------

def test_english_and_french_are_the_languages():
    assert LANGUAGES == ("en", "fr")


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    template = catalog(TEMPLATE)
    translated = catalog(LOCALES / language / "LC_MESSAGES" / "messages.po", language)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = translated.get(message.id)
        if found is None or found.fuzzy:
            problems.append(f"untranslated (or fuzzy): {message.id!r}")
            continue
        msgids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(strings):
            problems.append(f"empty translation: {message.id!r}")
            continue
        wanted = set().union(*(placeholders(m) for m in msgids))
        for text in strings:
            if placeholders(text) != wanted:
                problems.append(f"placeholders differ: {message.id!r} -> {text!r}")
            try:
                if "python-format" in message.flags:
                    text % {name: 1 for name in wanted}  # templates: _("… %(name)s …", name=…)
                else:
                    text.format(**{name: "x" for name in wanted})  # code: Msg("… {name} …", name=…)
            except (KeyError, ValueError, IndexError, TypeError) as exc:
                problems.append(f"does not format: {text!r} ({exc})")
    stale = ids(translated) - ids(template)
    assert not problems, "\n".join(problems)
    assert not stale, f"translations of texts no longer in the template: {sorted(map(str, stale))}"


def test_the_template_holds_every_message_of_the_code_templates_and_embedded_config(tmp_path):
    """bin/messages was run after the last change of a text (its extraction, into a scratch file)."""
    out = tmp_path / "messages.pot"
    cfg = (ROOT / "bin" / "messages").read_text()
    assert "-k Msg -k NMsg:1,2" in cfg
    subprocess.run(
        [sys.executable, "-c", "import sys; from babel.messages.frontend import main; sys.argv[0] = 'pybabel'; main()",
         "-q", "extract", "-F", "babel.cfg", "-k", "Msg", "-k", "NMsg:1,2", "--no-default-keywords",
         "-k", "_", "-k", "gettext", "-k", "ngettext:1,2", "-o", str(out), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    fresh, committed = ids(catalog(out)), ids(catalog(TEMPLATE))
    assert fresh == committed, (f"run bin/messages: new {sorted(map(str, fresh - committed))}, "
                                f"gone {sorted(map(str, committed - fresh))}")


def test_the_embedded_dod_texts_are_in_the_template():
    template = ids(catalog(TEMPLATE))
    config = config_with("")
    for item in config.items:
        assert item.title in template and (not item.help or item.help in template), item.id
    assert set(config.categories.values()) <= template


def test_a_catalog_that_cannot_be_read_leaves_english(tmp_path, monkeypatch):
    import bot.locales as locales

    broken = tmp_path / "xx" / "LC_MESSAGES"
    broken.mkdir(parents=True)
    (broken / "messages.po").write_text('msgid "a"\nmsgstr "b\n', encoding="utf-8")
    monkeypatch.setattr(locales, "HERE", tmp_path)
    locales.translations.cache_clear()
    try:
        assert locales.translations("xx").gettext("no change to {patterns}") == "no change to {patterns}"
    finally:
        locales.translations.cache_clear()


# ---- messages -------------------------------------------------------------------------------------

def test_a_message_is_its_english_text_and_renders_in_french():
    msg = Msg("no change to {patterns}", patterns=either(["CHANGELOG.md", "**/CHANGELOG.md"]))
    assert msg == "no change to CHANGELOG.md or **/CHANGELOG.md" and isinstance(msg, str)
    assert localize(msg, "en") == "no change to CHANGELOG.md or **/CHANGELOG.md"
    assert localize(msg, "fr") == "aucune modification de CHANGELOG.md ou **/CHANGELOG.md"
    assert localize("a person's text", "fr") == "a person's text"  # only messages are translated


def test_params_that_are_not_messages_are_shown_as_given():
    msg = Msg("labelled {labels}", labels="Done")  # a label named like a catalog text
    assert localize(msg, "fr") == "label Done présent"
    assert localize(Msg("{first} and {second}", first="a", second=Msg("Done")), "fr") == "a et Done"


def test_plural_messages_follow_the_number():
    assert NMsg("{n} more reviewer(s)", "{n} more reviewer(s)", 1) == "1 more reviewer(s)"
    assert localize(NMsg("{n} more reviewer(s)", "{n} more reviewer(s)", 1), "fr") == "1 reviewer de plus"
    assert localize(NMsg("{n} more reviewer(s)", "{n} more reviewer(s)", 2), "fr") == "2 reviewers de plus"


def test_a_message_survives_copy_and_pickle():
    msg = join([Msg("ticked: {text}", text="Rollback"), "plain"])
    for twin in (copy.copy(msg), copy.deepcopy(msg), pickle.loads(pickle.dumps(msg))):
        assert twin == msg and localize(twin, "fr") == "coché : Rollback · plain"


def test_a_config_text_unknown_to_the_catalog_is_shown_as_written():
    assert localize(Msg("CHANGELOG.md updated"), "fr") == "CHANGELOG.md mis à jour"
    assert localize(Msg("PO signed off {not a placeholder}"), "fr") == "PO signed off {not a placeholder}"
    assert localize(Msg(""), "fr") == ""  # not the catalog's header


def test_every_language_loads():
    for language in LANGUAGES:
        assert translations(language).gettext("Item")


# ---- the config's language --------------------------------------------------------------------------

def test_language_defaults_to_english_and_may_be_set():
    assert config_with("").language is None and config_with("").lang == "en"
    assert config_with("language: fr\n").lang == "fr"


def test_a_french_report_keeps_its_verdict_in_english():
    config = config_with("language: fr\n")
    verdict = evaluate(pr(files=["docs/guide.md"]), config)
    report = render_report(verdict, config)
    assert "Prochaines étapes :" in report.summary
    changelog = next(i for i in verdict.as_json()["items"] if i["id"] == "changelog")
    assert changelog["reason"] == "no change to CHANGELOG.md or **/CHANGELOG.md"
    assert type(changelog["reason"]) is str


DRAFT = "As a syndic, I want to export the ledger.\n\nTeams: Backend\n"


def test_the_ready_comment_uses_the_configured_language_else_the_issues():
    issue = Issue(forge="github", repo="org/app", number=1, title="Export the ledger", body=DRAFT, author="alice")
    assert evaluate_ready(issue, config_with("")).language == "en"
    assert evaluate_ready(issue, config_with("language: fr\n")).language == "fr"
    french = Issue(forge="github", repo="org/app", number=2, title="Exporter le grand livre",
                   body="En tant que syndic, je veux exporter le grand livre.\n\nÉquipes : Backend\n", author="alice")
    assert evaluate_ready(french, config_with("")).language == "fr"
    assert evaluate_ready(french, config_with("language: en\n")).language == "en"


def test_a_refused_override_is_reported_in_the_repositorys_language():
    config = config_with("language: fr\nitems:\n  - id: tests\n    enabled: false\n")
    verdict = evaluate(pr(files=["docs/guide.md"]), config)
    summary = render_report(verdict, config).summary
    assert ("La configuration en vigueur n'est pas tout à fait celle écrite :" in summary
            and ".github/nexus.yml:4: items\\[tests\\].enabled: refusé, la règle de l'organisation s'applique "
                "(un dépôt ne peut pas désactiver un item de l'organisation)" in summary), summary
    assert verdict.as_json()["notices"] == [
        ".github/nexus.yml:4: items[tests].enabled: refused, the organisation's rule applies "
        "(a repository may not disable an organisation item)"]


def test_numbers_are_written_the_readers_way():
    from bot.msg import Num

    shown = join([Num(87.5), " %"], "")
    assert shown == "87.5 %" and localize(shown, "en") == "87.5 %" and localize(shown, "fr") == "87,5 %"
    assert localize(Msg("{name}: {value}, needs {wanted}", name="coverage", value=shown,
                        wanted=join([">= ", Num(90.0), " %"], "")), "fr") == "coverage : 87,5 %, il faut >= 90 %"
    assert pickle.loads(pickle.dumps(Num(0.12))) == "0.12"


def test_the_templates_number_filter_writes_english_as_percent_formatting_does():
    """Hours, percents and thresholds of the Nexus metrics: English byte for byte as "%.1f", "%+.0f" and
    "%g" write them (ties included: the float's exact value decides), French with a decimal comma."""
    from bot.locales import number

    for value in (0.0, 0.05, 0.15, 0.25, 0.35, 2.675, 29.95, 30.04999, 50.0, 180.0, 1234.55, -0.4, -25.0, 100.0):
        assert number(value, "en", 1) == "%.1f" % value and number(value, "en", 0) == "%.0f" % value
        assert number(value, "en", 0, sign=True) == "%+.0f" % value and number(value, "en") == "%g" % value
    assert number(50.0, "fr", 1) == "50,0" and number(30.04999, "fr", 1) == "30,0" and number(1234.55, "fr", 1) == "1234,5"
    assert number(15.0, "fr", 0, sign=True) == "+15" and number(-25.0, "fr", 0, sign=True) == "-25"
    assert number(24.0, "fr") == "24" and number(0.5, "fr") == "0,5"


def test_the_notice_of_a_cut_file_list_is_french_in_a_french_repository():
    from dataclasses import replace

    config = config_with("language: fr\n")
    whole = pr(files=["frontend/a.ts"], labels=["team:backend"])
    summary = render_report(evaluate(replace(whole, changed_files=3001), config), config).summary
    text = " ".join(summary.split())
    assert "**La forge a listé 1 des 3 001 fichiers modifiés** : ce verdict porte sur les fichiers listés." in text
    assert "(Frontend), plus celles des labels d'équipe de la pull request (Backend)" in text
    assert "Cherchent un fichier modifié : **RFC approuvée (changement majeur)**, **ADR rédigé" in text
    assert "demander une dérogation à l'équipe nit (`/nexus waive <item> <reason>`)" in text
    english = render_report(evaluate(replace(whole, changed_files=3001), config_with("")), config_with("")).summary
    assert "**The forge listed 1 of the 3,001 changed files**" in english


def test_label_descriptions_of_the_embedded_config_are_translated_within_githubs_limit():
    from bot.app.converge import label_style
    from bot.config.dod import MAX_LABEL_DESCRIPTION

    french = config_with("language: fr\n")
    assert label_style(french, "team:backend").description == "Touche le code ou le travail de l'équipe backend"
    assert label_style(config_with(""), "team:backend").description == "Touches the code or work of team backend"
    for label in french.labels.descriptions:
        assert len(label_style(french, label.replace("*", "x")).description) <= MAX_LABEL_DESCRIPTION, label
