"""An issue body as the Ready criteria and triage read it: lines without markdown markup, and the
fields an issue form or a person writes ("Estimation: 5 points", a "### Teams" heading and the
lines under it). Code, quotes and comments are as ``text.py`` reads them for every rule; Gherkin is
often written in code blocks, so code lines are kept (verbatim, without markup removed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from .text import TICKS, Text, as_text, fold

MAX_LINES = 50_000  # a body is read up to this many lines (GitHub caps bodies at 65,536 characters)
MAX_LINE = 10_000  # and a line up to this many characters

_QUOTE = re.compile(r"^(?:\s*>)+\s*")
_HEADING = re.compile(r"^#{1,6}(?=\s|$)")
_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s+")
_BOX = re.compile(rf"^\[([ {TICKS}])\]\s*")
_EMPHASIS = re.compile(r"(?<!\w)[*_]+|[*_]+(?!\w)|~~|`")
_PARENS = re.compile(r"\([^)]{0,80}\)")
_NO_RESPONSE = re.compile(r"(?i)^no response$")


class Line(NamedTuple):
    text: str  # without markdown markup
    folded: str  # ``text`` without accents
    heading: bool = False
    item: bool = False  # a list item
    checked: bool | None = None  # a task-list item: ticked or not
    code: bool = False  # inside a fenced code block
    label: str | None = None  # "Label" of a "Label: value" line, normalised


@dataclass(frozen=True)
class FieldValue:
    """A "Label: value" line, or a heading with the text under it (issue-form output)."""

    label: str  # folded, without markup and parentheses
    values: tuple[str, ...]
    line: int


@dataclass
class Body:
    lines: list[Line]
    fields: list[FieldValue]
    text: Text  # the body as written, read once (links, language detection)

    def paragraphs(self) -> list[str]:
        """Folded paragraphs, lines joined with spaces; headings stand alone."""
        out, cur = [], []
        for line in self.lines:
            if line.heading or not line.text:
                if cur:
                    out.append(" ".join(cur))
                    cur = []
                if line.heading and line.text:
                    out.append(line.folded)
            else:
                cur.append(line.folded)
        if cur:
            out.append(" ".join(cur))
        return out


def normalise_label(text: str) -> str:
    """ "**Équipes (impliquées)** :" -> "equipes": folded, lower case, no parentheses, no edge symbols."""
    words = _PARENS.sub(" ", fold(text[:200])).split()
    start, end = 0, len(words)
    while start < end and not any(c.isalnum() for c in words[start]):
        start += 1
    while end > start and not any(c.isalnum() for c in words[end - 1]):
        end -= 1
    label = " ".join(words[start:end])
    i, j = 0, len(label)
    while i < j and not label[i].isalnum():
        i += 1
    while j > i and not label[j - 1].isalnum():
        j -= 1
    return label[i:j].lower()


def _label(text: str) -> str | None:
    colon = text.find(":")
    if 0 < colon <= 40 and text[colon + 1: colon + 3] != "//":
        candidate = normalise_label(text[:colon])
        if candidate and any(c.isalpha() for c in candidate):
            return candidate
    return None


_BLANK, _BLANK_CODE = Line("", ""), Line("", "", code=True)
_MARKUP = re.compile(r"[*_~`:]")
_OPENERS = frozenset(">#-*+•[0123456789")


def _line(raw: str, code: bool) -> Line:
    s = raw.strip()
    if not s:
        return _BLANK_CODE if code else _BLANK
    if code:
        if s[0] == "#":  # a Gherkin (or shell) comment
            return _BLANK_CODE
        return Line(s, fold(s), code=True, label=_label(s) if ":" in s else None)
    if s[0] not in _OPENERS and not _MARKUP.search(s):
        return Line(s, fold(s))  # plain prose, the common case
    heading = item = False
    checked = None
    if s[0] == ">":
        s = _QUOTE.sub("", s)
    if s[:1] == "#" and (m := _HEADING.match(s)):
        heading, s = True, s[m.end():].strip().rstrip("#").strip()
    if s[:1] in ("-", "*", "+", "•") or s[:1].isdigit():
        if m := _ITEM.match(s):
            item, s = True, s[m.end():]
    if s[:1] == "[" and (m := _BOX.match(s)):
        checked, s = m.group(1) != " ", s[m.end():]
    s = _EMPHASIS.sub("", s)
    text = s.strip()
    label = _label(text) if not heading and ":" in text[:41] else None
    return Line(text, fold(text), heading, item, checked, False, label)


def read_body(text: "Text | str | None") -> Body:
    """The body's lines without markup, and its fields."""
    text = as_text(text)
    lines: list[Line] = []
    for line in text.lines[:MAX_LINES]:
        lines.append(_BLANK if line.fence else _line(line.body[:MAX_LINE], line.code))
    return Body(lines, _fields(lines), text)


def _usable(line: Line) -> bool:
    return bool(line.text) and line.checked is not False and not _NO_RESPONSE.match(line.text)


def _empty_label(line: Line) -> bool:
    """ "Estimation:" with nothing after it: a field of its own, not a value."""
    return line.label is not None and not line.text[line.text.find(":") + 1:].strip()


def _fields(lines: list[Line]) -> list[FieldValue]:
    out: list[FieldValue] = []
    n = len(lines)
    for i, line in enumerate(lines):
        if line.heading and line.text:
            values, j = [], i + 1
            while j < n and not lines[j].heading:
                if _usable(lines[j]) and not _empty_label(lines[j]) and len(values) < 50:
                    values.append(lines[j].text)
                j += 1
            out.append(FieldValue(normalise_label(line.text), tuple(values), i))
        elif line.label is not None:
            value = line.text[line.text.find(":") + 1:].strip()
            if value:
                out.append(FieldValue(line.label, (value,), i))
                continue
            values, j = [], i + 1
            while j < n and j <= i + 3 and not lines[j].text and not lines[j].heading:
                j += 1
            while j < n and j <= i + 40 and lines[j].item and not lines[j].heading:
                if _usable(lines[j]):
                    values.append(lines[j].text)
                j += 1
            if not values and j < n and _usable(lines[j]) and not lines[j].heading and lines[j].label is None:
                values.append(lines[j].text)
            out.append(FieldValue(line.label, tuple(values), i))
    return out
