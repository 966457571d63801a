"""The Ready and triage patterns of a config, compiled once per config, and the readings both
share: teams named in values, the teams line, the issue's language. The Gherkin step patterns hold
cucumber's keywords for ``ready.gherkin_languages`` (``config/gherkin.py``) and those a language adds."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..config.base import PerConfig
from ..config.gherkin import ANY_STEP, HEADERS, KINDS, gherkin_keywords
from .issue_body import Body
from .patterns import Words, compile, literal
from .text import fold

if TYPE_CHECKING:
    from ..config import Config

STEPS = tuple(kind for kind in KINDS if kind not in HEADERS)
DETECT_CHARS = 20_000  # the language is guessed from the title and this much of the body
MARKER_WEIGHT = 3


NOTHING = r"[^\x00-\x{10ffff}]"  # RE2 has no (?!): a class nothing matches


def _alternatives(patterns: list[str]) -> str:
    return "|".join(f"(?:{fold(p)})" for p in patterns) or NOTHING


def _full(patterns: list[str]):
    """Matches a whole value (``matches``); RE2, ignoring case."""
    return compile(_alternatives(patterns), ignore_case=True) if patterns else None


# ----- Gherkin keywords: cucumber's, for the configured languages, and any a language adds ----------

JOINED = "_joined"  # the suffix of a step group whose keywords the step's text follows without a space


def step_kind(group: str) -> str:
    """The kind (``gherkin.KINDS``) of a step pattern's group: "when_joined" -> "when"."""
    return group.removesuffix(JOINED)


def _keyword(word: str) -> str:
    """A keyword of cucumber's table as an RE2 pattern: itself, folded (patterns are matched ignoring
    case and accents), any run of spaces between its words."""
    return r"\s+".join(literal(part) for part in fold(word).split())


def _keywords(config: "Config") -> dict[str, tuple[list[str], list[str]]]:
    """Per kind: (patterns of the keywords a word boundary ends, of those joined to the text), each
    once ("Étant donné", "Etant donné" and "Etant Donné" are one pattern)."""
    found: dict[str, tuple[dict[str, str], dict[str, str]]] = {kind: ({}, {}) for kind in KINDS}
    for code in config.ready.gherkin_languages:
        table = gherkin_keywords(code)
        for kind in KINDS:
            for word in table.by_kind[kind]:
                pattern = _keyword(word)
                found[kind][word in table.joined].setdefault(pattern.casefold(), pattern)
    for lang in config.ready.languages.values():
        for kind in KINDS:
            for pattern in getattr(lang.scenario, kind):
                found[kind][0].setdefault(fold(pattern), fold(pattern))
    return {kind: (list(bounded.values()), list(joined.values())) for kind, (bounded, joined) in found.items()}


def _groups(found: dict[str, tuple[list[str], list[str]]], kinds: tuple[str, ...], tail: str = "") -> list[str]:
    groups = []
    for kind in kinds:
        for suffix, words in zip(("", JOINED), found[kind]):
            if words:
                groups.append(f"(?P<{kind}{suffix}>(?:{'|'.join(f'(?:{w})' for w in words)}){tail})")
    return groups


def _step_pattern(found: dict[str, tuple[list[str], list[str]]]) -> Words:
    """A keyword at the start of a line: a header followed by ":", or a step."""
    groups = _groups(found, HEADERS, tail=r"\s*:") + _groups(found, STEPS)
    free = frozenset(HEADERS) | {kind + JOINED for kind in STEPS}
    return Words("|".join(groups) or NOTHING, start_boundary=False, free_ends=free, longest=True)


def _inline_step_pattern(found: dict[str, tuple[list[str], list[str]]]) -> Words:
    """A When or Then later in a step's line, after a comma: "Given x, when y, then z"."""
    joins = [w for w in found["continuation"][0] if w != _keyword(ANY_STEP)]
    steps = "|".join(_groups(found, ("when", "then"))) or NOTHING
    return Words(rf"[,;]\s*(?:(?:{_alternatives(joins)})\s+)?(?:{steps})", start_boundary=False,
                 free_ends=frozenset({"when" + JOINED, "then" + JOINED}), longest=True)


def word_pattern(patterns: list[str]) -> Words | None:
    """Any of ``patterns`` as a whole word or phrase, ignoring case and accents."""
    return Words(_alternatives(patterns)) if patterns else None


class Rules:
    """The config's patterns, compiled."""

    def __init__(self, config: "Config"):
        ready = config.ready
        langs = list(ready.languages.values())
        self.story = [
            (word_pattern(lang.story.role), word_pattern(lang.story.want), word_pattern(lang.story.benefit))
            for lang in langs
        ]
        keywords = _keywords(config)
        self.step = _step_pattern(keywords)
        self.inline_step = _inline_step_pattern(keywords)
        self.teams_field = _full([p for lang in langs for p in lang.teams])
        self.estimate_field = _full([p for lang in langs for p in lang.estimate.fields])
        self.estimate_inline = [compile(fold(p), ignore_case=True) for lang in langs for p in lang.estimate.inline]
        self.deps_field = _full([p for lang in langs for p in lang.dependencies.fields])
        self.none_value = _full([p for lang in langs for p in lang.dependencies.none])
        self.none_statement = _full([p for lang in langs for p in lang.dependencies.none_statements])
        none_statements = [p for lang in langs for p in lang.dependencies.none_statements]
        # lines that may be a none statement: filtered cheaply (their start), then matched whole
        self.none_line = compile(_alternatives(none_statements), ignore_case=True) if none_statements else None
        self.type_field = _full(ready.triage.type_fields)
        self.priority_field = _full(ready.triage.priority_fields)
        self.detect = {
            key: (word_pattern(lang.detect.markers), word_pattern(lang.detect.words), frozenset(lang.detect.letters))
            for key, lang in ready.languages.items()
        }
        self.teams = [
            (key, re.compile(
                r"(?<![\w-])(?:" + "|".join(re.escape(fold(n)) for n in _team_names(config, key)) + r")(?![\w-])",
                re.IGNORECASE,
            ))
            for key in config.teams
        ]


def _team_names(config: "Config", key: str) -> list[str]:
    names = {key, config.team_name(key), config.team_label(key)}
    return sorted(names, key=len, reverse=True)


rules: PerConfig[Rules] = PerConfig(Rules)  # the config's patterns, compiled once


def matches(pattern, text: str) -> bool:
    return pattern is not None and pattern.fullmatch(text) is not None



# URLs and org/repo#12 name no team; each alternative starts only where a run of its characters starts
_REFERENCE = re.compile(r"(?<![\w+.-])[a-z][\w+.-]*://\S*|(?<![\w.-])[\w.-]+/[\w.-]+#\d+", re.IGNORECASE)


def teams_in(values: list[str] | tuple[str, ...], config: "Config") -> list[str]:
    """The config team keys named in ``values``, in order of first mention."""
    found: list[tuple[int, int, str]] = []
    for v, value in enumerate(values):
        folded = _REFERENCE.sub(" ", fold(value))
        for key, pattern in rules(config).teams:
            m = pattern.search(folded)
            if m:
                found.append((v, m.start(), key))
    seen: list[str] = []
    for _, _, key in sorted(found):
        if key not in seen:
            seen.append(key)
    return seen


def named_teams(body: Body, config: "Config") -> list[str]:
    """The teams named on the "Teams:" / "Équipes :" lines (or headings)."""
    pattern = rules(config).teams_field
    values = [v for f in body.fields if matches(pattern, f.label) for v in f.values]
    return teams_in(values, config)


def detect_language(text: str, config: "Config") -> str:
    """The configured language scoring highest: 3 per marker phrase ("en tant que", "given"), 1 per
    common word, 1 per characteristic letter ("é"); the default language when nothing scores, the
    first configured language on a tie."""
    sample = text[:DETECT_CHARS]
    folded = fold(sample)
    best, best_score = config.ready.default_language, 0
    for key, (markers, words, letters) in rules(config).detect.items():
        score = MARKER_WEIGHT * _count(markers, folded) + _count(words, folded)
        score += sum(1 for c in sample if c in letters) if letters else 0
        if score > best_score:
            best, best_score = key, score
    return best


def _count(pattern: Words | None, text: str) -> int:
    return 0 if pattern is None else pattern.count(text)
