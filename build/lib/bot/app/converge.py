"""The bot's writes that converge, each in one place: labels (with the taxonomy's colours) and team
review requests. The DoD, Ready and the commands all write through here, so they treat a forge's
refusal the same way: a refused write (a team that does not exist, an item the bot may not write) is
logged and the work around it stands; a transient failure raises, and the delivery is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from ..checks.approvals import teams_missing_approval
from ..checks.facts import Facts
from ..config import Config
from ..forges.base import Forge, ForgeError
from .ports import Memory

log = logging.getLogger("nexus.writes")

DEFAULT_COLOR = "ededed"


def label_color(config: Config, label: str) -> str:
    """The colour a label gets when the bot creates it: its own, its family's ("team:*"), or grey."""
    colors = config.labels.colors
    if label in colors:
        return colors[label]
    family = label.split(":", 1)[0] + ":*" if ":" in label else None
    return colors.get(family, DEFAULT_COLOR) if family else DEFAULT_COLOR


async def set_labels(forge: Forge, config: Config, repo: str, number: int, add: Iterable[str],
                     remove: Iterable[str]) -> bool:
    """Add and remove labels on one item; False when the forge refused the write."""
    add, remove = set(add), set(remove)
    if not add and not remove:
        return True
    colors = {label: label_color(config, label) for label in add}
    try:
        await forge.set_labels(repo, number, add, remove, colors)
    except ForgeError as exc:
        if exc.transient:
            raise
        log.warning("labels on %s#%s refused: %s", repo, number, exc)
        return False
    return True


@dataclass(frozen=True)
class ReviewRequest:
    teams: list[str]  # the team keys asked (or, when refused, that the bot tried to ask)
    refused: ForgeError | None = None


async def request_team_reviews(forge: Forge, memory: Memory, facts: Facts, *, any_change: bool = False) -> ReviewRequest:
    """Ask each touched team that has neither approved nor been asked yet for a review, once: of a
    cross-team change, or of any change with ``any_change`` (a person asked). A refused request is
    not made again either: asking again would only be refused again."""
    pr, config = facts.pr, facts.config
    asked = await memory.marks(forge.name, pr.repo, pr.number, "review-request")
    teams = [t for t in teams_missing_approval(facts, any_change=any_change) if config.team_slug(t) not in asked]
    if not teams:
        return ReviewRequest([])
    slugs = list(dict.fromkeys(config.team_slug(t) for t in teams))
    refused = None
    try:
        await forge.request_reviews(pr.repo, pr.number, slugs)
    except ForgeError as exc:
        if exc.transient:
            raise  # the forge is failing or limiting: the whole evaluation is retried
        log.warning("review request for %s on %s#%s refused: %s", slugs, pr.repo, pr.number, exc)
        refused = exc
    await memory.mark(forge.name, pr.repo, pr.number, "review-request", set(slugs))
    return ReviewRequest(teams, refused)
