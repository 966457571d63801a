"""Slash commands on a real forge: the ``CommandContext`` of ``bot/commands`` implemented with the
forge adapter, the DoD and Ready use cases, and waivers kept in the bot's own replies."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from .. import markers
from ..checks.deps import DepGraph, build_graph
from ..commands import answer_comment
from ..commands.context import Refused
from ..commands.parser import parse_commands
from ..config import Config, ConfigError
from ..forges.base import Forge
from ..history import NexusHistory
from ..model import Comment, Event, ItemRef, Waiver
from ..msg import Msg
from . import converge
from .dod import assess, publish
from .items import fetch_item
from .ports import Services
from .ready import render_ready, run_ready

log = logging.getLogger("nexus.commands")
_COMMAND_LIKE = re.compile(r"(?m)^[ \t>]*/")  # a line that could start with any configured prefix


class ForgeCommandContext:
    """One comment's context: the item it is on, who typed it, and the calls handlers may make."""

    def __init__(self, services: Services, forge: Forge, where: str, event: Event, config: Config,
                 comments: tuple[Comment, ...] = ()):
        self.services, self.forge, self.where = services, forge, where
        self.config = config
        self.comments = tuple(comments)  # the item's comments as read when this comment was taken
        self.repo, self.number = event.repo, event.number
        self.is_pull_request = event.is_pull_request
        self.author = event.comment.author
        self.installation_id = event.installation_id
        self.markers: list[str] = []  # waiver markers to write into the reply
        self.waiver_changes: dict[str, Waiver | None] = {}
        self._labels: set[str] | None = set(event.labels) if event.labels is not None else None
        self._permissions: dict[str, str] = {}

    async def permission(self, user: str) -> str:
        if user not in self._permissions:
            self._permissions[user] = await self.forge.permission(self.repo, user)
        return self._permissions[user]

    async def is_member(self, team: str, user: str) -> bool:
        listed = self.config.teams[team].members if team in self.config.teams else []
        if listed:
            return user.lower() in {m.lower() for m in listed}
        slug = self.config.team_slug(team) if team in self.config.teams else team
        owner = self.repo.split("/", 1)[0]
        members = await self.services.reads.members(self.forge, self.where, owner, slug)
        return user.lower() in {m.lower() for m in members}

    async def labels(self) -> set[str]:
        if self._labels is None:
            self._labels = set((await self.forge.issue(self.repo, self.number)).labels)
        return set(self._labels)

    async def set_labels(self, add: set[str], remove: set[str]) -> None:
        if not await converge.set_labels(self.forge, self.config, self.repo, self.number, add, remove):
            raise Refused(Msg("The forge refused to change this item's labels (the bot may not write here)."))
        self._labels = (await self.labels() | set(add)) - set(remove)

    async def _assess(self):
        return await assess(self.forge, self.where, self.services.reads, self.repo, self.number,
                            details_url=self.services.details_url, waiver_changes=self.waiver_changes,
                            signer=self.services.signer)

    async def evaluate_dod(self) -> str:
        a = await self._assess()
        await publish(self.forge, self.services.memory, a)
        return markers.without_verdict(a.report.summary).rstrip()

    async def evaluate_ready(self) -> str:
        verdict, config = await run_ready(self.services, self.forge, self.where, self.repo, self.number,
                                          self.installation_id)
        return render_ready(verdict, config).replace(markers.READY + "\n", "").strip()

    async def request_team_reviews(self) -> list[str]:
        a = await self._assess()
        if a.facts is None:
            return []
        request = await converge.request_team_reviews(self.forge, self.services.memory, a.facts, any_change=True)
        if request.refused is not None:
            teams = ", ".join(self.config.team_name(t) for t in request.teams)
            raise Refused(Msg("The forge refused to ask {teams} for a review (HTTP {status}): "
                              "check that the team exists and can see this repository.",
                              teams=teams, status=request.refused.status))
        return request.teams

    async def nexus_history(self) -> NexusHistory:
        """The organisation's records as the store keeps them (milestones are not read: sprints come
        from the configured calendar)."""
        now = datetime.now(timezone.utc)
        if self.services.history is None:
            return NexusHistory(as_of=now)
        items, evidence = await self.services.history.load(self.where, self.repo.split("/", 1)[0])
        return NexusHistory(as_of=now, items=tuple(items), evidence=tuple(evidence))

    async def dependency_graph(self, depth: int) -> DepGraph:
        root = ItemRef(self.forge.name, self.repo, self.number)
        return await build_graph(root, lambda ref: fetch_item(self.forge, ref), self.config, depth=depth)

    @property
    def place(self) -> str:
        return markers.place(self.repo, self.number)

    async def record_waiver(self, waiver: Waiver) -> None:
        if not self.services.signer:
            raise Refused(Msg("Waivers need a key to sign them: the bot's operator must set MARKER_KEYS."))
        self.markers.append(markers.waiver(waiver, self.services.signer, self.place))
        self.waiver_changes[waiver.item_id] = waiver

    async def remove_waiver(self, item_id: str) -> bool:
        signer = self.services.signer
        current = {**markers.waivers_from(self.comments, self.forge.bot_login, signer, self.place),
                   **self.waiver_changes}
        if current.get(item_id) is None:
            return False
        self.markers.append(markers.waiver(current[item_id], signer, self.place, active=False))
        self.waiver_changes[item_id] = None
        return True


async def handle_comment(services: Services, forge: Forge, where: str, event: Event) -> bool:
    """Answer the commands of one new comment; True when the DoD / Ready verdict should be redone.

    A comment is answered once: its reply (keyed by the comment's id) is written last, after every
    other write of its commands, so a retried delivery that finds the reply runs nothing again (an
    ``unwaive`` run twice would find no waiver and drop its own marker, bringing the waiver back)."""
    comment = event.comment
    if comment is None or event.number is None or comment.author_is_bot or comment.author == forge.bot_login:
        return False
    if not _COMMAND_LIKE.search(comment.body or ""):
        return False  # most comments are conversation: no API call for them
    config = await _config(services, forge, where, event, "")
    if not parse_commands(comment.body or "", config.command_prefix):
        return False
    where_marks = markers.place(event.repo, event.number)
    reply_marker = markers.reply(comment.id, services.signer, where_marks)
    pr = await forge.pull_request(event.repo, event.number) if event.is_pull_request else None
    comments = pr.comments if pr else (await forge.issue(event.repo, event.number)).comments
    if any(markers.replied(c, comment.id, forge.bot_login, services.signer, where_marks) for c in comments):
        log.info("comment %s on %s#%s was answered already", comment.id, event.repo, event.number)
        return True  # its writes are done; the verdict converges if the first run stopped short of it
    if pr is not None and pr.base_ref:  # a pull request follows the rules of its base branch, as its DoD does
        config = await _config(services, forge, where, event, pr.base_ref)
        if not parse_commands(comment.body or "", config.command_prefix):
            return False
    await forge.react(event.repo, comment.id, "eyes")
    ctx = ForgeCommandContext(services, forge, where, event, config, comments)
    answer = await answer_comment(ctx, comment.body or "")
    if answer is None:
        return False
    for change in answer.label_changes:  # other items' `blocked` labels, before the reply that reports them
        await converge.set_labels(forge, config, change.ref.repo, change.ref.number, change.add, change.remove)
    # one reply per comment, keyed by its id, written last: it says the comment is done
    body = answer.reply.rstrip() + "\n" + "".join(ctx.markers) + reply_marker
    await forge.upsert_comment(event.repo, event.number, reply_marker, body)
    return answer.reevaluate


async def _config(services: Services, forge: Forge, where: str, event: Event, ref: str) -> Config:
    """The organisation config extended by the repository's file on ``ref`` ("": the default branch)."""
    try:
        return await services.reads.config_for(forge, where, event.repo, ref)
    except ConfigError as exc:  # a broken repository config: the organisation's rules still answer
        log.info("commands on %s#%s use the organisation config: %s", event.repo, event.number, exc)
        return await services.reads.org_rules(forge, where, event.repo)
