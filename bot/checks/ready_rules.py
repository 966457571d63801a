"""The Ready and triage patterns of a config, compiled once per config, and the readings both
share: teams named in values, the teams line, the issue's language."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..config.base import PerConfig
from ..config.ready import ReadyLanguage
from .issue_body import Body
from .text import fold, word_pattern

if TYPE_CHECKING:
    from ..config import Config

DETECT_CHARS = 20_000  # the language is guessed from the title and this much of the body
MARKER_WEIGHT = 3


def _full(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fold(p)})" for p in patterns), re.IGNORECASE)


def _step_pattern(langs: list[ReadyLanguage]) -> re.Pattern[str]:
    def group(name: str, words: list[str], header: bool = False) -> str:
        alts = "|".join(f"(?:{fold(w)})" for w in words) or "(?!)"
        tail = r"\s*:" if header else r"(?:(?<=')|(?!\w))"
        return f"(?P<{name}>(?:{alts}){tail})"

    s = [lang.scenario for lang in langs]
    groups = [
        group("scenario", [w for x in s for w in x.scenario], header=True),
        group("background", [w for x in s for w in x.background], header=True),
        group("given", [w for x in s for w in x.given]),
        group("when", [w for x in s for w in x.when]),
        group("then", [w for x in s for w in x.then]),
        group("continuation", [w for x in s for w in x.continuation]),
    ]
    return re.compile("^(?:" + "|".join(groups) + ")", re.IGNORECASE)


def _inline_step_pattern(langs: list[ReadyLanguage]) -> re.Pattern[str]:
    s = [lang.scenario for lang in langs]
    joins = "|".join(f"(?:{fold(w)})" for x in s for w in x.continuation) or "(?!)"
    when = "|".join(f"(?:{fold(w)})" for x in s for w in x.when)
    then = "|".join(f"(?:{fold(w)})" for x in s for w in x.then)
    return re.compile(
        rf"[,;]\s*(?:(?:{joins})\s+)?(?:(?P<when>{when})|(?P<then>{then}))(?:(?<=')|(?!\w))", re.IGNORECASE
    )


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
        self.estimate_inline = [re.compile(fold(p), re.IGNORECASE) for lang in langs for p in lang.estimate.inline]
        self.deps_field = _full([p for lang in langs for p in lang.dependencies.fields])
        self.none_value = _full([p for lang in langs for p in lang.dependencies.none])
        self.none_statement = _full([p for lang in langs for p in lang.dependencies.none_statements])
        self.none_line = re.compile(  # lines that may be a none statement: filtered cheaply, then matched
            r"^(?:" + "|".join(f"(?:{fold(p)})" for lang in langs for p in lang.dependencies.none_statements)
            + r")\b[^\n]*$" if self.none_statement else r"(?!)", re.IGNORECASE | re.MULTILINE
        )
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


def matches(pattern: re.Pattern[str] | None, text: str) -> bool:
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


def _count(pattern: re.Pattern[str] | None, text: str) -> int:
    return 0 if pattern is None else sum(1 for _ in pattern.finditer(text))
