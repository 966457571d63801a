"""The bot's one reply to a comment, and the escaping of everything people typed.

Markdown is rendered with Jinja2, autoescape off; every value a person wrote (the command lines,
arguments, titles) goes through ``escape_user_text`` (filter ``user``) or, inside a Mermaid
diagram, ``escape_mermaid`` (filter ``mermaid``). Escaped text cannot open a link, an image, code,
HTML, a hidden ``<!--`` marker, a table cell or a new line, and cannot @mention anyone.

Answers are messages (``bot/msg.py``); they are put in the config's ``language`` here, when the
reply is rendered, with the catalogs of ``bot/locales`` (templates use ``_()`` and the ``tr`` filter).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..locales import DEFAULT_LANGUAGE, install, localize
from ..msg import Msg, NMsg

if TYPE_CHECKING:
    from .registry import Answer

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ZERO_WIDTH_JOINER = "\u200d"
ECHO_LIMIT = 300  # characters of a person's text echoed back, so a reply stays short
COMMENT_LIMIT = 65_536  # characters in one comment on GitHub (the strictest forge)
REPLY_LIMIT = 60_000  # characters of a reply; the bot's hidden markers are written after it
LINE_BREAKS = "\r\n\t\v\f\u2028\u2029\x85"
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#!|~$")
HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MERMAID_ENTITIES = {
    '"': "#quot;", "#": "#35;", "&": "#38;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;",
    "(": "#40;", ")": "#41;", "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;",
}
HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


def escape_user_text(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` as inert markdown on one line: it shows what was typed (cut at ``limit`` characters)
    and does nothing else."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for char in text:
        if char in LINE_BREAKS:
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf"):
            continue  # control and invisible format characters (bidi overrides, zero-width joiners)
        elif char in HTML_ENTITIES:
            out.append(HTML_ENTITIES[char])
        elif char in MARKDOWN_SPECIALS:
            out.append("\\" + char)
        elif char == "@":
            out.append("@" + ZERO_WIDTH_JOINER)  # shown as typed, but no longer a mention
        else:
            out.append(char)
    return "".join(out)


def escape_mermaid(text: object) -> str:
    """``text`` safe inside a quoted Mermaid label (``n1["…"]``) in a fenced code block."""
    out = []
    for char in str(text):
        if char in LINE_BREAKS:
            out.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf"):
            out.append(MERMAID_ENTITIES.get(char, char))
    return "".join(out)


def without_markers(markdown: str) -> str:
    """Drop HTML comments, so that a reply never carries a hidden marker (e.g. a verdict's)."""
    return HTML_COMMENT.sub("", markdown)


def listing(values: Iterable[object]) -> str:
    """"a, b, c", each value escaped."""
    return ", ".join(escape_user_text(value) for value in values)


@lru_cache(maxsize=None)
def environment(language: str = DEFAULT_LANGUAGE) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # markdown, not HTML: user values go through the filters below
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["user"] = escape_user_text
    env.filters["mermaid"] = escape_mermaid
    env.filters["without_markers"] = without_markers
    install(env, language)  # _(), ngettext() and the ``tr`` filter (a Msg in this language)
    return env


ENVIRONMENT = environment()


def render(template: str, language: str = DEFAULT_LANGUAGE, **values: object) -> str:
    return environment(language).get_template(template).render(**values).strip() + "\n"


def render_reply(answers: list[Answer], limit: int = REPLY_LIMIT, language: str = DEFAULT_LANGUAGE) -> str:
    """One reply for all the commands of a comment: each command line quoted, then its answer.

    Past ``limit`` characters the last answers are left out whole (their commands did run), so that
    the reply fits in one comment with the markers written after it; a single answer too long is cut
    at a line end, with any code block it leaves open closed."""
    text = render("commands/reply.md.j2", language, answers=answers)
    kept = len(answers)
    while len(text) > limit and kept > 1:
        kept -= 1
        left = len(answers) - kept
        note = localize(NMsg("{n} more answer left out (the commands ran): a comment holds {limit} characters.",
                             "{n} more answers left out (the commands ran): a comment holds {limit} characters.",
                             left, limit=format(COMMENT_LIMIT, ",")), language)
        text = render("commands/reply.md.j2", language, answers=answers[:kept]).rstrip() + "\n\n*" + note + "*\n"
    if len(text) > limit:
        cut = localize(Msg("The answer is cut: a comment holds {limit} characters.", limit=format(COMMENT_LIMIT, ",")),
                       language)
        note = f"\n\n*{cut}*\n"
        head = text[: limit - len(note) - 4]
        head = head[: head.rfind("\n")] if "\n" in head else head
        if head.count("```") % 2:
            head += "\n```"
        text = head + note
    return text
