"""The schema of the ``ready:`` section: the Ready criteria of backlog items and issue triage
(read by ``bot/checks/ready.py`` and ``bot/checks/triage.py``).

Every pattern is a regular expression matched ignoring case and accents, as a whole word or phrase.
The Gherkin keywords are cucumber's own, for the languages ``gherkin_languages`` names (``gherkin.py``);
a language's ``scenario`` patterns, when it has some, are read beside them.
Every text people read (criteria titles, reasons, examples, the frame of the Ready comment) is
configured per language. A config without a ``ready:`` section, or a language without some texts,
takes them from the embedded ``config/dod.yml``: the defaults are written there once, not in code.
"""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Annotated, Any

import re2
from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import Patterns, Strict
from .gherkin import LANGUAGES as GHERKIN_LANGUAGES, close_codes


READY_CRITERIA = ("user-story", "acceptance-criteria", "estimate", "dependencies", "testable")
# reason key -> the placeholders its text may use, per criterion
READY_REASONS: dict[str, dict[str, frozenset[str]]] = {
    "user-story": {k: frozenset() for k in ("ok", "missing", "no_want", "no_benefit")},
    "acceptance-criteria": {"ok": frozenset({"count"}), "missing": frozenset(), "no_then": frozenset()},
    "estimate": {
        "ok": frozenset({"points"}),
        "ok_label": frozenset({"points", "label"}),
        "missing": frozenset({"prefix"}),
        "off_scale": frozenset({"value", "scale"}),
        "unreadable": frozenset({"value"}),
        "conflict": frozenset({"label", "line"}),
    },
    "dependencies": {
        "ok": frozenset({"summary"}),
        "missing": frozenset(),
        "unclear": frozenset({"value"}),
        "depends_on": frozenset({"refs"}),
        "blocks": frozenset({"refs"}),
        "teams": frozenset({"teams"}),
        "none": frozenset(),
        "parent": frozenset({"refs"}),
        "sub_issues": frozenset({"refs"}),
    },
    "testable": {"ok": frozenset({"count"}), "no_scenario": frozenset(), "no_then": frozenset({"scenarios"})},
}
# reasons added after configs were written: a language without them takes the embedded English text
LATER_REASONS = frozenset({("dependencies", "parent"), ("dependencies", "sub_issues")})
READY_EXAMPLE_FIELDS = frozenset({"prefix", "scale"})


def _check_template(text: str, allowed: frozenset[str], what: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{what}: {exc} (write {{{{ and }}}} for literal braces)") from None
    unknown = names - allowed
    if unknown:
        allowed_text = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
        raise ValueError(f"{what}: unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {allowed_text})")


def _gherkin_language(code: str) -> str:
    if code not in GHERKIN_LANGUAGES:
        near = close_codes(code)
        hint = f"did you mean {' or '.join(near)}? " if near else ""
        raise ValueError(
            f"{code!r} is not a language code of cucumber's Gherkin; {hint}"
            f"codes (as on a feature file's '# language:' line): {', '.join(sorted(GHERKIN_LANGUAGES))}"
        )
    return code


GherkinLanguage = Annotated[str, AfterValidator(_gherkin_language)]


class ReadyDetect(Patterns):
    """What suggests the language: phrases (weigh 3), common words (weigh 1), letters (1 each)."""

    markers: list[str] = []
    words: list[str] = []
    letters: str = ""


class ReadyStoryWords(Patterns):
    """"<role> X, <want> Y, <benefit> Z", in this order, in one paragraph."""

    role: list[str] = Field(min_length=1)
    want: list[str] = Field(min_length=1)
    benefit: list[str] = Field(min_length=1)


class ReadyScenarioWords(Patterns):
    """Gherkin keywords a language adds to cucumber's own (``ReadyConfig.gherkin_languages``), read
    like them at the start of a line (after a bullet, emphasis or heading marker)."""

    scenario: list[str] = []  # a header, followed by ":"
    background: list[str] = []  # a header whose Given steps need no Then
    given: list[str] = []
    when: list[str] = []
    then: list[str] = []
    continuation: list[str] = []  # And / But


class ReadyEstimateWords(Patterns):
    fields: list[str] = []  # the label of an estimate line or heading: "Estimation: 5 points"
    inline: list[str] = []  # regexes with a (?P<points>…) group, found anywhere: "5 SP"

    @field_validator("inline")
    @classmethod
    def _points_group(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if "points" not in re2.compile(pattern).groupindex:
                raise ValueError(f"{pattern!r} has no (?P<points>...) group")
        return value


class ReadyDependencyWords(Patterns):
    depends_on: list[str] = []  # phrases before a reference: "depends on #44", "bloqué par org/repo#12"
    blocks: list[str] = []  # "blocks #45", "bloque #45"
    fields: list[str] = []  # the label of a dependencies line or heading: "Dependencies: …"
    none: list[str] = []  # a dependencies line's whole value meaning none: "none", "aucune"
    none_statements: list[str] = []  # a whole line meaning none: "No dependencies"


class ReadyCommentText(Strict):
    """The frame of the Ready comment around the criteria."""

    heading: str  # "This backlog item is not Ready yet"
    intro: str  # before the criteria
    outro: str  # after them: what happens when the issue is edited
    example: str  # the summary of an expected form: "Expected form"
    colon: str  # ": " in English, " : " in French
    ready: str  # the whole comment once every criterion is met


class ReadyCriterionText(Strict):
    title: str  # may use {prefix} (labels.points_prefix) and {scale}
    example: str  # the expected form, shown when the criterion fails; may use {prefix} and {scale}
    reasons: dict[str, str]


class ReadyLanguage(Patterns):
    detect: ReadyDetect = ReadyDetect()
    story: ReadyStoryWords
    scenario: ReadyScenarioWords = ReadyScenarioWords()  # keywords added to cucumber's, if any
    estimate: ReadyEstimateWords = ReadyEstimateWords()
    dependencies: ReadyDependencyWords = ReadyDependencyWords()
    teams: list[str] = []  # the label of the line naming the teams: "Teams: Backend, Frontend"
    criteria: dict[str, ReadyCriterionText]
    comment: ReadyCommentText = Field(default_factory=lambda: _default_comment())  # default: the English frame

    @field_validator("criteria")
    @classmethod
    def _all_criteria(cls, value: dict[str, ReadyCriterionText]) -> dict[str, ReadyCriterionText]:
        for cid in value:
            if cid not in READY_CRITERIA:
                raise ValueError(f"unknown criterion {cid!r} (one of {', '.join(READY_CRITERIA)})")
        for cid in READY_CRITERIA:
            if cid not in value:
                raise ValueError(f"criterion {cid!r} is missing")
            text, needed = value[cid], READY_REASONS[cid]
            _check_template(text.title, READY_EXAMPLE_FIELDS, f"{cid}.title")
            _check_template(text.example, READY_EXAMPLE_FIELDS, f"{cid}.example")
            for key in text.reasons:
                if key not in needed:
                    raise ValueError(f"{cid}.reasons: unknown reason {key!r} (one of {', '.join(needed)})")
            for key, allowed in needed.items():
                if key not in text.reasons and (cid, key) in LATER_REASONS:
                    text.reasons[key] = _embedded()["languages"]["en"]["criteria"][cid]["reasons"][key]
                if key not in text.reasons:
                    raise ValueError(f"{cid}.reasons: reason {key!r} is missing")
                _check_template(text.reasons[key], allowed, f"{cid}.reasons.{key}")
        return value


class TriageConfig(Patterns):
    types: dict[str, str] = {}  # title prefix ("feat:", "[Bug]") or issue-form Type value -> type label
    type_fields: list[str] = []  # the label of an issue-form heading or line giving the type
    priority_fields: list[str] = []  # the same for the priority (its value must start with a priority label)
    default_priority: str | None = None  # added when the issue has no priority; null: none


class ReadyConfig(Strict):
    scale: list[int] = Field(default_factory=lambda: _embedded()["scale"], min_length=1)  # story points allowed
    default_language: str = Field(default_factory=lambda: _embedded()["default_language"])
    # cucumber's codes ("en", "fr", "de", "pt", "zh-CN"): whose Gherkin keywords are read (gherkin.py)
    gherkin_languages: list[GherkinLanguage] = Field(
        default_factory=lambda: list(_embedded()["gherkin_languages"]), min_length=1
    )
    languages: dict[str, ReadyLanguage] = Field(default_factory=lambda: dict(_embedded_languages()))
    triage: TriageConfig = Field(default_factory=lambda: TriageConfig.model_validate(_embedded()["triage"]))

    @field_validator("scale")
    @classmethod
    def _scale(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value) or len(set(value)) != len(value):
            raise ValueError("give distinct story point values of at least 1")
        return value

    @model_validator(mode="after")
    def _language_known(self) -> "ReadyConfig":
        if not self.languages:
            raise ValueError("give at least one language")
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not one of {sorted(self.languages)}")
        return self


# The defaults of the ``ready:`` section, for configs without one; config/dod.yml writes them out.


# ----- the defaults: the embedded config/dod.yml's ``ready:`` section ---------------------------------

@lru_cache(maxsize=1)
def _embedded() -> dict[str, Any]:
    from .loader import default_config_text, parse_yaml

    filename, text = default_config_text()
    tree, _ = parse_yaml(text, filename)
    return tree["ready"]


@lru_cache(maxsize=1)
def _embedded_languages() -> dict[str, ReadyLanguage]:
    return {key: ReadyLanguage.model_validate(lang) for key, lang in _embedded()["languages"].items()}


def _default_comment() -> ReadyCommentText:
    return ReadyCommentText.model_validate(_embedded()["languages"]["en"]["comment"])
