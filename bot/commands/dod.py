"""``/nexus dod``: evaluate the pull request's Definition of Done now and answer with the summary.

Anyone may ask; the evaluation also publishes the verdict (check run or status) as usual.
"""

from __future__ import annotations

from .context import CommandContext
from .parser import Invocation
from ..msg import Msg
from .registry import NO_ARGUMENTS, REGISTRY, Command, Outcome

GRAMMAR = NO_ARGUMENTS  # takes no arguments


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    return Outcome(ok=True, message=await ctx.evaluate_dod())


REGISTRY.add(
    Command(
        name="dod",
        usage="",
        help=Msg("Evaluate the Definition of Done of this pull request now and show what is missing."),
        handler=handle,
        grammar=GRAMMAR,
        where="pr",
    )
)
