"""Cucumber's Gherkin keywords in every language it knows, sorted into what the Ready check reads.

The table is cucumber's own (``gherkin-languages.json``, shipped in the ``gherkin-official`` package
and read by its ``gherkin.dialect`` module when imported): the repository keeps no copy of it. Its
keys map onto the kinds of ``bot/checks/ready.py``:

- ``scenario`` and ``scenarioOutline`` (Scenario, Example, Scenario Outline): scenario headers;
- ``background``: the background header;
- ``given``, ``when``, ``then``: those steps;
- ``and`` and ``but``: continuations, and so is ``*``, which Gherkin allows for any step: it
  continues the current scenario without saying which kind of step it is.

``feature``, ``rule`` and ``examples`` start no scenario and are not read. Keywords are as the table
writes them, less its trailing space ("Given ", "* "); ``joined`` names the step keywords the table
writes without one ("Lorsqu'", Japanese "前提"): the step's text follows them without a space.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

from gherkin.dialect import DIALECTS

KINDS = ("scenario", "background", "given", "when", "then", "continuation")
HEADERS = ("scenario", "background")  # followed by ":"; the other kinds are steps
_TABLE_KEYS = {
    "scenario": ("scenario", "scenarioOutline"),
    "background": ("background",),
    "given": ("given",),
    "when": ("when",),
    "then": ("then",),
    "continuation": ("and", "but"),
}
_STEP_KEYS = ("given", "when", "then", "and", "but")
ANY_STEP = "*"

LANGUAGES: frozenset[str] = frozenset(DIALECTS)  # the codes of a feature file's "# language:" line


@dataclass(frozen=True)
class GherkinKeywords:
    """One language's keywords, per kind (``KINDS``), as cucumber writes them."""

    code: str
    by_kind: dict[str, tuple[str, ...]]
    joined: frozenset[str]  # step keywords written without a space after them


@lru_cache(maxsize=None)
def gherkin_keywords(code: str) -> GherkinKeywords:
    """The keywords of the language ``code`` (one of ``LANGUAGES``); KeyError for another."""
    spec = DIALECTS[code]
    by_kind: dict[str, tuple[str, ...]] = {}
    joined: set[str] = set()
    for kind, keys in _TABLE_KEYS.items():
        words: list[str] = []
        for key in keys:
            for written in spec.get(key, []):
                word = written.strip()
                if not word or word == ANY_STEP or word in words:
                    continue
                words.append(word)
                if kind not in HEADERS and not written.endswith(" "):
                    joined.add(word)
        by_kind[kind] = tuple(words)
    if any(written.strip() == ANY_STEP for key in _STEP_KEYS for written in spec.get(key, [])):
        by_kind["continuation"] += (ANY_STEP,)
    return GherkinKeywords(code, by_kind, frozenset(joined))


def close_codes(code: str) -> list[str]:
    """Known codes that look like ``code`` ("FR" -> fr, "fra" -> fr, fa), for an error message."""
    by_lower = {c.lower(): c for c in LANGUAGES}
    near = difflib.get_close_matches(code.lower().replace("_", "-"), sorted(by_lower), n=3, cutoff=0.6)
    return [by_lower[c] for c in near]
