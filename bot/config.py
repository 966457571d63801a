"""The organisation's rules as data: ``config/dod.yml``, optionally extended per repository.

Validated with pydantic; every error names the file, the line and the field, because the people who
edit these files are the NIT, not the bot's developers.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MAX_CONFIG_BYTES = 512 * 1024
MAX_CONFIG_NODES = 100_000  # the embedded config has about 2,000
ORGANISATION_ONLY = (("review", "membership_ttl_seconds"),)  # one cache serves every repository
REPO_CONFIG_PATHS = (".github/nexus.yml", ".forgejo/nexus.yml", ".gitea/nexus.yml", ".nexus.yml")
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "dod.yml"


class ConfigError(ValueError):
    """A config file that cannot be used; ``str()`` is the message shown to people."""

    def __init__(self, file: str, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


# ----- conditions ---------------------------------------------------------------------------

class Condition(_Strict):
    """When an item (or one piece of evidence) applies. Every condition given must hold."""

    paths: list[str] | None = None  # a changed file matches one of these (gitignore patterns)
    labels_any: list[str] | None = None
    labels_none: list[str] | None = None
    teams_any: list[str] | None = None  # one of these teams' code is touched
    cross_team: bool | None = None  # the change is (or is not) cross-team
    base_branches: list[str] | None = None  # glob patterns on the base branch name


# ----- evidence kinds -----------------------------------------------------------------------

class _Evidence(_Strict):
    when: Condition | None = None


class CheckEvidence(_Evidence):
    """CI checks or commit statuses, by name (glob patterns), that must have succeeded."""

    kind: Literal["check"]
    names: list[str] = Field(min_length=1)
    require: Literal["any", "all"] = "any"  # any: one matching check is enough; all: every pattern
    missing: Literal["pending", "fail"] = "pending"  # no such check reported (yet)


class MetricEvidence(_Evidence):
    """A number read from a check's output or a status description, compared with a threshold."""

    kind: Literal["metric"]
    names: list[str] = Field(min_length=1)
    pattern: str | None = None  # a regex whose first group is the number; default: the first number
    op: Literal[">", ">=", "<", "<="]
    threshold: float
    unit: str = ""
    missing: Literal["pending", "fail"] = "pending"

    _pattern_ok = field_validator("pattern")(_check_regex)


class FilesEvidence(_Evidence):
    """A file matching one of these patterns is changed by the pull request."""

    kind: Literal["files"]
    patterns: list[str] = Field(min_length=1)


class ApprovalsEvidence(_Evidence):
    """Approving reviews: a minimum count, and (cross-team) one per touched team."""

    kind: Literal["approvals"]
    min: int | None = Field(default=None, ge=0)  # default: the review policy's minimum
    per_team: bool = True


class LabelEvidence(_Evidence):
    kind: Literal["label"]
    present: list[str] = []  # one of these labels is set
    absent: list[str] = []  # none of these labels is set

    @model_validator(mode="after")
    def _one_given(self) -> "LabelEvidence":
        if not self.present and not self.absent:
            raise ValueError("give 'present' or 'absent' labels")
        return self


class CheckboxEvidence(_Evidence):
    """A ticked checkbox in the PR description whose text matches ``text`` (a regex)."""

    kind: Literal["checkbox"]
    text: str

    _text_ok = field_validator("text")(_check_regex)


class SectionEvidence(_Evidence):
    """A non-empty section of the PR description under a heading matching ``heading`` (a regex)."""

    kind: Literal["section"]
    heading: str
    min_chars: int = Field(default=1, ge=1)

    _heading_ok = field_validator("heading")(_check_regex)


class LinkedReadyEvidence(_Evidence):
    """The backlog items the PR closes are Ready (labelled with the ready label)."""

    kind: Literal["linked_ready"]


Evidence = Annotated[
    Union[
        CheckEvidence,
        MetricEvidence,
        FilesEvidence,
        ApprovalsEvidence,
        LabelEvidence,
        CheckboxEvidence,
        SectionEvidence,
        LinkedReadyEvidence,
    ],
    Field(discriminator="kind"),
]


class DodItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    number: int | None = None  # its number in the organisation's DoD (1..23), for people
    title: str
    category: str
    severity: Literal["required", "advisory"] = "required"
    evidence: list[Evidence] = Field(min_length=1)  # every applicable piece must pass
    when: Condition | None = None
    waivable: bool = True
    enabled: bool = True
    help: str = ""  # what to do when it fails

    @field_validator("evidence", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @property
    def required(self) -> bool:
        return self.severity == "required"


# ----- organisation ---------------------------------------------------------------------------

class Team(_Strict):
    name: str | None = None  # display name, default the key capitalised
    label: str | None = None  # default "team:<key>"
    paths: list[str] = []  # gitignore patterns
    codeowners: list[str] = []  # CODEOWNERS handles that mean this team, e.g. "@org/backend"
    forge_team: str | None = None  # the forge team slug (membership, review requests); default the key
    members: list[str] = []  # for organisations that do not use forge teams


class Labels(_Strict):
    cross_team: str = "nexus"
    ready: str = "ready"
    needs_refinement: str = "needs-refinement"
    blocked: str = "blocked"
    priorities: list[str] = ["P0", "P1", "P2", "P3"]
    types: list[str] = ["feature", "bug", "refactor", "docs", "test"]
    milestones: list[str] = [f"milestone:{n}" for n in range(1, 7)]
    points_prefix: str = "points:"
    colors: dict[str, str] = {}  # label (or family: "team:*") -> hex colour, used when creating labels


class ReviewPolicy(_Strict):
    min_approvals: int = Field(default=1, ge=0)
    cross_team_min_approvals: int = Field(default=2, ge=0)
    dismiss_stale: bool = False  # approvals of older commits no longer count
    request_reviews: bool = True  # ask each touched team without an approval for a review, once
    ownership_source: Literal["codeowners", "config"] = "codeowners"
    membership_ttl_seconds: int = Field(default=600, ge=0)


class WaiverPolicy(_Strict):
    teams: list[str] = ["nit"]  # members of these teams may waive
    users: list[str] = []
    permissions: list[str] = ["admin"]  # repository permissions that may waive


class Reporting(_Strict):
    check_name: str = "Nexus DoD"
    status_context: str = "nexus/dod"
    sticky_comment_github: bool = False
    details_url: str | None = None  # e.g. https://nexus.example.org/report/{repo}/{number}


# ----- Ready criteria and triage (bot/checks/ready.py, bot/checks/triage.py) --------------------
# Every pattern is a regular expression matched ignoring case and accents, as a whole word or phrase.

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
    },
    "testable": {"ok": frozenset({"count"}), "no_scenario": frozenset(), "no_then": frozenset({"scenarios"})},
}
READY_EXAMPLE_FIELDS = frozenset({"prefix", "scale"})


def _check_regexes(values: list[str]) -> list[str]:
    for value in values:
        _check_regex(value)
    return values


def _check_template(text: str, allowed: frozenset[str], what: str) -> None:
    import string

    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{what}: {exc} (write {{{{ and }}}} for literal braces)") from None
    unknown = names - allowed
    if unknown:
        allowed_text = ", ".join("{" + a + "}" for a in sorted(allowed)) or "none"
        raise ValueError(f"{what}: unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {allowed_text})")


class _Patterns(_Strict):
    @field_validator("*")
    @classmethod
    def _regexes(cls, value: Any) -> Any:
        return _check_regexes(value) if isinstance(value, list) else value


class ReadyDetect(_Patterns):
    """What suggests the language: phrases (weigh 3), common words (weigh 1), letters (1 each)."""

    markers: list[str] = []
    words: list[str] = []
    letters: str = ""


class ReadyStoryWords(_Patterns):
    """"<role> X, <want> Y, <benefit> Z", in this order, in one paragraph."""

    role: list[str] = Field(min_length=1)
    want: list[str] = Field(min_length=1)
    benefit: list[str] = Field(min_length=1)


class ReadyScenarioWords(_Patterns):
    """Gherkin keywords at the start of a line (after a bullet, emphasis or heading marker)."""

    scenario: list[str] = []  # a header, followed by ":"
    background: list[str] = []  # a header whose Given steps need no Then
    given: list[str] = Field(min_length=1)
    when: list[str] = Field(min_length=1)
    then: list[str] = Field(min_length=1)
    continuation: list[str] = []  # And / But


class ReadyEstimateWords(_Patterns):
    fields: list[str] = []  # the label of an estimate line or heading: "Estimation: 5 points"
    inline: list[str] = []  # regexes with a (?P<points>…) group, found anywhere: "5 SP"

    @field_validator("inline")
    @classmethod
    def _points_group(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if "points" not in re.compile(pattern).groupindex:
                raise ValueError(f"{pattern!r} has no (?P<points>...) group")
        return value


class ReadyDependencyWords(_Patterns):
    depends_on: list[str] = []  # phrases before a reference: "depends on #44", "bloqué par org/repo#12"
    blocks: list[str] = []  # "blocks #45", "bloque #45"
    fields: list[str] = []  # the label of a dependencies line or heading: "Dependencies: …"
    none: list[str] = []  # a dependencies line's whole value meaning none: "none", "aucune"
    none_statements: list[str] = []  # a whole line meaning none: "No dependencies"


class ReadyCriterionText(_Strict):
    title: str  # may use {prefix} (labels.points_prefix) and {scale}
    example: str  # the expected form, shown when the criterion fails; may use {prefix} and {scale}
    reasons: dict[str, str]


class ReadyLanguage(_Patterns):
    detect: ReadyDetect = ReadyDetect()
    story: ReadyStoryWords
    scenario: ReadyScenarioWords
    estimate: ReadyEstimateWords = ReadyEstimateWords()
    dependencies: ReadyDependencyWords = ReadyDependencyWords()
    teams: list[str] = []  # the label of the line naming the teams: "Teams: Backend, Frontend"
    criteria: dict[str, ReadyCriterionText]

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
                if key not in text.reasons:
                    raise ValueError(f"{cid}.reasons: reason {key!r} is missing")
                _check_template(text.reasons[key], allowed, f"{cid}.reasons.{key}")
        return value


class TriageConfig(_Patterns):
    types: dict[str, str] = {}  # title prefix ("feat:", "[Bug]") or issue-form Type value -> type label
    type_fields: list[str] = []  # the label of an issue-form heading or line giving the type
    priority_fields: list[str] = []  # the same for the priority (its value must start with a priority label)
    default_priority: str | None = None  # added when the issue has no priority; null: none


class ReadyConfig(_Strict):
    scale: list[int] = Field(default=[1, 2, 3, 5, 8, 13, 21], min_length=1)  # story points allowed
    default_language: str = "en"
    languages: dict[str, ReadyLanguage] = Field(default_factory=lambda: dict(_READY_LANGUAGES))
    triage: TriageConfig = Field(default_factory=lambda: TriageConfig.model_validate(_TRIAGE_DEFAULTS))

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
_READY_EN: dict[str, Any] = {
    'detect': {
        'markers': [
            'as an?', 'i want', "i'd like", 'so that', 'given', 'when', 'then', 'acceptance criteria',
            'depends on', 'blocked by', 'steps to reproduce', 'expected behaviou?r'
        ],
        'words': ['the', 'and', 'is', 'are', 'to', 'of', 'with', 'for', 'this', 'that', 'should', 'it', 'on'],
        'letters': '',
    },
    'story': {
        'role': ['as an?', 'as the', 'as'],
        'want': ['i want', "i'd like", 'i would like', 'i need', 'i wish'],
        'benefit': ['so that', 'in order to', 'so i can'],
    },
    'scenario': {
        'scenario': ['scenario outline', 'scenario template', 'scenario', 'example'],
        'background': ['background'],
        'given': ['given'],
        'when': ['when'],
        'then': ['then'],
        'continuation': ['and', 'but'],
    },
    'estimate': {
        'fields': [
            'estimation', 'estimate', 'estimated', 'story ?points?', 'points?', 'sp', 'effort', 'size'
        ],
        'inline': ['(?<![\\w.,])(?P<points>\\d{1,3})\\s*(?:sp|story[ -]?points?)(?!\\w)'],
    },
    'dependencies': {
        'depends_on': [
            'depends on', 'depend on', 'dependent on', 'depends-on', 'blocked by', 'requires', 'needs',
            'waiting (?:on|for)', 'dependencies', 'dependency'
        ],
        'blocks': [
            'blocks', 'blocking', 'is blocking', 'required by', 'needed by', 'prerequisite (?:of|for)'
        ],
        'fields': ['dependencies', 'dependency', 'depends on', 'blocked by', 'blocks'],
        'none': [
            'none', 'no', 'nothing', 'n/?a', '-+', '—', 'no dependenc(?:y|ies)', 'none (?:identified|known)'
        ],
        'none_statements': [
            'no dependenc(?:y|ies)(?: identified| known)?', 'there are no dependencies',
            'this (?:item|story|issue) has no dependencies'
        ],
    },
    'teams': ['teams?', 'teams? involved', 'involved teams?', 'owner teams?', 'squads?'],
    'criteria': {
        'user-story': {
            'title': 'User story (As a …, I want …, so that …)',
            'example': (
                'As a syndic, I want to submit an expense for approval, so that the council can review it '
                'before payment.'
            ),
            'reasons': {
                'ok': 'User story found.',
                'missing': 'No "As a …, I want …, so that …" sentence found.',
                'no_want': 'The story names a role but no "I want …" part.',
                'no_benefit': 'The story has no "so that …" part: say why it matters.',
            },
        },
        'acceptance-criteria': {
            'title': 'Acceptance criteria (Given / When / Then)',
            'example': (
                '- Given an expense in Draft state\n'
                '- When the syndic clicks "Submit for approval"\n'
                '- Then the expense state is PendingApproval\n'
                '- And an e-mail is sent to the council members'
            ),
            'reasons': {
                'ok': '{count} scenario(s) found.',
                'missing': 'No Given / When / Then scenario found.',
                'no_then': 'Given / When steps found, but no Then: say what must be observed.',
            },
        },
        'estimate': {
            'title': 'Estimated in story points ({scale})',
            'example': 'Estimation: 5 points (or a {prefix}5 label)',
            'reasons': {
                'ok': 'Estimated at {points} points.',
                'ok_label': 'Estimated at {points} points (label {label}).',
                'missing': (
                    'No estimate in story points: add a {prefix}N label or an "Estimation: N points" line.'
                ),
                'off_scale': '{value} is not on the scale {scale}.',
                'unreadable': 'The estimate "{value}" is not a number of story points.',
                'conflict': 'The label {label} counts; the description says {line}.',
            },
        },
        'dependencies': {
            'title': 'Dependencies identified (teams, linked items)',
            'example': (
                'Teams: Backend (3 pts), Frontend (2 pts)\n'
                'Depends on #44, blocks #45 (or: Dependencies: none)'
            ),
            'reasons': {
                'ok': 'Dependencies identified: {summary}.',
                'missing': 'No teams, no linked items and no "Dependencies: none" found.',
                'unclear': 'The dependencies line "{value}" names no team and no issue.',
                'depends_on': 'depends on {refs}',
                'blocks': 'blocks {refs}',
                'teams': 'teams {teams}',
                'none': 'none',
            },
        },
        'testable': {
            'title': 'Testable (every scenario has a Then)',
            'example': (
                'Scenario: submit an expense for approval\n'
                '  Given an expense in Draft state\n'
                '  When the syndic submits it\n'
                '  Then the expense state is PendingApproval'
            ),
            'reasons': {
                'ok': 'Every scenario has a Then ({count}).',
                'no_scenario': 'No scenario to automate.',
                'no_then': 'No Then in: {scenarios}.',
            },
        },
    },
}

_READY_FR: dict[str, Any] = {
    'detect': {
        'markers': [
            'en tant que?', "en tant qu'", 'je veux', 'je souhaite', "afin (?:de|d'|que|qu')", 'pour que',
            'etant donnee?s?', 'quand', 'lorsque?', 'alors', "criteres? d'acceptation", 'depend de',
            'bloquee? par', 'equipes?', 'etapes pour reproduire', 'comportement attendu'
        ],
        'words': [
            'le', 'la', 'les', 'des', 'du', 'une', 'est', 'sont', 'et', 'pour', 'avec', 'dans', 'que', 'qui',
            'sur', 'pas', 'au', 'aux', 'cette', 'doit'
        ],
        'letters': 'éèêëàâçîïôûùœÉÈÀÇ',
    },
    'story': {
        'role': ['en tant que?', "en tant qu'"],
        'want': ['je veux', 'je souhaite', 'je voudrais', "j'aimerais", 'je dois pouvoir', "j'ai besoin de"],
        'benefit': [
            'afin de', "afin d'", 'afin que?', "afin qu'", 'pour que', "pour qu'", 'de sorte que?',
            "de sorte qu'", 'pour pouvoir'
        ],
    },
    'scenario': {
        'scenario': ['plan du scenario', 'scenario', 'exemple'],
        'background': ['contexte'],
        'given': ['etant donnee?s?', 'soit'],
        'when': ['quand', 'lorsque?', "lorsqu'"],
        'then': ['alors'],
        'continuation': ['et', 'mais'],
    },
    'estimate': {
        'fields': ['estimation', 'estimee?', 'points?', "points d'effort", 'complexite'],
        'inline': [],
    },
    'dependencies': {
        'depends_on': [
            'depend de', 'depend du', 'depend des', 'dependant de', 'bloquee?s? par', 'necessite',
            'requiert', 'en attente de', 'dependances?'
        ],
        'blocks': ['bloque', 'bloquant pour', 'bloquante pour', 'requis par', 'prerequis (?:de|pour|a)'],
        'fields': ['dependances?', 'depend de', 'bloquee? par', 'bloque'],
        'none': ['aucune?s?', 'neant', 'rien', 'sans', 'pas de dependances?', 'aucune dependance'],
        'none_statements': [
            'aucune dependance(?: identifiee)?', 'pas de dependances?(?: identifiees?)?',
            'sans dependances?'
        ],
    },
    'teams': ['equipes?', 'equipes? impliquees?', 'equipes? concernees?'],
    'criteria': {
        'user-story': {
            'title': 'User story (En tant que …, je veux …, afin de …)',
            'example': (
                "En tant que syndic, je veux soumettre une facture à l'approbation du conseil syndical, "
                "afin qu'il la valide avant paiement."
            ),
            'reasons': {
                'ok': 'User story trouvée.',
                'missing': 'Aucune phrase « En tant que …, je veux …, afin de … » trouvée.',
                'no_want': 'La story nomme un rôle mais pas de « je veux … ».',
                'no_benefit': "La story n'a pas de « afin de … » : dites pourquoi c'est utile.",
            },
        },
        'acceptance-criteria': {
            'title': "Critères d'acceptation (Étant donné / Quand / Alors)",
            'example': (
                "- Étant donné une facture à l'état Brouillon\n"
                '- Quand le syndic clique sur « Soumettre pour approbation »\n'
                "- Alors la facture passe à l'état EnAttenteApprobation\n"
                '- Et un e-mail est envoyé aux membres du conseil syndical'
            ),
            'reasons': {
                'ok': '{count} scénario(s) trouvé(s).',
                'missing': 'Aucun scénario Étant donné / Quand / Alors trouvé.',
                'no_then': (
                    'Des étapes Étant donné / Quand, mais aucun Alors : dites ce qui doit être constaté.'
                ),
            },
        },
        'estimate': {
            'title': 'Estimée en story points ({scale})',
            'example': 'Estimation : 5 points (ou un label {prefix}5)',
            'reasons': {
                'ok': 'Estimée à {points} points.',
                'ok_label': 'Estimée à {points} points (label {label}).',
                'missing': (
                    "Pas d'estimation en story points : ajoutez un label {prefix}N ou une ligne « "
                    'Estimation : N points ».'
                ),
                'off_scale': "{value} n'est pas sur l'échelle {scale}.",
                'unreadable': "L'estimation « {value} » n'est pas un nombre de story points.",
                'conflict': 'Le label {label} fait foi ; la description indique {line}.',
            },
        },
        'dependencies': {
            'title': 'Dépendances identifiées (équipes, items liés)',
            'example': (
                'Équipes : Backend (3 pts), Frontend (2 pts)\n'
                'Dépend de #44, bloque #45 (ou : Dépendances : aucune)'
            ),
            'reasons': {
                'ok': 'Dépendances identifiées : {summary}.',
                'missing': 'Ni équipes, ni items liés, ni « Dépendances : aucune » trouvés.',
                'unclear': 'La ligne de dépendances « {value} » ne nomme ni équipe ni issue.',
                'depends_on': 'dépend de {refs}',
                'blocks': 'bloque {refs}',
                'teams': 'équipes {teams}',
                'none': 'aucune',
            },
        },
        'testable': {
            'title': 'Testable (chaque scénario a un Alors)',
            'example': (
                'Scénario : soumettre une facture pour approbation\n'
                "  Étant donné une facture à l'état Brouillon\n"
                '  Quand le syndic la soumet\n'
                "  Alors la facture passe à l'état EnAttenteApprobation"
            ),
            'reasons': {
                'ok': 'Chaque scénario a un Alors ({count}).',
                'no_scenario': 'Aucun scénario à automatiser.',
                'no_then': 'Pas de « Alors » dans : {scenarios}.',
            },
        },
    },
}

_TRIAGE_DEFAULTS: dict[str, Any] = {
    'types': {
        'feat': 'feature',
        'feature': 'feature',
        'enhancement': 'feature',
        'fonctionnalite': 'feature',
        'fix': 'bug',
        'bug': 'bug',
        'bugfix': 'bug',
        'hotfix': 'bug',
        'bogue': 'bug',
        'anomalie': 'bug',
        'refactor': 'refactor',
        'refactoring': 'refactor',
        'refacto': 'refactor',
        'docs': 'docs',
        'doc': 'docs',
        'documentation': 'docs',
        'test': 'test',
        'tests': 'test',
    },
    'type_fields': ['type', 'issue type', 'kind', "type d'item", 'type de ticket'],
    'priority_fields': ['priority', 'priorite'],
    'default_priority': None,
}

_READY_LANGUAGES = {"en": ReadyLanguage.model_validate(_READY_EN), "fr": ReadyLanguage.model_validate(_READY_FR)}


class Config(_Strict):
    version: Literal[1] = 1
    categories: dict[str, str]  # id -> title, in display order
    teams: dict[str, Team] = {}
    labels: Labels = Labels()
    review: ReviewPolicy = ReviewPolicy()
    waivers: WaiverPolicy = WaiverPolicy()
    reporting: Reporting = Reporting()
    command_prefix: str = "/nexus"
    items: list[DodItem] = Field(min_length=1)
    ready: ReadyConfig = ReadyConfig()  # Ready criteria and triage, see bot/checks/ready.py

    def team_label(self, key: str) -> str:
        return self.teams[key].label or f"team:{key}"

    def team_name(self, key: str) -> str:
        return self.teams[key].name or key.capitalize()

    def team_slug(self, key: str) -> str:
        return self.teams[key].forge_team or key

    def enabled_items(self) -> list[DodItem]:
        return [i for i in self.items if i.enabled]


# ----- loading with line numbers --------------------------------------------------------------

Path_ = tuple[Any, ...]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _parse(text: str, filename: str) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    tree, where = _parse_cached(text, filename)
    return copy.deepcopy(tree), dict(where)


@lru_cache(maxsize=64)
def _parse_cached(text: str, filename: str) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise ConfigError(filename, None, None, f"the file is larger than {MAX_CONFIG_BYTES // 1024} KB")
    try:
        tree = _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(filename, mark.line + 1 if mark else None, None, f"not valid YAML: {problem}") from None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        raise ConfigError(filename, None, None, f"not valid YAML: {exc}") from None
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ConfigError(filename, 1, None, "the file must be a mapping of settings (key: value)")
    where: dict[Path_, tuple[str, int]] = {}
    budget = [MAX_CONFIG_NODES]

    def walk(node: Any, path: Path_) -> None:
        budget[0] -= 1
        if budget[0] < 0:  # YAML aliases can expand a few hundred bytes into billions of nodes
            raise ConfigError(filename, None, None,
                              f"the file expands to more than {MAX_CONFIG_NODES} values (YAML aliases?)")
        if isinstance(node, dict):
            for key in node:
                try:
                    where[path + (key,)] = (filename, node.lc.key(key)[0] + 1)
                except Exception:
                    pass
                walk(node[key], path + (key,))
        elif isinstance(node, list):
            for idx, value in enumerate(node):
                try:
                    where[path + (idx,)] = (filename, node.lc.item(idx)[0] + 1)
                except Exception:
                    pass
                walk(value, path + (idx,))

    walk(tree, ())
    return _plain(tree), where


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _merge(base: Any, override: Any, path: Path_, where: dict, over_where: dict, over_path: Path_) -> Any:
    """Deep-merge ``override`` into ``base``; items are merged by id. ``where`` learns the new paths."""
    def remap(src: Path_, dst: Path_) -> None:
        for p, pos in over_where.items():
            if p[: len(src)] == src:
                where[dst + p[len(src):]] = pos

    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if path == () and key == "items" and isinstance(value, list) and isinstance(base.get("items"), list):
                out[key] = _merge_items(base["items"], value, where, over_where)
                if ("items",) in over_where:
                    where[("items",)] = over_where[("items",)]
            elif key in base:
                out[key] = _merge(base[key], value, path + (key,), where, over_where, over_path + (key,))
                if over_path + (key,) in over_where:
                    where[path + (key,)] = over_where[over_path + (key,)]
            else:
                out[key] = value
                remap(over_path + (key,), path + (key,))
        return out
    remap(over_path, path)
    return override


def _merge_items(base: list, override: list, where: dict, over_where: dict) -> list:
    out = list(base)
    index = {item.get("id"): i for i, item in enumerate(out) if isinstance(item, dict) and isinstance(item.get("id"), str)}
    for j, item in enumerate(override):
        item_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        if item_id in index:
            k = index[item_id]
            out[k] = _merge(out[k], item, ("items", k), where, over_where, ("items", j))
        else:
            k = len(out)
            out.append(item)
            for p, pos in over_where.items():
                if p[:2] == ("items", j):
                    where[("items", k) + p[2:]] = pos
        if ("items", j) in over_where:
            where[("items", k)] = over_where[("items", j)]
    return out


def _validation_error(exc: ValidationError, where: dict, default_file: str, data: Any) -> ConfigError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    # pydantic puts the union tag in the loc (items.3.evidence.0.metric.threshold): drop it
    clean: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            clean.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            clean.append(part)
            node = node[part]
        elif isinstance(node, dict) and (part == 0 or part == node.get("kind")):
            continue  # a single evidence given as a mapping, or the union's tag
        else:
            clean.append(part)
            node = None
    file, line = default_file, None
    for n in range(len(clean), 0, -1):
        if tuple(clean[:n]) in where:
            file, line = where[tuple(clean[:n])]
            break
    names: list[str] = []
    node = data
    for part in clean:
        child = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        if isinstance(part, int) and isinstance(child, dict) and child.get("id"):
            names[-1] += f"[{child['id']}]"  # items[coverage] reads better than items.2
        else:
            names.append(str(part))
        node = child
    field = ".".join(names) or None
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown setting (check its spelling)"
    elif err["type"] == "missing":
        message = "this setting is required"
    return ConfigError(file, line, field, message)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


def load_config(*sources: tuple[str, str]) -> Config:
    """Load and validate the merged config from ``(filename, text)`` pairs, later ones overriding."""
    data: Any = {}
    where: dict[Path_, tuple[str, int]] = {}
    first = sources[0][0] if sources else "config"
    for n, (filename, text) in enumerate(sources):
        tree, tree_where = _parse(text, filename)
        for path in ORGANISATION_ONLY if n else ():
            if path in tree_where:
                raise ConfigError(filename, tree_where[path][1], ".".join(path),
                                  "this is set for the whole organisation (config/dod.yml), not per repository")
        if not data:
            data, where = tree, dict(tree_where)
        else:
            data = _merge(data, tree, (), where, tree_where, ())
    default_file = sources[-1][0] if len(sources) > 1 else first
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where, default_file, data) from None
    problem = _inconsistency(config)
    if problem:
        path, message = problem
        file, line = where.get(path, (default_file, None))
        field = f"items[{config.items[path[1]].id}].{'.'.join(map(str, path[2:]))}".rstrip(".")
        raise ConfigError(file, line, field, message)
    return config


def _inconsistency(config: Config) -> tuple[Path_, str] | None:
    """Cross-references pydantic cannot see: ids, categories and teams named by items."""
    seen: set[str] = set()
    for n, item in enumerate(config.items):
        if item.id in seen:
            return ("items", n, "id"), f"the id {item.id!r} is used by two items"
        seen.add(item.id)
        if item.category not in config.categories:
            return ("items", n, "category"), f"{item.category!r} is not a category; valid: {', '.join(config.categories)}"
        conditions = [(("items", n, "when"), item.when)]
        conditions += [(("items", n, "evidence", k, "when"), ev.when) for k, ev in enumerate(item.evidence)]
        for path, cond in conditions:
            for team in (cond.teams_any or []) if cond else []:
                if team not in config.teams:
                    return path + ("teams_any",), f"{team!r} is not a team; valid: {', '.join(config.teams)}"
    return None


def default_config_text() -> tuple[str, str]:
    """The embedded organisation config (``config/dod.yml``)."""
    return ("config/dod.yml", DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def load_file(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, None, f"cannot read the file ({exc})") from None
    return load_config((str(path), text))
