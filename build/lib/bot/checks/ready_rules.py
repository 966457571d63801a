"""The Ready and triage patterns of a config, compiled once per config, and the readings both
share: teams named in values, the teams line, the issue's language."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..config.base import PerConfig
from ..config.ready import ReadyLanguage
from .issue_body import Body
from .patterns import Words, compile
from .text import fold

if TYPE_CHECKING:
    from ..config import Config

DETECT_CHARS = 20_000  # the language is guessed from the title and this much of the body
MARKER_WEIGHT = 3


NOTHING = r"[^\x00-\x{10ffff}]"  # RE2 has no (?!): a class nothing matches


def _alternatives(patterns: list[str]) -> str:
    return "|".join(f"(?:{fold(p)})" for p in patterns) or NOTHING


def _full(patterns: list[str]):
    """Matches a whole value (``matches``); RE2, ignoring case."""
    return compile(_alternatives(patterns), ignore_case=True) if patterns else None


def _step_pattern(langs: list[ReadyLanguage]) -> Words:
    def group(name: str, words: list[str], header: bool = False) -> str:
        tail = r"\s*:" if header else ""
        return f"(?P<{name}>(?:{_alternatives(words)}){tail})"

    s = [lang.scenario for lang in langs]
    groups = [
        group("scenario", [w for x in s for w in x.scenario], header=True),
        group("background", [w for x in s for w in x.background], header=True),
        group("given", [w for x in s for w in x.given]),
        group("when", [w for x in s for w in x.when]),
        group("then", [w for x in s for w in x.then]),
        group("continuation", [w for x in s for w in x.continuation]),
    ]
    return Words("|".join(groups), start_boundary=False, free_ends=frozenset({"scenario", "background"}))


def _inline_step_pattern(langs: list[ReadyLanguage]) -> Words:
    s = [lang.scenario for lang in langs]
    joins = _alternatives([w for x in s for w in x.continuation])
    when = _alternatives([w for x in s for w in x.when])
    then = _alternatives([w for x in s for w in x.then])
    return Words(rf"[,;]\s*(?:(?:{joins})\s+)?(?:(?P<when>{when})|(?P<then>{then}))", start_boundary=False)


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
        self.step = _step_pattern(langs)
        self.inline_step = _inline_step_pattern(langs)
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
