"""The one reader of what people write (PR descriptions, issue bodies, comments): which lines are
prose and which are code, quotes or hidden comments. Every rule and the command parser read markdown
through it, so they agree on what a person sees:

- a fenced code block opens with three or more backticks or tildes (at any indentation: fences nest
  in list items) and closes only with the same character, at least as many, alone on a line, as
  CommonMark says: a ``~~~`` line inside a ````` block is text; an unclosed fence runs to the end;
- an indented code block is four columns deeper than its container (the document, or the list item
  above it) after a blank line or at the start; a deeper line right after prose continues the prose;
- a block quote is what follows ``>`` markers; a fence opened inside a quote ends with the quote;
- an HTML comment ``<!-- … -->`` is hidden, over several lines if need be; an unclosed one hides the
  rest. Comments inside code are code.

``Text`` reads a body once and keeps what it found: lines, the prose used for links, checkboxes and
sections. Nothing here raises, whatever the input, and everything is linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

LINE_BREAK = re.compile(r"\r\n|\r|\n")
TAB_WIDTH = 4
CODE_INDENT = 4
TICKS = "xX✓✔✅"  # what ticks a task-list box, in a PR as in an issue: "- [x]", "- [✅]"

_FENCE_OPEN = re.compile(r"[ \t]*(?P<fence>`{3,}(?=[^`]*$)|~{3,})")  # a backtick fence's info string holds no backtick
_QUOTE = re.compile(r"[ \t]{0,3}>[ \t]?")
_LIST_ITEM = re.compile(r"(?P<marker>[-*+•]|\d{1,9}[.)])(?P<space>[ \t]+|$)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_NOT_SPACE = re.compile(r"[^\s]")
_CHECKBOX = re.compile(rf"^\s*(?:[-*+]|\d+[.)])\s+\[([ {TICKS}]?)\]\s*(.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_HEADING = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*(.*)$")
_LABEL_LINE = re.compile(r"^\s*([A-Za-zÀ-ÿ][\w À-ÿ/'-]{1,60}?)\s*:\s*(.*)$")


@dataclass(frozen=True)
class TextLine:
    number: int  # 1-based, in the text as written
    text: str  # the line without its HTML comments
    code: bool = False  # inside a fenced or indented code block
    fence: bool = False  # an opening or closing fence line (also ``code``)
    quote: int = 0  # how many ``>`` markers open it
    body: str = ""  # ``text`` after its quote markers

    @property
    def prose(self) -> bool:
        """Text a person reads as prose: neither code nor quoted."""
        return not self.code and not self.quote and bool(self.text.strip())


def columns(line: str) -> int:
    """The width of the line's leading white space, tabs counting to the next multiple of four."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += TAB_WIDTH - column % TAB_WIDTH
        else:
            break
    return column


def _uncomment(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line without its HTML comments, and whether a comment is still open at its end."""
    if not in_comment and "<!--" not in line:
        return line, False
    kept, position = [], 0
    while True:
        if in_comment:
            end = line.find("-->", position)
            if end < 0:
                return "".join(kept), True
            position, in_comment = end + 3, False
        else:
            start = line.find("<!--", position)
            if start < 0:
                kept.append(line[position:])
                return "".join(kept), False
            kept.append(line[position:start])
            position, in_comment = start + 4, True


def _quotes(line: str) -> tuple[int, str]:
    depth, position = 0, 0
    while m := _QUOTE.match(line, position):
        depth, position = depth + 1, m.end()
    return depth, line[position:]


def read_lines(text: str | None) -> list[TextLine]:
    """Every line of ``text``, classified (see the module's docstring)."""
    out: list[TextLine] = []
    fence: str | None = None  # the opening fence while inside a fenced block
    fence_quote = 0
    in_comment = False
    after_prose = False  # the previous line was prose, which a deeper line continues
    in_indented_code = False
    item_column: int | None = None  # content column of the list item deeper lines belong to
    for number, raw in enumerate(LINE_BREAK.split(text or ""), start=1):
        if fence is not None:
            depth, body = _quotes(raw) if fence_quote else (0, raw)
            if depth >= fence_quote:
                stripped = body.strip()
                closes = len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)
                if closes:
                    fence = None
                out.append(TextLine(number, raw, code=True, fence=closes, quote=depth, body=body))
                continue
            fence = None  # the quote that held the fence ended
        line, in_comment_after = _uncomment(raw, in_comment)
        was_in_comment, in_comment = in_comment, in_comment_after
        depth, body = _quotes(line)
        if not body.strip():
            after_prose = False
            out.append(TextLine(number, line, quote=depth, body=body))
            continue
        opening = _FENCE_OPEN.match(body)
        if opening and not was_in_comment:
            fence, fence_quote = opening.group("fence"), depth
            after_prose = in_indented_code = False
            out.append(TextLine(number, line, code=True, fence=True, quote=depth, body=body))
            continue
        indent = columns(body)
        if item_column is not None and indent < item_column and not depth:
            item_column = None
        base = item_column or 0
        if not depth and indent - base >= CODE_INDENT and (in_indented_code or not after_prose):
            in_indented_code = True
            out.append(TextLine(number, line, code=True, quote=depth, body=body))
            continue
        in_indented_code = False
        stripped = body.lstrip(" \t")
        item = _LIST_ITEM.match(stripped)
        if item and not depth:
            item_column = indent + len(item.group("marker")) + max(1, min(len(item.group("space")), 4))
        after_prose = not depth and not stripped.startswith("#")
        out.append(TextLine(number, line, quote=depth, body=body))
    return out


# ----- accents and phrases ---------------------------------------------------------------------------

def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[:1]
        if base.isascii() and base.isalpha() and base != chr(code):
            table[code] = base
    for char in "\u2019\u2018\u02bc\u00b4":
        table[ord(char)] = "'"
    for char in "\u00a0\u202f\u2007\u2009\u200a":
        table[ord(char)] = " "
    table.update({ord("ß"): "s", ord("æ"): "a", ord("Æ"): "A", ord("œ"): "o", ord("Œ"): "O"})
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Accents removed and typographic apostrophes and spaces made plain, one character for one, so
    positions in the folded text are positions in the original."""
    return text.translate(_FOLD)


# ----- a body, read once -----------------------------------------------------------------------------

class Text:
    """One body as the rules read it; each reading is done once, when first asked for."""

    def __init__(self, raw: str | None):
        self.raw = raw or ""

    @cached_property
    def lines(self) -> list[TextLine]:
        return read_lines(self.raw)

    @cached_property
    def without_comments(self) -> str:
        """The text with its HTML comments removed, line for line."""
        return "\n".join(line.text for line in self.lines)

    @cached_property
    def prose(self) -> str:
        """The text without HTML comments, with code (blocks, inline spans) blanked out: line breaks
        are kept, so lines and positions match ``without_comments``."""
        parts = [_NOT_SPACE.sub(" ", line.text) if line.code else line.text for line in self.lines]
        text = "\n".join(parts)
        if "`" in text:
            text = _INLINE_CODE.sub(lambda m: " " * len(m.group()), text)
        return text

    @cached_property
    def outside_code(self) -> list[str]:
        """The lines that are not code, quotes included (the DoD's checkboxes and sections)."""
        return [line.text for line in self.lines if not line.code]

    @cached_property
    def checkboxes(self) -> list[tuple[bool, str]]:
        """(ticked, text) for each task-list item: "- [x] text", "* [X] text", "1. [ ] text"."""
        found = []
        for line in self.outside_code:
            m = _CHECKBOX.match(line)
            if m:
                found.append((m.group(1) not in ("", " "), m.group(2).strip()))
        return found

    def section(self, heading: re.Pattern[str]) -> str | None:
        """The text under the first heading matching ``heading`` (markdown ``##``, a bold line, or a
        ``Label:`` line), up to the next heading of the same or a higher level; None when absent."""
        lines = self.outside_code
        for i, line in enumerate(lines):
            level, title, inline = _heading(line)
            if title is None or not heading.search(title):
                continue
            content = [inline] if inline else []
            for nxt in lines[i + 1:]:
                nlevel, ntitle, _ = _heading(nxt)
                if ntitle is not None and (nlevel <= level or level == 7):
                    break
                content.append(nxt)
            return "\n".join(content).strip()
        return None


def _heading(line: str) -> tuple[int, str | None, str]:
    m = _HEADING.match(line)
    if m:
        return len(m.group(1)), m.group(2), ""
    m = _BOLD_HEADING.match(line)
    if m:
        return 7, m.group(1).strip().rstrip(":"), m.group(2).strip()
    m = _LABEL_LINE.match(line)
    if m and not _CHECKBOX.match(line):
        return 7, m.group(1), m.group(2).strip()
    return 0, None, ""


def as_text(value: "Text | str | None") -> Text:
    return value if isinstance(value, Text) else Text(value)
