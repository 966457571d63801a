"""The bot's own event vocabulary: what each forge's webhook is mapped onto.

Each forge adapter's ``parse_webhook`` turns (headers, raw body) into one ``Event``; handlers
only ever see these, so no rule or command knows which forge spoke.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Comment


class PayloadError(ValueError):
    """The payload cannot be understood (malformed JSON, a field the bot needs is missing)."""


@dataclass(frozen=True)
class Event:
    forge: str  # github | forgejo
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
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def where(self) -> str:
        """Which forge instance the event comes from (caches and coalescing are kept per instance)."""
        return self.instance or self.forge

    @property
    def entity(self) -> tuple[str, str, int] | None:
        """The key that coalescing works on: one PR or issue of one repository."""
        if self.repo and self.number is not None:
            return (self.where, self.repo, self.number)
        return None
