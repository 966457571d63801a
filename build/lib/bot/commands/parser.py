"""Find the slash commands in a comment: ``/nexus <name> <args…>`` lines, several per comment.

A line is a command when, after optional leading whitespace, it starts with the prefix followed by
whitespace or the end of the line. What the reader does not see as prose is never a command: code
(fenced or indented), block quotes and HTML comments, as ``bot/checks/text.py`` reads them for every
rule. The prefix and the command name are case-insensitive (ASCII); arguments keep their case. A
quoted argument ("hotfix for prod" or 'x') is one argument; a quote without its partner is an
ordinary character. Nothing here raises, whatever the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..checks.text import read_lines

# a quoted argument ends at its closing quote followed by whitespace or the end of the line
ARGUMENT = re.compile(r"\"(?P<double>[^\"]*)\"(?=\s|$)|'(?P<single>[^']*)'(?=\s|$)|(?P<bare>\S+)")


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
    for line in read_lines(body):
        if line.prose:
            invocation = _command(line.text.strip(), prefix, line.number)
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
