"""What a command handler may read and do: the narrow interface the worker implements.

One context is built per comment: the pull request or issue the comment is on, and the person who
typed it. Handlers only ever call what is listed here; the worker implements it with the forge
adapters (``bot/forges/``), the evaluation of the DoD and Ready rules, and the waiver store. Tests
use an in-memory fake that records every call.
"""

from __future__ import annotations

from typing import Protocol

from ..config import Config
from ..checks.deps import DepGraph
from ..model import Waiver


class Refused(Exception):
    """A context call the forge refused: the command's answer says so (``str()``: the sentence)."""


class CommandContext(Protocol):
    config: Config  # the merged organisation + repository config
    repo: str  # owner/name
    number: int  # the pull request or issue the comment is on
    is_pull_request: bool
    author: str  # who typed the command

    async def permission(self, user: str) -> str:
        """The user's permission on this repository: admin | maintain | write | triage | read | none."""

    async def is_member(self, team: str, user: str) -> bool:
        """Whether ``user`` is in ``team``: a key of ``config.teams`` (its ``members`` or forge team
        ``config.team_slug(key)``) or a team named only in ``config.waivers.teams`` such as ``nit``
        (then the forge team of that slug)."""

    async def labels(self) -> set[str]:
        """The item's labels now (after this context's own ``set_labels`` calls)."""

    async def set_labels(self, add: set[str], remove: set[str]) -> None:
        """Converge: add the missing labels (created with ``config.labels.colors`` and
        ``descriptions`` when needed), remove the listed ones. Handlers only pass labels that change
        and never an empty change. Raises ``Refused`` when the forge refuses the write."""

    async def evaluate_dod(self) -> str:
        """Evaluate the pull request's DoD now, publish the verdict as usual, and return its summary
        (markdown, without the machine-readable ``<!-- nexus-verdict`` marker)."""

    async def evaluate_ready(self) -> str:
        """Evaluate the issue's Ready criteria now, converge its readiness labels, and return the
        summary (markdown)."""

    async def request_team_reviews(self) -> list[str]:
        """Ask each team the pull request touches, and that has neither approved nor been asked yet,
        for a review. Returns the keys of the teams asked now; raises ``Refused`` when the forge
        refuses the request."""

    async def dependency_graph(self, depth: int) -> DepGraph:
        """``bot.deps.build_graph`` around this item, ``depth`` links away at most."""

    async def record_waiver(self, waiver: Waiver) -> None:
        """Keep the waiver of one DoD item on this pull request (replacing an earlier one of the item)."""

    async def remove_waiver(self, item_id: str) -> bool:
        """Drop the waiver of one DoD item; False when there was none."""
