"""Conditions: when an item, or one piece of its evidence, applies."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..config.base import Condition
from ..msg import Msg
from .facts import Facts


def applies(cond: Condition | None, facts: Facts) -> tuple[bool, str]:
    """Whether ``cond`` holds, and if not, why (one short phrase for the report)."""
    if cond is None:
        return True, ""
    if cond.paths is not None and not facts.paths.any_match(cond.paths):
        return False, Msg("no changed file matches {paths}", paths=", ".join(cond.paths))
    if cond.labels_any is not None and not facts.labels.intersection(_folded(cond.labels_any)):
        return False, Msg("no label {labels}", labels=" / ".join(cond.labels_any))
    if cond.labels_none is not None and facts.labels.intersection(_folded(cond.labels_none)):
        return False, Msg("labelled {labels}",
                          labels=", ".join(sorted(facts.labels.intersection(_folded(cond.labels_none)))))
    if cond.teams_any is not None and not set(facts.teams).intersection(cond.teams_any):
        return False, Msg("no code of {teams}", teams=" / ".join(facts.config.team_name(t) for t in cond.teams_any))
    if cond.cross_team is not None and facts.cross_team != cond.cross_team:
        return False, Msg("cross-team change") if facts.cross_team else Msg("single-team change")
    if cond.base_branches is not None and not any(fnmatchcase(facts.pr.base_ref, b) for b in cond.base_branches):
        return False, Msg("base branch {branch}", branch=facts.pr.base_ref)
    return True, ""


def _folded(names: list[str]) -> set[str]:
    return {name.casefold() for name in names}


def widens(org: Condition | None, repo: Condition | None) -> bool:
    """Whether ``repo`` holds whenever ``org`` holds: an item (or a piece of evidence) under ``repo``
    applies at least as often as under ``org``. Each condition may be dropped, a list of paths,
    labels, teams or branches may grow, the labels that exclude may shrink."""
    if repo is None:
        return True
    for name in ("paths", "labels_any", "teams_any", "base_branches", "labels_none", "cross_team"):
        wide, narrow = getattr(repo, name), getattr(org, name) if org else None
        if wide is None:
            continue
        if narrow is None:
            return False  # a condition the organisation does not have: the item applies less often
        if name == "cross_team":
            if wide != narrow:
                return False
        elif name == "labels_none":
            if not _folded(wide) <= _folded(narrow):
                return False
        elif not ({w.casefold() for w in wide} >= {n.casefold() for n in narrow}):
            return False
    return True
