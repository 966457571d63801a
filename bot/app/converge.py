"""The bot's writes that converge, each in one place: labels (created with the taxonomy's colours and
descriptions) and team review requests. The DoD, Ready and the commands all write through here, so
they treat a forge's refusal the same way: a refused write (a team that does not exist, an item the
bot may not write) is logged and the work around it stands; a transient failure raises, and the
delivery is retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from ..checks.approvals import teams_missing_approval
from ..checks.facts import Facts
from ..config import Config
from ..forges.base import Forge, ForgeError
from ..locales import localize
from ..model import LabelStyle
from ..msg import Msg
from .ports import Memory

log = logging.getLogger("nexus.writes")

DEFAULT_COLOR = "ededed"  # the grey GitHub and Forgejo give a label nobody chose a colour for


def label_style(config: Config, label: str) -> LabelStyle | None:
    """How the bot creates ``label`` when the repository does not have it: the colour and description
    of ``labels.colors`` / ``labels.descriptions``, the label's own or its family's ("team:*", where
    "{value}" in the description is what follows "team:"). None when the config gives neither."""
    family = label.split(":", 1)[0] + ":*" if ":" in label else None
    color = _lookup(config.labels.colors, label, family)
    description = _lookup(config.labels.descriptions, label, family)
    if color is None and description is None:
        return None
    if description:  # the embedded config's descriptions are in the catalogs; a NIT's own shows as written
        description = localize(Msg(description), config.lang)
    if description and family and label not in config.labels.descriptions:
        description = description.replace("{value}", label.split(":", 1)[1])
    return LabelStyle(color or DEFAULT_COLOR, description or "")


def _lookup(table: dict[str, str], label: str, family: str | None) -> str | None:
    return table.get(label, table.get(family) if family else None)


async def set_labels(forge: Forge, config: Config, repo: str, number: int, add: Iterable[str],
                     remove: Iterable[str]) -> bool:
    """Add and remove labels on one item; False when the forge refused the write."""
    add, remove = set(add), set(remove)
    if not add and not remove:
        return True
    styles = {label: style for label in add if (style := label_style(config, label))}
    try:
        await forge.set_labels(repo, number, add, remove, styles)
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
