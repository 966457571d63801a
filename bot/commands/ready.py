"""``/nexus ready``: check the issue against the Ready criteria now and answer with the summary.

Anyone may ask; the evaluation also converges the ``ready`` / ``needs-refinement`` labels.
"""

from __future__ import annotations

from .context import CommandContext
from .parser import Invocation
from ..msg import Msg
from .registry import NO_ARGUMENTS, REGISTRY, Command, Outcome

GRAMMAR = NO_ARGUMENTS  # takes no arguments


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    return Outcome(ok=True, message=await ctx.evaluate_ready())


REGISTRY.add(
    Command(
        name="ready",
        usage="",
        help=Msg("Check this issue against the Ready criteria now and show what is missing."),
        handler=handle,
        grammar=GRAMMAR,
        where="issue",
    )
)
