"""Patterns that come from config run in linear time, on RE2 (``google-re2``).

Python's ``re`` backtracks: a repository's ``(a+)+$`` against 40 ``a`` would run for hours and, since
``re`` holds the GIL, stop the whole process. Every regular expression a config supplies (checkbox
texts, section headings, metric patterns, Ready and triage keywords) is compiled here instead; one
that RE2 cannot run (a look-around, a back-reference) is refused by the config loader with its file
and line, before it can do harm.

RE2 has no look-around, so the whole-word matching the Ready keywords need ("given" but not
"forgiven"; "qu'" may be followed by a letter) is done around RE2's matches: the character before
must not be a letter, a digit or ``_``; the one after neither, unless the match ends with an
apostrophe. A match whose end fails that test is retried with its shorter ends (up to
``MAX_BACKOFF`` characters), as a backtracking engine would, and the search goes on after it.

Texts are searched as UTF-8 bytes, encoded once per text: the ``re2`` module's ``str`` interface
encodes the whole text again at each call, which would make a search loop quadratic.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator, NamedTuple

import re2

MAX_BACKOFF = 64  # characters a whole-word match may give back to find a word boundary


def _options(ignore_case: bool, longest: bool = False) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the config's error, said with its line
    options.case_sensitive = not ignore_case
    options.longest_match = longest
    return options


def check(pattern: str) -> str:
    """``pattern`` when RE2 can run it; ValueError saying why not (for the config's validators)."""
    try:
        re2.compile(pattern, _options(False))
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"not a valid regular expression for the linear-time engine (RE2): {reason}") from None
    return pattern


@lru_cache(maxsize=4096)
def compile(pattern: str, ignore_case: bool = False, longest: bool = False):  # noqa: A001 - the re module's name
    """A compiled RE2 pattern (the ``re`` interface: search, match, fullmatch, groupindex).
    ``longest``: of the alternatives that match at a place, the longest wins, not the first."""
    return re2.compile(pattern, _options(ignore_case, longest))


def search(pattern: str, text: str):
    return compile(pattern).search(text)


def literal(text: str) -> str:
    """``text`` as an RE2 pattern matching exactly it."""
    return "".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


class Found(NamedTuple):
    start: int  # character offsets in the text searched
    end: int
    group: str | None  # the name of the last named group that matched, when the pattern has some


class Text:
    """One text, encoded once, searched by several patterns."""

    __slots__ = ("text", "data", "ascii", "_mark")

    def __init__(self, text: str):
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(text)
        self._mark = (0, 0)  # (byte, char) offsets last converted: matches come left to right

    def byte(self, char_offset: int) -> int:
        return char_offset if self.ascii else len(self.text[:char_offset].encode("utf-8", "surrogatepass"))

    def char(self, byte_offset: int) -> int:
        if self.ascii:
            return byte_offset
        mark_byte, mark_char = self._mark
        if byte_offset < mark_byte:
            mark_byte, mark_char = 0, 0
        char = mark_char + len(self.data[mark_byte:byte_offset].decode("utf-8", "surrogatepass"))
        self._mark = (byte_offset, char)
        return char


class Words:
    """Whole words or phrases: every match of one RE2 pattern that stands alone in the text."""

    def __init__(self, pattern: str, *, ignore_case: bool = True, start_boundary: bool = True,
                 free_ends: frozenset[str] = frozenset(), longest: bool = False):
        """``free_ends``: named groups whose matches need no word boundary after them ("Scenario:").
        ``longest``: the longest alternative wins (keywords of several groups where one may be the
        start of another: Czech "A" and "Ale")."""
        self.regex = compile(pattern, ignore_case, longest)
        self.start_boundary = start_boundary
        self.free_ends = free_ends

    def finditer(self, text: str | Text, pos: int = 0) -> Iterator[Found]:
        """Non-overlapping whole-word matches, left to right, from character ``pos``."""
        t = text if isinstance(text, Text) else Text(text)
        regex, data = self.regex, t.data
        at = t.byte(pos)
        while at <= len(data):
            m = regex.search(data, at)
            if m is None:
                return
            start, end = m.span()
            if self.start_boundary and not self._starts(t, start):
                at = start + _char_len(data, start)
                continue
            m = self._ended(t, m)
            if m is None:
                at = start + _char_len(data, start)
                continue
            yield Found(t.char(m.start()), t.char(m.end()), m.lastgroup)
            at = m.end() if m.end() > start else start + _char_len(data, start)

    def search(self, text: str | Text, pos: int = 0) -> Found | None:
        return next(self.finditer(text, pos), None)

    def match(self, text: str) -> Found | None:
        """A whole-word match at the very start of ``text``."""
        t = Text(text)
        m = self.regex.match(t.data)
        if m is None:
            return None
        m = self._ended(t, m)
        return Found(0, t.char(m.end()), m.lastgroup) if m is not None else None

    def count(self, text: str | Text) -> int:
        return sum(1 for _ in self.finditer(text))

    @staticmethod
    def _starts(t: Text, start: int) -> bool:
        return start == 0 or not _is_word(_char_before(t.data, start))

    def _ended(self, t: Text, m):
        """``m``, or the longest match from its start whose end is a word boundary; None."""
        start, end = m.span()
        data = t.data
        for stop in _ends_down(data, start, end):
            if stop == end:
                candidate = m
            else:
                candidate = self.regex.fullmatch(data, start, stop)
                if candidate is None:
                    continue
            if (stop == len(data) or data[stop - 1:stop] == b"'" or candidate.lastgroup in self.free_ends
                    or not _is_word(_char_at(data, stop))):
                return candidate
        return None


def _ends_down(data: bytes, start: int, end: int) -> Iterator[int]:
    """``end``, then the character boundaries before it down to ``start`` + 1, ``MAX_BACKOFF`` at most."""
    stop, steps = end, 0
    while stop > start and steps <= MAX_BACKOFF:
        yield stop
        stop -= 1
        while stop > start and (data[stop] & 0xC0) == 0x80:  # inside a UTF-8 sequence
            stop -= 1
        steps += 1


def _char_len(data: bytes, at: int) -> int:
    if at >= len(data):
        return 1
    first = data[at]
    return 1 if first < 0x80 else 2 if first < 0xE0 else 3 if first < 0xF0 else 4


def _char_at(data: bytes, at: int) -> str:
    return data[at:at + _char_len(data, at)].decode("utf-8", "replace")


def _char_before(data: bytes, at: int) -> str:
    begin = at - 1
    while begin > 0 and (data[begin] & 0xC0) == 0x80:
        begin -= 1
    return data[begin:at].decode("utf-8", "replace")
