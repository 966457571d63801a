"""``/nexus reviewers``: ask every team the pull request touches for a review, once.

Teams that already approved or were already asked are left alone, so running it twice is harmless.
"""

from __future__ import annotations

from .context import CommandContext
from .parser import Invocation
from ..msg import Msg
from .registry import NO_ARGUMENTS, REGISTRY, Command, Outcome
from .reply import listing

GRAMMAR = NO_ARGUMENTS  # takes no arguments


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    asked = await ctx.request_team_reviews()
    if not asked:
        return Outcome(
            ok=True,
            message=Msg("No review to request: every team this change touches has approved or was already asked."),
        )
    names = [ctx.config.team_name(key) if key in ctx.config.teams else key for key in asked]
    return Outcome(ok=True, message=Msg("Asked {teams} for a review.", teams=listing(names)))


REGISTRY.add(
    Command(
        name="reviewers",
        usage="",
        help=Msg("Ask each team this change touches (and that has not approved yet) for a review."),
        handler=handle,
        grammar=GRAMMAR,
        where="pr",
    )
)
