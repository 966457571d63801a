"""The one text reader (bot/checks/text.py) and the readers built on it agree on what a person sees.

Before it, five readers disagreed: a ticked box inside a four-backtick fence counted for the DoD, a
``~~~`` line inside a ````` block hid a real ticked box after it, and ``✅`` ticked a box in a pull
request but not in an issue. Each case below is read by every reader: the DoD's checkboxes and
sections, the Ready fields and links, and the command parser.
"""

from __future__ import annotations

import re

import pytest

from bot.checks.issue_body import read_body
from bot.checks.links import extract_links
from bot.checks.linked_ready import closed_items
from bot.checks.text import Text, read_lines
from bot.commands.parser import parse_commands


def code_lines(body: str) -> list[int]:
    return [line.number for line in read_lines(body) if line.code]


FENCE_CASES = [
    ("a backtick fence", "```\na\n```\nb", [1, 2, 3]),
    ("a tilde fence", "~~~\na\n~~~\nb", [1, 2, 3]),
    ("~~~ inside ``` is text", "```\n~~~\na\n```\nb", [1, 2, 3, 4]),
    ("``` inside ~~~ is text", "~~~\n```\na\n~~~\nb", [1, 2, 3, 4]),
    ("a shorter fence does not close a longer one", "````\n```\na\n````\nb", [1, 2, 3, 4]),
    ("a longer fence closes a shorter one", "```\na\n`````\nb", [1, 2, 3]),
    ("a closing fence has nothing after it", "```\n``` x\na\n```\nb", [1, 2, 3, 4]),
    ("an unclosed fence runs to the end", "```\na\nb", [1, 2, 3]),
    ("inline code is not a fence", "```x``` y\nb", []),
    ("a fence in a list item", "- step\n\n    ```\na\n    ```\nb", [3, 4, 5]),
    ("a fence in a quote ends with the quote", "> ```\n> a\nb", [1, 2]),
    ("indented code after a blank line", "x\n\n    code\nb", [3]),
    ("a deeper line after prose continues it", "x\n    more", []),
    ("a nested list item is not code", "- a\n\n    - [x] b", []),
    ("indented code spans blank lines", "x\n\n    a\n\n    b\nc", [3, 5]),
    ("a comment hides a fence", "<!--\n```\n-->\na", []),
]


@pytest.mark.parametrize("body,expected", [c[1:] for c in FENCE_CASES], ids=[c[0] for c in FENCE_CASES])
def test_code_is_what_commonmark_calls_code(body, expected):
    assert code_lines(body) == expected


# One body per disagreement, and what every reader must make of it.
FOUR_BACKTICKS = "````\n```\n- [x] Prometheus metrics exposed\nDepends on #44\n/nexus help\n```\n````\n"
TILDES_IN_BACKTICKS = "```\n~~~\n```\n- [x] Prometheus metrics exposed\n/nexus help\nDepends on #44\n"


@pytest.mark.parametrize("body,ticked,commands,links", [
    (FOUR_BACKTICKS, [], [], []),
    (TILDES_IN_BACKTICKS, [(True, "Prometheus metrics exposed")], ["help"], [44]),
], ids=["four backticks hide all", "tildes in backticks hide nothing after"])
def test_every_reader_sees_the_same_code(body, ticked, commands, links):
    assert Text(body).checkboxes == ticked
    assert [i.name for i in parse_commands(body)] == commands
    assert [link.number for link in extract_links(body)] == links
    prose = [line.text for line in read_body(body).lines if line.text]
    assert ("Prometheus metrics exposed" in prose) == bool(ticked)


@pytest.mark.parametrize("mark", ["x", "X", "✓", "✔", "✅"])
def test_a_tick_is_a_tick_in_a_pull_request_and_in_an_issue(mark):
    body = f"- [{mark}] Logs anonymised\n\n### Dependencies\n- [{mark}] #44\n"
    assert Text(body).checkboxes[0] == (True, "Logs anonymised")
    assert [line.checked for line in read_body(body).lines if line.item][0] is True
    assert [link.number for link in extract_links(body)] == [44]  # a ticked list item under the heading


def test_unticked_is_unticked_everywhere():
    body = "- [ ] Logs anonymised\n"
    assert Text(body).checkboxes == [(False, "Logs anonymised")]
    assert [line.checked for line in read_body(body).lines if line.item] == [False]


def test_comments_are_hidden_from_every_reader():
    body = "<!-- - [x] metrics\n/nexus help\nDepends on #44\nFixes #12 -->\nvisible"
    assert Text(body).checkboxes == [] and parse_commands(body) == []
    assert extract_links(body) == [] and closed_items(body, "org/app") == []
    assert [line.text for line in read_body(body).lines if line.text] == ["visible"]


def test_a_closing_keyword_in_code_closes_nothing():
    assert closed_items("```\nFixes #12\n```\nCloses #13", "org/app") == ["org/app#13"]


def test_sections_end_at_the_next_heading_and_skip_code():
    body = "## Rollback\n```\n## not a heading\n```\nRevert the deploy.\n## Next\nother"
    section = Text(body).section(re.compile("(?i)rollback"))
    assert section == "Revert the deploy."


def test_lines_keep_their_numbers_whatever_the_line_endings():
    lines = read_lines("a\r\nb\rc\nd")
    assert [(line.number, line.text) for line in lines] == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
