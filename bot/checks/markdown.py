"""Reading a pull request description: checkboxes and sections, tolerant of the ways people write them."""

from __future__ import annotations

import re

from .links import strip_comments

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([ xX✓✔✅]?)\]\s*(.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_HEADING = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*(.*)$")
_LABEL_LINE = re.compile(r"^\s*([A-Za-zÀ-ÿ][\w À-ÿ/'-]{1,60}?)\s*:\s*(.*)$")


def lines_outside_code(body: str) -> list[str]:
    out, fenced = [], False
    for line in strip_comments(body or "").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def checkboxes(body: str) -> list[tuple[bool, str]]:
    """(ticked, text) for each task-list item: "- [x] text", "* [X] text", "1. [ ] text"."""
    found = []
    for line in lines_outside_code(body):
        m = _CHECKBOX.match(line)
        if m:
            found.append((m.group(1) not in ("", " "), m.group(2).strip()))
    return found


def section(body: str, heading: re.Pattern[str]) -> str | None:
    """The text under the first heading matching ``heading`` (markdown ``##``, a bold line, or a
    ``Label:`` line), up to the next heading of the same or a higher level; None when absent."""
    lines = lines_outside_code(body)
    for i, line in enumerate(lines):
        level, title, inline = _heading(line)
        if title is None or not heading.search(title):
            continue
        content = [inline] if inline else []
        for nxt in lines[i + 1 :]:
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
