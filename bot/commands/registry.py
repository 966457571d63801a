"""The command registry: what each command is, who may run it where, and the dispatch of a comment.

Each module of ``bot/commands/`` registers its commands here with their grammar, help text and
permission rule. The same registry dispatches and renders ``/nexus help``, so help cannot drift.

Dispatch answers every invocation, never silently: an unknown command, a command in the wrong
place, one the person may not run, or wrong arguments each get a short answer saying why and what
would work. Handlers only run once all of that is checked.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Awaitable, Callable, Literal, Sequence

from ..config import Config
from ..model import LabelChange
from ..msg import Msg, either, join
from .context import CommandContext, Refused
from .parser import Invocation
from .reply import escape_user_text, listing

Where = Literal["pr", "issue", "any"]
Rule = Literal["anyone", "write", "waiver"]
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
NO_ARGUMENTS = re.compile(r"")
MAX_COMMANDS_PER_COMMENT = 10


@dataclass(frozen=True)
class Outcome:
    """The answer to one invocation, and what the worker should do after the comment."""

    ok: bool
    # markdown, usually a Msg (put in the reader's language when the reply is rendered); every value a
    # person typed already escaped
    message: str
    reevaluate: bool = False  # labels or waivers changed: evaluate the DoD / Ready verdict again
    label_changes: tuple[LabelChange, ...] = ()  # writes on other items (the `blocked` label)


def refused(message: str) -> Outcome:
    return Outcome(ok=False, message=message)


Handler = Callable[[CommandContext, Invocation], Awaitable[Outcome]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # the arguments, e.g. "<item> <reason…>"
    help: str  # one line (a Msg)
    handler: Handler
    grammar: re.Pattern[str] = NO_ARGUMENTS  # must fullmatch the arguments joined by single spaces
    where: Where = "any"
    permission: Rule = "anyone"
    aliases: tuple[str, ...] = ()
    values: Callable[[Config], Sequence[str]] | None = None  # the accepted values, shown with the help

    def synopsis(self, prefix: str) -> str:
        return f"{prefix} {self.name} {self.usage}".strip()


@dataclass(frozen=True)
class Answer:
    invocation: Invocation
    outcome: Outcome


class Registry:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        for name in (command.name, *command.aliases):
            if name in self._by_name:
                raise ValueError(f"command name {name!r} is registered twice")
            self._by_name[name] = command
        self.commands.append(command)

    def find(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    async def permitted(self, ctx: CommandContext) -> list[Command]:
        """The commands that work here and that ``ctx.author`` may run, in registration order."""
        access = Access(ctx)
        return [c for c in self.commands if _works_here(c, ctx) and await access.allows(c.permission)]

    async def dispatch(self, ctx: CommandContext, invocations: list[Invocation]) -> list[Answer]:
        """One answer per invocation, in order; past the limit, one answer for all the rest."""
        access = Access(ctx)
        runnable, rest = invocations[:MAX_COMMANDS_PER_COMMENT], invocations[MAX_COMMANDS_PER_COMMENT:]
        answers = [Answer(invocation, await self._run(ctx, access, invocation)) for invocation in runnable]
        if rest:
            if len(rest) > 1:
                message = Msg("Not run, nor the {count} after it: a comment runs at most {most} commands.",
                              count=len(rest) - 1, most=MAX_COMMANDS_PER_COMMENT)
            else:
                message = Msg("Not run: a comment runs at most {most} commands.", most=MAX_COMMANDS_PER_COMMENT)
            answers.append(Answer(rest[0], refused(message)))
        return answers

    async def _run(self, ctx: CommandContext, access: Access, invocation: Invocation) -> Outcome:
        prefix = ctx.config.command_prefix
        command = self.find(invocation.name or "help")
        if command is None:
            return refused(self._unknown(invocation.name, prefix))
        synopsis = f"`{command.synopsis(prefix)}`"
        if not _works_here(command, ctx):
            if command.where == "pr":
                return refused(Msg("{command} works on pull requests only.", command=synopsis))
            return refused(Msg("{command} works on issues only.", command=synopsis))
        if not await access.allows(command.permission):
            return refused(Msg("{command} can be run by {who} only.", command=synopsis,
                               who=_who(command.permission, ctx.config)))
        if not command.grammar.fullmatch(" ".join(invocation.args)):
            if command.values:
                return refused(Msg("Wrong arguments. Usage: {command}: {help} Valid values: {values}.",
                                   command=synopsis, help=command.help, values=listing(command.values(ctx.config))))
            return refused(Msg("Wrong arguments. Usage: {command}: {help}", command=synopsis, help=command.help))
        try:
            return await command.handler(ctx, replace(invocation, name=command.name))
        except Refused as refusal:
            said = refusal.args[0] if refusal.args else ""
            return refused(said if isinstance(said, Msg) else str(refusal))

    def _unknown(self, name: str, prefix: str) -> str:
        close = difflib.get_close_matches(name, list(self._by_name), n=1)
        help_ = "`" + prefix + " help`"
        if close:
            suggestion = "`" + prefix + " " + close[0] + "`"
            return Msg("{name} is not a command. Did you mean {suggestion}? {help} lists the commands you can run here.",
                       name=escape_user_text(name), suggestion=suggestion, help=help_)
        return Msg("{name} is not a command. {help} lists the commands you can run here.",
                   name=escape_user_text(name), help=help_)


class Access:
    """Whether the author may run a command; each forge question is asked once per comment."""

    def __init__(self, ctx: CommandContext) -> None:
        self.ctx = ctx
        self._answers: dict[str, bool] = {}
        self._permission: str | None = None

    async def allows(self, rule: Rule) -> bool:
        if rule == "anyone":
            return True
        if rule not in self._answers:
            self._answers[rule] = await (self._may_write() if rule == "write" else self._may_waive())
        return self._answers[rule]

    async def _repository_permission(self) -> str:
        if self._permission is None:
            self._permission = await self.ctx.permission(self.ctx.author)
        return self._permission

    async def _may_write(self) -> bool:
        return await self._repository_permission() in WRITE_PERMISSIONS

    async def _may_waive(self) -> bool:
        policy = self.ctx.config.waivers
        author = self.ctx.author.lower()
        if author in (user.lower() for user in policy.users):
            return True
        if await self._repository_permission() in policy.permissions:
            return True
        for team in policy.teams:
            if await self.ctx.is_member(team, self.ctx.author):
                return True
        return False


def _works_here(command: Command, ctx: CommandContext) -> bool:
    return command.where == "any" or (command.where == "pr") == ctx.is_pull_request


def _who(rule: Rule, config: Config) -> Msg:
    if rule == "write":
        return Msg("people with write access to this repository")
    policy = config.waivers
    who: list[object] = [Msg("members of {teams}", teams=listing(policy.teams))] if policy.teams else []
    who += [listing(policy.users)] if policy.users else []
    who += [Msg("repository {permissions}s", permissions=either(policy.permissions))] if policy.permissions else []
    return join(who, "; ") if who else Msg("nobody (no waiver policy is configured)")


REGISTRY = Registry()
