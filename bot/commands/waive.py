"""``/nexus waive <item> <reason…>`` and ``/nexus unwaive <item>`` on a pull request.

A waiver marks one DoD item as not required for this pull request, with who waived it and why. The
reason is mandatory. Only the people ``config.waivers`` names may waive (members of its teams, its
users, or a repository permission such as admin); items marked ``waivable: false`` never can be.
The item is named by its id (``changelog``) or its number in the DoD (``9``); a misspelt id gets the
closest ids suggested.
"""

from __future__ import annotations

import difflib
import re

from ..config import Config, DodItem
from ..model import Waiver
from ..msg import Filtered, Msg, either
from .context import CommandContext
from .parser import Invocation
from .registry import REGISTRY, Command, Outcome, refused
from .reply import escape_user_text, listing

WAIVE = re.compile(r"\S+ .*\S.*")  # an item, then a reason that is not blank
UNWAIVE = re.compile(r"\S+")  # an item


async def handle_waive(ctx: CommandContext, invocation: Invocation) -> Outcome:
    typed, reason = invocation.args[0], " ".join(invocation.args[1:]).strip()
    item = find_item(ctx.config, typed)
    if item is None:
        return refused(_unknown_item(ctx.config, typed))
    if not item.waivable:
        return refused(Msg("{item} cannot be waived: the DoD marks it {setting}.", item=_name(item),
                           setting="`waivable: false`"))
    await ctx.record_waiver(Waiver(item_id=item.id, by=ctx.author, reason=reason))
    return Outcome(
        ok=True,
        message=Msg("Waived {item}. Reason: {reason}", item=_name(item), reason=escape_user_text(reason)),
        reevaluate=True,
    )


async def handle_unwaive(ctx: CommandContext, invocation: Invocation) -> Outcome:
    typed = invocation.args[0]
    item = find_item(ctx.config, typed)
    if item is None:
        return refused(_unknown_item(ctx.config, typed))
    if not await ctx.remove_waiver(item.id):
        return Outcome(ok=True, message=Msg("{item} was not waived; nothing to undo.", item=_name(item)))
    return Outcome(ok=True, message=Msg("The waiver of {item} is removed.", item=_name(item)), reevaluate=True)


def find_item(config: Config, typed: str) -> DodItem | None:
    """The enabled DoD item with this id (any case) or this number in the DoD."""
    key = typed.strip().lower().lstrip("#")
    for item in config.enabled_items():
        if item.id == key or (item.number is not None and str(item.number) == key):
            return item
    return None


def _waivable_ids(config: Config) -> list[str]:
    return [item.id for item in config.enabled_items() if item.waivable]


def _unknown_item(config: Config, typed: str) -> str:
    close = difflib.get_close_matches(typed.lower(), _waivable_ids(config), n=3)
    if close:
        hint = Msg("Did you mean {items}?", items=either([f"`{item_id}`" for item_id in close]))
    else:
        hint = Msg("Items that can be waived: {items}.", items=listing(_waivable_ids(config)))
    return Msg("{value} is not an item of the Definition of Done. {hint}", value=escape_user_text(typed), hint=hint)


def _name(item: DodItem) -> Msg:
    """"`changelog` (CHANGELOG.md updated)": the title in the reader's language when the catalog has it."""
    code = "`" + item.id + "`"
    return Msg("{id} ({title})", id=code, title=Filtered(Msg(item.title), escape_user_text))


REGISTRY.add(
    Command(
        name="waive",
        usage="<item> <reason…>",
        help=Msg("Waive one DoD item on this pull request; the reason is mandatory and recorded."),
        handler=handle_waive,
        grammar=WAIVE,
        where="pr",
        permission="waiver",
    )
)
REGISTRY.add(
    Command(
        name="unwaive",
        usage="<item>",
        help=Msg("Withdraw the waiver of one DoD item on this pull request."),
        handler=handle_unwaive,
        grammar=UNWAIVE,
        where="pr",
        permission="waiver",
    )
)
