"""The one interface every forge adapter implements: the only way rules and commands reach a forge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol

from ..model import Issue, PullRequest, Verdict


class ForgeError(RuntimeError):
    """A forge call failed after its retries (5xx, timeout, connection error, rate limit)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Report:
    """A verdict rendered for people: what a check run or a status + sticky comment shows."""

    verdict: Verdict
    title: str  # one line: "19/23 done · 2 missing: changelog, reviews"
    summary: str  # markdown, the table grouped by category, ends with the machine-readable verdict
    check_name: str = "Nexus DoD"
    status_context: str = "nexus/dod"
    sticky_comment: bool = False  # also post/edit the summary as one sticky PR comment
    target_url: str | None = None
    always_write: bool = False  # a person asked for a re-run: write even when nothing changed


class Forge(Protocol):
    name: str  # "github" | "forgejo"
    bot_login: str | None

    async def pull_request(self, repo: str, number: int) -> PullRequest: ...

    async def issue(self, repo: str, number: int) -> Issue: ...

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        """The text of a file on a branch or commit, None when it does not exist."""

    async def pulls_for_commit(self, repo: str, sha: str) -> list[int]: ...

    async def publish_verdict(self, pr: PullRequest, report: Report) -> None:
        """GitHub: one check run per head sha, created or updated. Forgejo: a commit status and a
        sticky comment."""

    async def set_labels(
        self, repo: str, number: int, add: Iterable[str], remove: Iterable[str], colors: Mapping[str, str] = {}
    ) -> None:
        """Converge: add the missing ones (creating them with ``colors[label]`` when the forge needs
        the label to exist first), remove the listed ones that are present; never touch any other."""

    async def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> int:
        """The bot's one comment carrying ``marker`` (a hidden HTML comment): edited in place, or
        created. Returns its id."""

    async def post_comment(self, repo: str, number: int, body: str) -> int: ...

    async def react(self, repo: str, comment_id: int, content: str = "eyes") -> None: ...

    async def team_members(self, org: str, team: str) -> frozenset[str]: ...

    async def request_reviews(self, repo: str, number: int, teams: Iterable[str]) -> None: ...

    async def permission(self, repo: str, user: str) -> str:
        """admin | maintain | write | triage | read | none"""

    async def aclose(self) -> None: ...
