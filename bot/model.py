"""Forge-neutral snapshots of pull requests and issues, and the verdicts the rules give on them.

Adapters in ``bot/forges/`` build these; rules in ``bot/checks/`` read them and never do I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


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
    files_truncated: bool = False  # the forge stopped listing (GitHub: 3000 files)
    reviews: tuple[Review, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    comments: tuple[Comment, ...] = ()
    draft: bool = False
    state: str = "open"  # open | closed
    merged: bool = False
    url: str = ""
    codeowners: str | None = None  # the CODEOWNERS text of the base branch, when the repo has one

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]


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


@dataclass(frozen=True)
class Waiver:
    item_id: str
    by: str
    reason: str


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


@dataclass
class Verdict:
    head_sha: str
    items: list[ItemResult] = field(default_factory=list)
    config_error: str | None = None  # set when the config could not be loaded: the check fails with it

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
                    "reason": i.reason,
                    "required": i.required,
                    **({"waived_by": i.waiver.by, "waiver_reason": i.waiver.reason} if i.waiver else {}),
                }
                for i in self.items
            ],
        }
