"""Label names compared as forges compare them: GitHub and Forgejo keep one label per name whatever
its case, so a repository's existing ``Ready`` is the taxonomy's ``ready``."""

from __future__ import annotations

from typing import Iterable


def has(labels: Iterable[str], name: str) -> bool:
    key = name.casefold()
    return any(label.casefold() == key for label in labels)


def missing(wanted: Iterable[str], labels: Iterable[str]) -> set[str]:
    """The wanted names the item does not carry yet."""
    have = {label.casefold() for label in labels}
    return {name for name in wanted if name.casefold() not in have}


def carried(names: Iterable[str], labels: Iterable[str]) -> set[str]:
    """The item's own spelling of each of ``names`` it carries (what a removal must name)."""
    keys = {name.casefold() for name in names}
    return {label for label in labels if label.casefold() in keys}
