"""The port every forge adapter implements, and what crosses it: the only way use cases reach a forge.

Everything that differs from one forge to another is an attribute or a method of the adapter: where
it keeps config and CODEOWNERS files, how CODEOWNERS is written, whether it announces that CI
finished, whether the verdict needs a sticky comment, its webhook headers. No module outside
``bot/forges/`` asks which forge it is talking to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping, Protocol

from ..model import CheckReport, CheckResult, CodeOwners, Issue, LabelStyle, PullRequest, Report

# Failures that may pass if the same thing is asked again later: the forge failing, limiting or
# being reconfigured, not refusing this request. 401: credentials being fixed; 403: GitHub's rate
# limits in disguise when they come without their headers; 409 and 425: conflicts and replicas.
TRANSIENT_STATUSES = frozenset({401, 403, 408, 409, 425, 429})
OUT_OF_REACH_STATUSES = frozenset({403, 404, 410})


class ForgeError(RuntimeError):
    """A forge call failed after the adapter's own retries. One type for every forge; it says
    whether the failure is transient (ask again later) or a refusal (asking again will not help)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status; None when no answer came (timeout, connection)
        self.retry_after = retry_after  # seconds the forge asked to wait (a rate limit)

    @property
    def transient(self) -> bool:
        if self.retry_after is not None or self.status is None:
            return True
        return self.status >= 500 or self.status in TRANSIENT_STATUSES

    @property
    def refused(self) -> bool:
        """The forge refuses this request (a team that does not exist, an item the bot may not
        write): the work around it stands, and asking again would only be refused again."""
        return not self.transient

    @property
    def out_of_reach(self) -> bool:
        """For a read: the item is deleted, or not visible to the bot."""
        return self.status in OUT_OF_REACH_STATUSES


class PayloadError(ValueError):
    """A delivery cannot be understood (malformed JSON, a field the bot needs is missing)."""


class UnknownEvent(PayloadError):
    """A well-formed delivery of an event the bot does not handle."""


@dataclass(frozen=True)
class Webhooks:
    """What the web layer needs to know of one forge's webhooks: headers and the signature check."""

    forge: str
    event_headers: tuple[str, ...]  # first present wins
    delivery_headers: tuple[str, ...]
    signature_headers: tuple[str, ...]
    verify: Callable[[bytes, bytes, str | None], bool]
    events: frozenset[str]  # the event names the bot handles
    foreign_headers: tuple[str, ...] = ()  # headers only another forge's deliveries carry


class Forge(Protocol):
    name: str  # the adapter's name, as events and stored deliveries carry it
    bot_login: str | None  # the login the bot writes as, once known
    config_paths: tuple[str, ...]  # a repository's config file, in the order the forge would look
    codeowners_paths: tuple[str, ...]  # its CODEOWNERS, first found wins
    announces_ci_completion: bool  # a webhook arrives when CI finishes (else the bot rechecks)
    needs_sticky_comment: bool  # the verdict's full report needs a comment (no room in a status)

    def read_codeowners(self, text: str) -> CodeOwners | None:
        """A CODEOWNERS file in this forge's syntax; None when it names nobody."""

    async def login(self) -> str:
        """The login the bot writes as (asked of the forge once)."""

    async def pull_request(self, repo: str, number: int) -> PullRequest: ...

    async def issue(self, repo: str, number: int) -> Issue: ...

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        """The text of a file on a branch or commit ("": the default branch), None when it does not exist."""

    async def files_present(self, repo: str, ref: str, paths: tuple[str, ...]) -> set[str] | None:
        """Which of ``paths`` exist on ``ref``, when the forge can say so for free or nearly (None: ask
        for each file). GitHub charges a 404 but not a 304: one conditional read of the trees spares
        the probes of files that are not there."""

    async def add_dependency(self, repo: str, number: int, on_repo: str, on_number: int) -> None:
        """Record natively that ``repo#number`` depends on (is blocked by) ``on_repo#on_number``; a
        link that exists already is not an error."""

    async def items_updated(self, owner: str, since: datetime, until: datetime) -> list[Issue]:
        """Every issue and pull request of ``owner`` updated in [since, until) (a backfill's reading:
        snapshots without comments nor native links)."""

    async def deployments(self, repo: str, environment: str, since: datetime) -> list[tuple[str, datetime]]:
        """(sha, first success) of the deployments of ``repo`` to ``environment`` since ``since``;
        empty on a forge that keeps none."""

    async def upsert_issue(self, repo: str, title: str, body: str) -> int:
        """The bot's open issue titled ``title`` in ``repo``, its body replaced, or a new one; its number."""

    async def pulls_for_commit(self, repo: str, sha: str) -> list[int]: ...

    async def timeline_references(self, repo: str, number: int, *, open_pulls_only: bool = False) -> list[tuple[str, int]]:
        """The issues and pull requests that mention this one, oldest first; with ``open_pulls_only``,
        only the open pull requests among them."""

    async def publish_verdict(self, pr: PullRequest, report: Report) -> None:
        """GitHub: one check run per head sha, created or updated. Forgejo: a commit status and a
        sticky comment."""

    async def publish_check(self, repo: str, sha: str, report: CheckReport, *, number: int | None = None,
                            existing: tuple[CheckResult, ...] | None = None) -> None:
        """A check on commit ``sha`` (GitHub: a check run by ``report.name``, annotations included;
        Forgejo: a status by ``report.context``), plus ``report.sticky_marker``'s comment on PR
        ``number`` when set. ``existing``: the commit's checks when a snapshot has them already."""

    async def open_pulls(self, repo: str, limit: int) -> list[tuple[int, str]]:
        """(number, base branch) of the open pull requests of ``repo``, most recently updated first."""

    async def open_pulls_of_owner(self, owner: str, limit: int) -> list[tuple[str, int]]:
        """The open pull requests of every repository of ``owner`` the bot can see, most recently
        updated first."""

    async def set_labels(
        self, repo: str, number: int, add: Iterable[str], remove: Iterable[str],
        styles: Mapping[str, LabelStyle] = {},
    ) -> None:
        """Converge: add the missing ones, remove the listed ones that are present; never touch any
        other. A label the repository does not have yet is created with ``styles[label]`` (colour and
        description) in one write before it is added; one it has keeps its own, and adding it costs
        what adding always did (GitHub: once the adapter has seen that label; the first time, a
        creation refused as ``already_exists``). A label created meanwhile by someone else is a
        success."""

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
