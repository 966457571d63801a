"""Slash commands: ``/nexus <command> <args…>`` in pull request and issue comments.

One module per command (grammar, help text, permission rule, handler), all registered in
``registry.REGISTRY``. The worker calls ``answer_comment`` with the comment body and a
``CommandContext``; it posts the one reply, re-evaluates when asked, and applies the label changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import LabelChange
# each module registers its commands; this order is the order of /nexus help
from . import help, dod, ready, deps, metrics, reviewers, labels, waive  # noqa: F401, I001  # isort: skip
from .context import CommandContext
from .parser import parse_commands
from .registry import REGISTRY, Answer
from .reply import render_reply


@dataclass(frozen=True)
class CommentAnswer:
    reply: str  # markdown: every command line quoted, each followed by its answer
    answers: tuple[Answer, ...]

    @property
    def reevaluate(self) -> bool:
        """A command changed labels or waivers: evaluate the DoD / Ready verdict again (once)."""
        return any(answer.outcome.reevaluate for answer in self.answers)

    @property
    def label_changes(self) -> list[LabelChange]:
        """Label writes on other items (``blocked``), to converge with the forge's ``set_labels``."""
        return [change for answer in self.answers for change in answer.outcome.label_changes]


async def answer_comment(ctx: CommandContext, body: str) -> CommentAnswer | None:
    """Run the commands of one comment; None when it has none (then the bot says nothing)."""
    invocations = parse_commands(body, ctx.config.command_prefix)
    if not invocations:
        return None
    answers = await REGISTRY.dispatch(ctx, invocations)
    return CommentAnswer(reply=render_reply(answers, language=ctx.config.lang), answers=tuple(answers))
