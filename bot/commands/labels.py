"""Label commands, limited to the shared taxonomy (NEXUS.md "Labels"):

    /nexus team backend frontend     /nexus remove-team frontend
    /nexus priority P1               /nexus remove-priority
    /nexus type bug                  /nexus remove-type
    /nexus points 5                  /nexus remove-points
    /nexus milestone 3               /nexus remove-milestone

Values come from the config (``teams`` keys, ``labels.priorities`` / ``types`` / ``milestones``, and
``ready.scale`` for points, the scale the Ready check accepts); anything else is refused with the valid values. Teams add up; every
other family holds one label at a time, so setting one removes the previous label of its family.
Writes converge: only the labels that change are sent, and nothing when nothing changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..config import Config
from ..msg import Msg
from .context import CommandContext
from .parser import Invocation
from .registry import REGISTRY, Command, Outcome, refused
from .reply import escape_user_text, listing

ONE_VALUE = re.compile(r"\S+")
SOME_VALUES = re.compile(r"\S+(?: \S+)*")
ONE_VALUE_OR_NONE = re.compile(r"(?:\S+)?")


@dataclass(frozen=True)
class Family:
    name: str  # the command: "priority"; its removal is "remove-priority"
    noun: str | Callable[[Config], str]  # "a priority", as in "P9 is not a priority"
    choices: Callable[[Config], dict[str, str]]  # value as typed -> label, in display order
    help: str
    single: bool = True  # one label of the family at a time
    prefix: Callable[[Config], str] | None = None  # any label with this prefix belongs to the family
    removal: str = ""  # the help of remove-<family>: "Remove the priority label."
    none_set: str = ""  # "There is no priority label"

    def values(self, config: Config) -> list[str]:
        return list(self.choices(config))

    def label_for(self, config: Config, typed: str) -> str | None:
        """The label meant by ``typed``: its value or its label name, in any case."""
        typed = typed.lower()
        for value, label in self.choices(config).items():
            if typed in (value.lower(), label.lower()):
                return label
        return None

    def present(self, config: Config, labels: set[str]) -> set[str]:
        """The labels of this family among ``labels``."""
        known = {label.lower() for label in self.choices(config).values()}
        prefix = self.prefix(config).lower() if self.prefix else None
        return {label for label in labels if label.lower() in known or (prefix and label.lower().startswith(prefix))}


FIBONACCI = [1, 2, 3, 5, 8, 13, 21]


def _points_noun(config: Config) -> str:
    if config.ready.scale == FIBONACCI:
        return Msg("a story-point value on the Fibonacci scale")
    return Msg("a story-point value on the scale")


FAMILIES = {
    family.name: family
    for family in (
        Family(
            "team", Msg("a team"), lambda c: {key: c.team_label(key) for key in c.teams},
            Msg("Add the owner team labels (several teams may own an item)."), single=False,
            removal=Msg("Remove team labels."), none_set=Msg("There is no team label"),
        ),
        Family("priority", Msg("a priority"), lambda c: {p: p for p in c.labels.priorities}, Msg("Set the priority."),
               removal=Msg("Remove the priority label."), none_set=Msg("There is no priority label")),
        Family("type", Msg("a type"), lambda c: {t: t for t in c.labels.types}, Msg("Set the type."),
               removal=Msg("Remove the type label."), none_set=Msg("There is no type label")),
        Family(
            "points", _points_noun,
            lambda c: {str(n): f"{c.labels.points_prefix}{n}" for n in c.ready.scale},
            Msg("Set the estimate in story points."), prefix=lambda c: c.labels.points_prefix,
            removal=Msg("Remove the points label."), none_set=Msg("There is no points label"),
        ),
        Family(
            "milestone", Msg("a milestone"), lambda c: {m.rsplit(":", 1)[-1]: m for m in c.labels.milestones},
            Msg("Set the milestone."),
            removal=Msg("Remove the milestone label."), none_set=Msg("There is no milestone label"),
        ),
    )
}


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    removing = invocation.name.startswith("remove-")
    family = FAMILIES[invocation.name.removeprefix("remove-")]
    wanted: list[str] = []
    for typed in invocation.args:
        label = family.label_for(ctx.config, typed)
        if label is None:
            valid = listing(family.values(ctx.config))
            noun = family.noun(ctx.config) if callable(family.noun) else family.noun
            return refused(Msg("{value} is not {noun}; valid: {values}", value=escape_user_text(typed), noun=noun,
                               values=valid))
        wanted.append(label)
    current = await ctx.labels()
    if removing:
        return await _remove(ctx, family, wanted, current)
    return await _add(ctx, family, list(dict.fromkeys(wanted)), current)


async def _add(ctx: CommandContext, family: Family, wanted: list[str], current: set[str]) -> Outcome:
    present = {label.lower() for label in current}
    add = [label for label in wanted if label.lower() not in present]
    remove = set()
    if family.single:
        remove = {label for label in family.present(ctx.config, current) if label.lower() != wanted[0].lower()}
    if not add and not remove:
        return Outcome(ok=True, message=Msg("Already labelled {labels}; nothing to change.", labels=listing(wanted)))
    await ctx.set_labels(set(add), remove)
    if remove:
        message = Msg("Added {labels}; removed {removed}.", labels=listing(add), removed=listing(sorted(remove)))
    else:
        message = Msg("Added {labels}.", labels=listing(add))
    return Outcome(ok=True, message=message, reevaluate=True)


async def _remove(ctx: CommandContext, family: Family, wanted: list[str], current: set[str]) -> Outcome:
    """Remove the named labels of the family, or all of them when none is named."""
    if wanted:
        named = {label.lower() for label in wanted}
        remove = {label for label in current if label.lower() in named}
    else:
        remove = family.present(ctx.config, current)
    if not remove:
        missing = (Msg("{labels} is not set", labels=listing(wanted)) if wanted
                   else family.none_set or Msg("There is no {family} label", family=family.name))
        return Outcome(ok=True, message=Msg("{missing} on this item; nothing to remove.", missing=missing))
    await ctx.set_labels(set(), remove)
    return Outcome(ok=True, message=Msg("Removed {labels}.", labels=listing(sorted(remove))), reevaluate=True)


def _register(family: Family) -> None:
    """``<family> <value>`` and ``remove-<family> [value]``; for teams, several values each."""
    if family.single:
        setting = (f"<{family.name}>", ONE_VALUE, Msg("{help} It replaces the current one.", help=family.help))
        removal = (f"[{family.name}]", ONE_VALUE_OR_NONE,
                   family.removal or Msg("Remove the {family} label.", family=family.name))
    else:
        setting = (f"<{family.name}…>", SOME_VALUES, family.help)
        removal = (f"<{family.name}…>", SOME_VALUES,
                   family.removal or Msg("Remove {family} labels.", family=family.name))
    for name, (usage, grammar, text) in ((family.name, setting), (f"remove-{family.name}", removal)):
        REGISTRY.add(
            Command(
                name=name, usage=usage, help=text, handler=handle, grammar=grammar,
                permission="write", values=family.values,
            )
        )


for family in FAMILIES.values():
    _register(family)
