"""Triage: the labels a new or edited issue should get, read from its title and body.

Only adds, and only labels the issue does not have (compared ignoring case):

- ``team:<key>`` for each team named on a "Teams:" / "Équipes :" / "Team:" line or issue-form
  heading (names and keys of ``config.teams``, ignoring case and accents);
- the cross-team label (``nexus``) when two or more teams are involved (named, or already labelled);
- a type, from a conventional title prefix ("feat:", "fix(api)!:", "[Bug] …") or an issue-form
  "Type" field, through ``ready.triage.types``; never when the issue already has a type;
- a priority, from an issue-form "Priority" field whose value starts with a priority label, else
  ``ready.triage.default_priority``; never when the issue already has a priority.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model import Issue
from .issue_body import Body, read_body
from .ready_rules import matches, named_teams, rules
from .text import fold

if TYPE_CHECKING:
    from ..config import Config

_TITLE_PREFIX = re.compile(  # "feat:", "feat(scope):", "fix!:", "[Bug]"
    r"^\s*(?:\[(?P<tag>[^\]\n]{1,30})\]|(?P<word>[^\W\d_][\w-]{0,29})(?:\([^)\n]{0,60}\))?!?\s*:)"
)
_FIRST_WORD = re.compile(r"[^\W\d_][\w-]*")


def triage(issue: Issue, config: "Config", body: Body | None = None) -> set[str]:
    """Labels to add to ``issue``; never one it already has, never a second type or priority.
    ``body``: the issue's body as already read for its Ready verdict."""
    present = {label.casefold() for label in issue.labels}
    body = read_body(issue.body) if body is None else body
    wanted: list[str] = []

    labelled = [key for key in config.teams if config.team_label(key).casefold() in present]
    named = named_teams(body, config)
    wanted += [config.team_label(key) for key in named]
    if len(set(named) | set(labelled)) >= 2:
        wanted.append(config.labels.cross_team)

    types = config.ready.triage.types
    type_family = {t.casefold() for t in [*config.labels.types, *types.values()]}
    if not present & type_family:
        kind = type_from_title(issue.title, config) or type_from_fields(body, config)
        if kind:
            wanted.append(kind)

    if not present & {p.casefold() for p in config.labels.priorities}:
        priority = priority_from_fields(body, config) or config.ready.triage.default_priority
        if priority:
            wanted.append(priority)

    return {label for label in wanted if label.casefold() not in present}


def _type_of(word: str, config: "Config") -> str | None:
    key = fold(word).strip().casefold()
    for name, label in config.ready.triage.types.items():
        if fold(name).casefold() == key:
            return label
    for label in config.labels.types:
        if label.casefold() == key:
            return label
    return None


def type_from_title(title: str, config: "Config") -> str | None:
    """"feat: …", "feat(api): …", "fix!: …", "[Bug] …" -> the mapped type label."""
    m = _TITLE_PREFIX.match(title or "")
    if m is None:
        return None
    return _type_of(m.group("tag") or m.group("word"), config)


def type_from_fields(body: Body, config: "Config") -> str | None:
    """An issue-form "### Type" heading (or a "Type: Bug" line): its value, whole or first word."""
    pattern = rules(config).type_field
    for f in body.fields:
        if not f.values or not matches(pattern, f.label):
            continue
        value = f.values[0]
        found = _type_of(value, config)
        if found is None and (word := _FIRST_WORD.search(value)):
            found = _type_of(word.group(), config)
        if found:
            return found
    return None


def priority_from_fields(body: Body, config: "Config") -> str | None:
    """An issue-form "### Priority" value starting with a priority label: "P1 (high)" -> P1."""
    pattern = rules(config).priority_field
    for f in body.fields:
        if not f.values or not matches(pattern, f.label):
            continue
        value = f.values[0].strip().casefold()
        for priority in sorted(config.labels.priorities, key=len, reverse=True):
            p = priority.casefold()
            if value.startswith(p) and (len(value) == len(p) or not value[len(p)].isalnum()):
                return priority
    return None
