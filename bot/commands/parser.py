"""Find the slash commands in a comment: ``/nexus <name> <args…>`` lines, several per comment.

A line is a command when, after optional leading whitespace, it starts with the prefix followed by
whitespace or the end of the line. What the reader does not see as prose is never a command: lines
inside fenced code blocks (``` or ~~~, three or more, indented or not), indented code blocks, block
quotes (``>``) and HTML comments. The prefix and the command name are case-insensitive (ASCII);
arguments keep their case. A quoted argument ("hotfix for prod" or 'x') is one argument; a quote
without its partner is an ordinary character. Nothing here raises, whatever the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# an opening fence and its info string; a backtick fence's info string holds no backtick
FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}(?=[^`]*$)|~{3,})")
# a quoted argument ends at its closing quote followed by whitespace or the end of the line
ARGUMENT = re.compile(r"\"(?P<double>[^\"]*)\"(?=\s|$)|'(?P<single>[^']*)'(?=\s|$)|(?P<bare>\S+)")
TAB_WIDTH = 4
CODE_INDENT = 4


@dataclass(frozen=True)
class Invocation:
    """One command line: its name (lower case, "" for a bare prefix), its arguments, the line as
    typed and its 1-based line number in the comment."""

    name: str
    args: list[str]
    raw: str
    line: int


def parse_commands(body: str, prefix: str = "/nexus") -> list[Invocation]:
    """Every command in ``body``, in order."""
    invocations: list[Invocation] = []
    fence: str | None = None  # the opening fence while inside a fenced code block
    in_comment = False  # inside an HTML comment that spans lines
    after_paragraph = False  # the previous line was prose, which an indented line continues
    in_indented_code = False
    for number, line in enumerate(LINE_BREAK.split(body or ""), start=1):
        if fence is not None:
            if _closes(line, fence):
                fence = None
            continue
        text, still_in_comment = _without_comments(line, in_comment)
        if in_comment:  # the line that ends a comment belongs to it, like an HTML block
            in_comment = still_in_comment
            after_paragraph = in_indented_code = False
            continue
        in_comment = still_in_comment
        if not text.strip():
            after_paragraph = False
            continue
        opening = FENCE_OPEN.match(text)  # before indented code: fences nest in list items
        if opening:
            fence = opening.group("fence")
            after_paragraph = in_indented_code = False
            continue
        if _indent(text) >= CODE_INDENT and (in_indented_code or not after_paragraph):
            in_indented_code = True
            continue
        in_indented_code = False
        stripped = text.strip()
        if stripped.startswith(">"):
            after_paragraph = False
            continue
        after_paragraph = not stripped.startswith("#")
        invocation = _command(stripped, prefix, number)
        if invocation:
            invocations.append(invocation)
    return invocations


def split_arguments(text: str) -> list[str]:
    """Words, with "double" or 'single' quoted runs kept as one argument (quotes removed)."""
    words = []
    for match in ARGUMENT.finditer(text):
        for group in ("double", "single", "bare"):
            if match.group(group) is not None:
                words.append(match.group(group))
                break
    return words


def _command(stripped: str, prefix: str, number: int) -> Invocation | None:
    if not prefix or stripped[: len(prefix)].lower() != prefix.lower():
        return None
    rest = stripped[len(prefix):]
    if rest and not rest[0].isspace():
        return None  # /nexusfoo is another word, not the prefix
    words = split_arguments(rest)
    name = words[0].lower() if words else ""
    return Invocation(name=name, args=words[1:], raw=stripped, line=number)


def _without_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line with its HTML comments removed, and whether a comment is still open at its end."""
    kept = []
    position = 0
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


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _indent(line: str) -> int:
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += TAB_WIDTH - column % TAB_WIDTH
        else:
            break
    return column
