"""The domain's vocabulary: forge-neutral snapshots of pull requests and issues, the events that
arrive about them, the verdicts the rules give, and the value types the layers hand each other.

Adapters in ``bot/forges/`` build snapshots and events; rules in ``bot/checks/`` read them and never
do I/O; the use cases in ``bot/app/`` carry verdicts to the forge as ``Report`` and ``LabelChange``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol


class State(str, enum.Enum):
    """What one DoD item (or the whole verdict) says."""

    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


class ReviewState(str, enum.Enum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"
    PENDING = "PENDING"


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str = "modified"  # added | modified | removed | renamed
    previous_path: str | None = None


@dataclass(frozen=True)
class Review:
    author: str
    state: ReviewState
    commit_sha: str | None = None
    submitted_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class CheckResult:
    """A CI signal on the head commit: a check run or a commit status.

    ``conclusion`` is ``None`` while the signal is not complete. Commit statuses are mapped:
    pending -> (in_progress, None); success -> success; failure/error -> failure.
    ``text`` holds whatever prose the signal carries (check output title/summary/text, status
    description), where numbers such as coverage are read from.
    """

    name: str
    status: str  # queued | in_progress | completed
    conclusion: str | None = None  # success | failure | neutral | cancelled | skipped | timed_out | action_required
    text: str = ""
    source: str = "check_run"  # check_run | status | deployment
    id: int | None = None
    app_slug: str | None = None
    url: str | None = None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def succeeded(self) -> bool:
        return self.completed and self.conclusion in ("success", "neutral", "skipped")


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    created_at: datetime | None = None
    author_is_bot: bool = False


@dataclass(frozen=True)
class PullRequest:
    forge: str  # github | forgejo
    repo: str  # owner/name
    number: int
    title: str
    body: str
    author: str
    base_ref: str
    head_ref: str
    head_sha: str
    labels: tuple[str, ...] = ()
    files: tuple[ChangedFile, ...] = ()
    changed_files: int | None = None  # how many files the forge says the PR changes (None: not said)
    reviews: tuple[Review, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    comments: tuple[Comment, ...] = ()
    draft: bool = False
    state: str = "open"  # open | closed
    merged: bool = False
    url: str = ""
    codeowners: CodeOwners | None = None  # the base branch's CODEOWNERS, when the repo has one
    created_at: datetime | None = None  # when it was opened (the board shows how long it has waited)

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @property
    def files_truncated(self) -> bool:
        """The forge listed fewer files than the PR changes (GitHub lists 3,000 at most)."""
        return self.changed_files is not None and self.changed_files > len(self.files)


@dataclass(frozen=True)
class Issue:
    forge: str
    repo: str
    number: int
    title: str
    body: str
    author: str
    labels: tuple[str, ...] = ()
    state: str = "open"
    comments: tuple[Comment, ...] = ()
    is_pull_request: bool = False
    url: str = ""
    native_links: tuple["NativeLink", ...] = ()  # the dependencies the forge itself records
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    completed: bool = False  # closed as completed (GitHub's state_reason; Forgejo has none: any close)
    merged_at: datetime | None = None  # a pull request's merge, when the issue is one


NATIVE_KINDS = ("depends_on", "blocks", "parent", "sub_issue")


@dataclass(frozen=True)
class NativeLink:
    """A link the forge records between two items (GitHub's issue dependencies and sub-issues,
    Forgejo's and Gitea's dependencies), as seen from the item holding it: it ``depends_on`` (is
    blocked by) or ``blocks`` the other item, or the other item is its ``parent`` or a ``sub_issue``."""

    kind: str  # one of NATIVE_KINDS
    repo: str  # owner/name of the other item
    number: int

    @property
    def ref(self) -> str:
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class Waiver:
    item_id: str
    by: str
    reason: str
    at: datetime | None = field(default=None, compare=False)  # when it was written (the reply's time)


@dataclass
class ItemResult:
    """The verdict on one DoD item: its state, a one-line reason and, when failed, what to do."""

    id: str
    title: str
    category: str
    state: State
    reason: str
    action: str = ""
    required: bool = True
    number: int | None = None
    waiver: Waiver | None = None
    waiting_for: str = ""  # when pending: "ci" (checks, statuses) or "people" (reviews)


@dataclass(frozen=True)
class Truncation:
    """The forge listed fewer files than the pull request changes: the verdict was judged on the
    files listed, and these items depend on which files change (their finding may be wrong)."""

    listed: int
    changed: int
    items: tuple[tuple[str, tuple[str, ...]], ...]  # (item id, why: "paths" | "teams" | "files" | "reviews")
    teams_from_files: tuple[str, ...] = ()  # team keys seen in the listed files (paths, CODEOWNERS)
    teams_from_labels: tuple[str, ...] = ()  # team keys the PR's team labels add

    def by_reason(self) -> dict[str, list[str]]:
        """Item ids per reason, reasons in order of first appearance."""
        found: dict[str, list[str]] = {}
        for item, reasons in self.items:
            for reason in reasons:
                found.setdefault(reason, []).append(item)
        return found

    def as_json(self) -> dict:
        return {"listed": self.listed, "changed": self.changed, "items": [i for i, _ in self.items],
                "teams": {"files": list(self.teams_from_files), "labels": list(self.teams_from_labels)}}


@dataclass
class Verdict:
    head_sha: str
    items: list[ItemResult] = field(default_factory=list)
    config_error: str | None = None  # set when the config could not be loaded: the check fails with it
    notices: list[str] = field(default_factory=list)  # about the config in force: refused overrides, a broken org file
    truncation: Truncation | None = None  # set when the forge did not list every changed file

    @property
    def state(self) -> State:
        """success when every required applicable item passed (or is waived), failed when one failed,
        pending while required items wait for evidence."""
        if self.config_error:
            return State.FAILED
        required = [i for i in self.items if i.required]
        if any(i.state is State.FAILED for i in required):
            return State.FAILED
        if any(i.state is State.PENDING for i in required):
            return State.PENDING
        return State.PASSED

    @property
    def waits_for_ci(self) -> bool:
        """Pending only because required items wait for CI (checks, statuses) to report."""
        return self.state is State.PENDING and any(
            i.required and i.state is State.PENDING and "ci" in i.waiting_for for i in self.items
        )

    def count(self, *states: State) -> int:
        return sum(1 for i in self.items if i.state in states)

    def missing(self) -> list[ItemResult]:
        return [i for i in self.items if i.required and i.state in (State.FAILED, State.PENDING)]

    def as_json(self) -> dict:
        return {
            "head_sha": self.head_sha,
            "state": self.state.value,
            "config_error": self.config_error,
            "items": [
                {
                    "id": i.id,
                    "state": i.state.value,
                    "reason": str(i.reason),  # English: machines read the verdict, whatever the language
                    "required": i.required,
                    **({"waived_by": i.waiver.by, "waiver_reason": i.waiver.reason} if i.waiver else {}),
                }
                for i in self.items
            ],
            **({"notices": [str(n) for n in self.notices]} if self.notices else {}),
            **({"files_truncated": self.truncation.as_json()} if self.truncation else {}),
        }


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


@dataclass(frozen=True)
class Annotation:
    """A remark pinned to one line of one file (GitHub shows it in the diff)."""

    path: str
    line: int
    level: str  # failure | warning | notice
    message: str
    title: str = ""


@dataclass(frozen=True)
class CheckReport:
    """A check other than the DoD verdict (the config check of a PR that changes a config file, the
    DoD of a merge queue's group): a check run on GitHub, a commit status (and a sticky comment when
    ``sticky_marker`` is set) on Forgejo."""

    name: str  # the check run's name
    context: str  # the commit status's context
    conclusion: str  # success | failure | neutral
    title: str  # one line
    summary: str  # markdown
    annotations: tuple[Annotation, ...] = ()
    sticky_marker: str | None = None
    target_url: str | None = None


# ----- references between items, and label writes on them ---------------------------------------

@dataclass(frozen=True, order=True)
class ItemRef:
    """One pull request or issue of one repository."""

    forge: str
    repo: str  # owner/name
    number: int

    def short(self, home_repo: str) -> str:
        """``#12`` in ``home_repo``, ``org/repo#12`` elsewhere."""
        return f"#{self.number}" if self.repo == home_repo else f"{self.repo}#{self.number}"


@dataclass(frozen=True)
class LabelStyle:
    """How a label the repository does not have yet is created: its colour and description."""

    color: str  # six hex digits, with or without "#"
    description: str = ""

    @property
    def hex(self) -> str:
        """The colour as GitHub and Forgejo store it: six lower-case hex digits, no "#"."""
        return self.color.lstrip("#").lower()


@dataclass(frozen=True)
class LabelChange:
    """Labels to add to and remove from one item (the ``blocked`` label a dependency graph calls for)."""

    ref: ItemRef
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()


# Label names are compared as forges compare them: GitHub and Forgejo keep one label per name whatever
# its case, so a repository's existing ``Ready`` is the taxonomy's ``ready``.

def has_label(labels: Iterable[str], name: str) -> bool:
    key = name.casefold()
    return any(label.casefold() == key for label in labels)


def missing_labels(wanted: Iterable[str], labels: Iterable[str]) -> set[str]:
    """The wanted names the item does not carry yet."""
    have = {label.casefold() for label in labels}
    return {name for name in wanted if name.casefold() not in have}


def carried_labels(names: Iterable[str], labels: Iterable[str]) -> set[str]:
    """The item's own spelling of each of ``names`` it carries (what a removal must name)."""
    keys = {name.casefold() for name in names}
    return {label for label in labels if label.casefold() in keys}


# ----- events ----------------------------------------------------------------------------------------

REPOSITORY_EVENTS = frozenset({"push"})  # events about a repository, not one of its items


@dataclass(frozen=True)
class Event:
    """What a webhook (or the bot's own scheduled recheck) says happened, in the bot's vocabulary
    (GitHub's names). Each forge adapter maps its deliveries onto it; the use cases only see these,
    so no rule or command knows which forge spoke."""

    forge: str  # the adapter's name
    delivery_id: str
    name: str  # pull_request | pull_request_review | check | issues | issue_comment | ping | installation
    action: str  # the GitHub vocabulary: opened, synchronize, labeled, submitted, completed, created, ...
    repo: str | None = None  # owner/name
    number: int | None = None  # pull request or issue number, when the event names one
    is_pull_request: bool = False
    head_sha: str | None = None  # for check/status events: the commit they are about
    pr_numbers: tuple[int, ...] = ()  # for check events: the PRs the forge says the commit belongs to
    sender: str | None = None
    sender_is_bot: bool = False
    from_this_bot: bool = False  # caused by the bot's own write (anti-loop)
    installation_id: int | None = None
    instance: str | None = None  # which forge instance (Forgejo base URL); None for the default
    comment: Comment | None = None
    review_state: str | None = None  # approved | changes_requested | commented, for review events
    labels: tuple[str, ...] | None = None  # label names carried by the payload, when it has them
    extra: dict = field(default_factory=dict, compare=False)  # per event; "linked": [repo, number] of the
    # other item of a dependency or sub-issue link the forge recorded (the event concerns both)

    @property
    def where(self) -> str:
        """Which forge instance the event comes from (caches and coalescing are kept per instance)."""
        return self.instance or self.forge

    @property
    def entity(self) -> tuple[str, str, int] | None:
        """The key that coalescing works on: one PR or issue of one repository, or (number 0) the
        repository itself for events about it (a push)."""
        if self.repo and self.number is not None:
            return (self.where, self.repo, self.number)
        if self.repo and self.name in REPOSITORY_EVENTS:
            return (self.where, self.repo, 0)
        return None


class CodeOwners(Protocol):
    """A repository's CODEOWNERS, read in its forge's syntax (the adapter parses it)."""

    def of(self, path: str) -> list[tuple[str, str]]:
        """The owners of ``path``: (kind, handle) pairs such as ("TEAM", "@org/backend")."""
