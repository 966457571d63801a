"""The slash-command parser: table-driven named cases, and properties on arbitrary text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.parser import Invocation, parse_commands, split_arguments


def found(body: str, prefix: str = "/nexus") -> list[tuple[str, list[str]]]:
    return [(i.name, i.args) for i in parse_commands(body, prefix)]


CASES = [
    ("one command", "/nexus help", [("help", [])]),
    ("several per comment", "/nexus priority P1\n/nexus type bug\n/nexus points 5",
     [("priority", ["P1"]), ("type", ["bug"]), ("points", ["5"])]),
    ("anywhere in the comment", "Thanks!\n\n/nexus dod\n\nCheers", [("dod", [])]),
    ("mid-line is prose", "please run /nexus help", []),
    ("leading whitespace", "   /nexus help", [("help", [])]),
    ("continuation indented 4 is a command", "Hello\n    /nexus help", [("help", [])]),
    ("indented code after blank line", "Hello\n\n    /nexus help", []),
    ("indented code at the start", "    /nexus help", []),
    ("indented code spans blank lines", "x\n\n    code\n\n    /nexus help\nafter", []),
    ("tab-indented code", "\t/nexus help", []),
    ("backtick fence", "```\n/nexus help\n```\n/nexus dod", [("dod", [])]),
    ("tilde fence", "~~~\n/nexus help\n~~~", []),
    ("long fence closes only with as long", "````\n/nexus help\n```\n/nexus dod\n````\n/nexus ready",
     [("ready", [])]),
    ("fence with info string", "```python\n/nexus help\n```", []),
    ("indented fence", "- step\n\n    ```\n/nexus help\n    ```\n/nexus dod", [("dod", [])]),
    ("unclosed fence hides the rest", "```\n/nexus help", []),
    ("inline code is not a fence", "```x``` text\n/nexus help", [("help", [])]),
    ("blockquote", "> /nexus help\n/nexus dod", [("dod", [])]),
    ("nested blockquote", "> > /nexus help", []),
    ("indented blockquote", "  > /nexus help", []),
    ("html comment line", "<!-- /nexus help -->\n/nexus dod", [("dod", [])]),
    ("multi-line html comment", "<!--\n/nexus help\n-->\n/nexus dod", [("dod", [])]),
    ("command before a comment", "/nexus help <!-- hidden -->", [("help", [])]),
    ("command after an inline comment", "<!-- x --> /nexus help", [("help", [])]),
    ("unclosed comment hides the rest", "<!--\n/nexus help", []),
    ("upper-case prefix and name", "/NEXUS Help", [("help", [])]),
    ("arguments keep their case", "/nexus Priority P1", [("priority", ["P1"])]),
    ("extra spaces", "/nexus    waive   changelog    docs only  ", [("waive", ["changelog", "docs", "only"])]),
    ("tabs between words", "/nexus\tteam\tbackend", [("team", ["backend"])]),
    ("double-quoted argument", '/nexus waive changelog "hotfix for prod"', [("waive", ["changelog", "hotfix for prod"])]),
    ("single-quoted argument", "/nexus waive changelog 'x y'", [("waive", ["changelog", "x y"])]),
    ("apostrophe inside a word", "/nexus waive docs it's docs only", [("waive", ["docs", "it's", "docs", "only"])]),
    ("unbalanced double quote", '/nexus waive docs "no end', [("waive", ["docs", '"no', "end"])]),
    ("unbalanced single quote", "/nexus waive docs 'oops", [("waive", ["docs", "'oops"])]),
    ("empty quotes", '/nexus waive docs ""', [("waive", ["docs", ""])]),
    ("CRLF line endings", "/nexus help\r\n/nexus dod\r\n", [("help", []), ("dod", [])]),
    ("lone CR line endings", "/nexus help\r/nexus dod", [("help", []), ("dod", [])]),
    ("bare prefix", "/nexus", [("", [])]),
    ("/nexusx is not the prefix", "/nexusx help\n/nexus-help", []),
    ("prefix then punctuation is not the prefix", "/nexus/help", []),
    ("a look-alike letter is not the prefix", "/nexu\u017f help", []),
    ("heading is not a command", "# /nexus help", []),
    ("list item is not a command", "- /nexus help", []),
    ("empty body", "", []),
]


@pytest.mark.parametrize("body, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse(body: str, expected: list) -> None:
    assert found(body) == expected


def test_invocation_keeps_raw_line_and_line_number() -> None:
    assert parse_commands("Hi\n\n  /nexus  priority P1  \n") == [
        Invocation(name="priority", args=["P1"], raw="/nexus  priority P1", line=3)
    ]


@pytest.mark.parametrize(
    "prefix, body, expected",
    [
        ("/bot", "/bot help\n/nexus dod", [("help", [])]),
        ("!nexus", "!NEXUS dod", [("dod", [])]),
        ("/nexus", "/bot help", []),
    ],
    ids=["slash prefix", "other punctuation, any case", "default prefix ignores others"],
)
def test_prefix_is_configurable(prefix: str, body: str, expected: list) -> None:
    assert found(body, prefix) == expected


def test_split_arguments_never_loses_words() -> None:
    assert split_arguments(' a "b c" \'d\' e"f g" ') == ["a", "b c", "d", 'e"f', 'g"']


FRAGMENTS = st.sampled_from(
    ["/nexus", "/NEXUS", "/nexusx", " ", "    ", "\t", "\n", "\r\n", "\r", "```", "````", "~~~", ">", "<!--",
     "-->", '"', "'", "help", "waive", "team", "P1", "#", "- ", "@org/team", "\u200d", "\x00", "é", "ſ"]
)


@settings(max_examples=300)
@given(st.text())
def test_never_raises_on_any_text(body: str) -> None:
    for invocation in parse_commands(body):
        assert invocation.raw[:6].lower() == "/nexus"
        assert invocation.name == invocation.name.lower()


@settings(max_examples=500)
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.sampled_from(["/nexus", "/bot", "!n"]))
def test_never_raises_on_plausible_fragments(body: str, prefix: str) -> None:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for invocation in parse_commands(body, prefix):
        assert 1 <= invocation.line <= len(lines)
        assert invocation.raw[: len(prefix)].lower() == prefix.lower()


@given(st.one_of(st.text(), st.lists(FRAGMENTS, max_size=40).map("".join)))
def test_no_prefix_no_command(body: str) -> None:
    while "/nexus" in body.lower():
        body = re.sub("/nexus", "", body, flags=re.IGNORECASE)
    assert parse_commands(body) == []
