"""Big pull requests: what a verdict judged on a cut file list may have missed.

GitHub lists at most 3,000 files of a pull request; past that the rules see only the files listed.
The verdict then says so (``Verdict.truncation``): how many files were listed out of how many
changed, and which items depend on which files change, so that people know which findings to doubt.
Pure, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Truncation
from .facts import Facts
from .kinds import BY_NAME

if TYPE_CHECKING:
    from ..config import Config
    from ..config.base import Condition


def _condition_on_paths(cond: "Condition | None") -> list[str]:
    """Why a condition depends on the changed files: "paths" (it matches them), "teams" (it asks
    which teams are touched, or whether the change is cross-team: both derived from the files)."""
    if cond is None:
        return []
    why = ["paths"] if cond.paths is not None else []
    if cond.teams_any is not None or cond.cross_team is not None:
        why.append("teams")
    return why


def items_on_paths(config: "Config") -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every enabled item whose applicability or evidence depends on which files the pull request
    changes, in config order, with why: "paths", "teams" (its ``when:`` or an evidence's), "files"
    (its evidence looks for a changed file), "reviews" (one approval per touched team)."""
    found = []
    for item in config.enabled_items():
        why: list[str] = []
        for cond in [item.when, *(ev.when for ev in item.evidence)]:
            why += _condition_on_paths(cond)
        for ev in item.evidence:
            code = BY_NAME[ev.kind].on_paths(ev)
            if code:
                why.append(code)
        if why:
            found.append((item.id, tuple(dict.fromkeys(why))))
    return tuple(found)


def truncation(facts: Facts) -> Truncation | None:
    """What the report must say when the forge listed fewer files than the pull request changes."""
    pr = facts.pr
    if not pr.files_truncated or pr.changed_files is None:
        return None
    from_files = facts.ownership.touched
    return Truncation(
        listed=len(pr.files),
        changed=pr.changed_files,
        items=items_on_paths(facts.config),
        teams_from_files=tuple(from_files),
        teams_from_labels=tuple(t for t in facts.label_teams if t not in from_files),
    )
