"""``/nexus help``: the commands the person may run on this pull request or issue, with their usage.

Rendered from the registry that dispatches, so it lists exactly what would be accepted here; a bare
``/nexus`` answers the same.
"""

from __future__ import annotations

from .context import CommandContext
from .parser import Invocation
from ..msg import Msg
from .registry import NO_ARGUMENTS, REGISTRY, Command, Outcome
from .reply import render

GRAMMAR = NO_ARGUMENTS  # takes no arguments


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    commands = await REGISTRY.permitted(ctx)
    prefix = ctx.config.command_prefix
    rows = [_row(command, ctx, prefix) for command in commands]
    place = "pull request" if ctx.is_pull_request else "issue"
    return Outcome(ok=True, message=render("commands/help.md.j2", ctx.config.lang, rows=rows, place=place))


def _row(command: Command, ctx: CommandContext, prefix: str) -> dict[str, object]:
    return {
        "synopsis": command.synopsis(prefix),
        "aliases": [f"{prefix} {alias}" for alias in command.aliases],
        "help": command.help,
        "valid": list(command.values(ctx.config)) if command.values else [],
    }


REGISTRY.add(
    Command(
        name="help",
        usage="",
        help=Msg("List the commands you can run here."),
        handler=handle,
        grammar=GRAMMAR,
    )
)
