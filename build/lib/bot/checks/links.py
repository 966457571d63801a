"""Links between backlog items written in prose: "Depends on #44", "Bloqué par org/repo#12",
"Blocks https://forge.example.org/org/repo/issues/45".

A reference counts only after a dependency phrase of ``ready.languages.*.dependencies`` (``depends_on``
or ``blocks``), in the same sentence, or in a list under a heading or a ``Label:`` line that ends
with such a phrase::

    ### Dependencies
    - #44
    - org/api#12

So "#1 priority", "see #12" and a markdown heading "# Title" are not links. References inside code
(fenced blocks and inline `code` spans) and HTML comments are ignored: that is where people quote
syntax, logs and template hints, not where they declare dependencies.

Pure, and linear in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Literal

from ..config.base import PerConfig
from .patterns import Text as Encoded
from .ready_rules import word_pattern
from .text import TICKS, Text, as_text, fold

if TYPE_CHECKING:
    from ..config import Config, ReadyConfig

MAX_REFS = 10_000  # references read from one text; the rest are ignored
GAP = 60  # at most this many characters between a phrase (or the previous reference) and a reference


@dataclass(frozen=True)
class Link:
    """A dependency: the item holding the text ``kind`` the item ``repo#number`` (repo None: same repo)."""

    kind: Literal["depends_on", "blocks"]
    repo: str | None
    number: int

    @property
    def ref(self) -> str:
        return f"{self.repo}#{self.number}" if self.repo else f"#{self.number}"


# ----- references ----------------------------------------------------------------------------------

_URL = re.compile(
    r"https?://[^\s/]{1,253}/(?P<repo>[\w.-]{1,100}/[\w.-]{1,100})/(?:-/)?(?:issues|pulls?|merge_requests)/"
    r"(?P<number>\d{1,9})(?!\d)"
)
_SHORT = re.compile(r"(?<![\w/.#&-])(?:(?P<repo>[\w.-]{1,100}/[\w.-]{1,100}))?#(?P<number>\d{1,9})(?![\d\w])")
_NEWLINE = re.compile(r"\n")
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)")
# what may precede a reference in a list item: quote marks, a bullet, a checkbox, emphasis (every part
# starts with its own character, so the pattern cannot backtrack)
_LIST_START = re.compile(rf"[\s>]*(?:(?:[-*+•]|\d{{1,3}}[.)])(?:\s+|$))?(?:\[[ {TICKS}]\](?:\s+|$))?[*_]*")
_TRAILER = re.compile(r"^[\s:*_#)\]>-]*$")


@dataclass(frozen=True)
class _Ref:
    start: int
    end: int
    repo: str | None
    number: int


def _refs(text: str) -> list[_Ref]:
    found: list[_Ref] = []

    def url(m: re.Match[str]) -> str:
        found.append(_Ref(m.start(), m.end(), m.group("repo"), int(m.group("number"))))
        return " " * (m.end() - m.start())

    masked = _URL.sub(url, text, count=MAX_REFS) if "://" in text else text
    for m in islice(_SHORT.finditer(masked), MAX_REFS):
        found.append(_Ref(m.start(), m.end(), m.group("repo"), int(m.group("number"))))
    return sorted(found, key=lambda r: r.start)[:MAX_REFS]


class _Phrases:
    """The dependency phrases of every language, compiled once per config."""

    def __init__(self, ready: "ReadyConfig"):
        langs = ready.languages.values()
        self.kinds = [
            ("depends_on", word_pattern([p for lang in langs for p in lang.dependencies.depends_on])),
            ("blocks", word_pattern([p for lang in langs for p in lang.dependencies.blocks])),
        ]

    def find(self, folded: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, kind), the longest phrase winning where two start together
        ("bloqué par" is depends_on, not "bloque")."""
        text = Encoded(folded)
        spans = [
            (m.start, m.end, kind)
            for kind, pattern in self.kinds
            if pattern is not None
            for m in pattern.finditer(text)
            if m.end > m.start
        ]
        spans.sort(key=lambda s: (s[0], s[0] - s[1]))
        out: list[tuple[int, int, str]] = []
        for span in spans:
            if not out or span[0] >= out[-1][1]:
                out.append(span)
        return out


_phrases: PerConfig[_Phrases] = PerConfig(_Phrases)


@lru_cache(maxsize=1)
def _default_ready() -> "ReadyConfig":
    from ..config import ReadyConfig

    return ReadyConfig()


def _glued(gap: str) -> bool:
    return len(gap) <= GAP and not _SENTENCE_END.search(gap)


def extract_links(
    text: "Text | str | None", config: "Config | ReadyConfig | None" = None, repo: str | None = None
) -> list[Link]:
    """Every dependency written in ``text``, in order of appearance, without duplicates.

    ``config`` gives the phrases (the ``ready`` section; default: the built-in defaults). A reference
    to ``repo`` itself (``org/repo#12`` or its URL written in org/repo) is given with ``repo=None``.
    """
    from ..config import ReadyConfig

    body = as_text(text).prose
    refs = _refs(body)
    if not refs:
        return []
    if config is None:
        ready = _default_ready()
    else:
        ready = config if isinstance(config, ReadyConfig) else config.ready
    last = body.find("\n", refs[-1].end)
    body = body if last < 0 else body[:last]  # phrases after the last reference govern nothing
    spans = _phrases(ready).find(fold(body))
    starts = [0] + [m.end() for m in _NEWLINE.finditer(body)]

    by_line: dict[int, tuple[list[tuple[int, int, str]], list[_Ref]]] = {}
    for span in spans:
        by_line.setdefault(bisect_right(starts, span[0]) - 1, ([], []))[0].append(span)
    for ref in refs:
        by_line.setdefault(bisect_right(starts, ref.start) - 1, ([], []))[1].append(ref)

    links: list[Link] = []
    seen: set[Link] = set()

    def add(kind: str, ref: _Ref) -> None:
        owner = None if ref.repo is None or (repo and ref.repo.lower() == repo.lower()) else ref.repo
        link = Link(kind, owner, ref.number)  # type: ignore[arg-type]
        if link not in seen:
            seen.add(link)
            links.append(link)

    pending: str | None = None  # the kind a following list of references takes
    previous = -1
    for index in sorted(by_line):
        line_spans, line_refs = by_line[index]
        begin = starts[index]
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(body)
        if pending and body[starts[previous + 1]: begin].strip():
            pending = None  # a line of other text between the two ended the list
        previous = index
        if not line_spans:
            if pending and _LIST_START.fullmatch(body[begin: line_refs[0].start].rstrip()):
                for ref in line_refs:
                    add(pending, ref)
            else:
                pending = None
            continue
        pending = None
        k, governing, last_end = 0, None, 0
        for ref in line_refs:
            while k < len(line_spans) and line_spans[k][1] <= ref.start:
                governing, last_end = line_spans[k], line_spans[k][1]
                k += 1
            if governing is not None and _glued(body[last_end: ref.start]):
                add(governing[2], ref)
                last_end = ref.end
        last = line_spans[-1]
        if not any(ref.start >= last[1] for ref in line_refs) and _TRAILER.match(body[last[1]: end]):
            pending = last[2]
    return links
