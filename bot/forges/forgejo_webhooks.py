"""Forgejo/Gitea webhooks: the signature check and the mapping of a delivery onto the bot's ``Event``.

Dispatch is on ``X-Forgejo-Event-Type`` (or ``X-Gitea-Event-Type``): it names the precise hook
event, where ``X-Forgejo-Event`` groups several and reuses ``pull_request_comment`` for a *review*
comment while the event type ``pull_request_comment`` is an ordinary comment on a pull request.
Deliveries from Gitea versions older than the event-type header (e.g. the 2018 go-scm samples) carry
only ``X-Gitea-Event``; its values are translated below. ``X-GitHub-Event``, which Forgejo also sends,
is never read.

Commit status hooks exist in Gitea (event type ``status``) but not in Forgejo (v12 has no such
event); Forgejo users get re-evaluations from the statuses read in each snapshot instead.
"""

from __future__ import annotations

import hashlib
import hmac

from datetime import datetime
from typing import Any, Callable, Mapping

from ..model import Comment, Event
from .forgejo import issue_snapshot
from .base import PayloadError, UnknownEvent, Webhooks
from .payload import field as _get, json_object, optional as _optional

FORGE = "forgejo"


# The values of X-Forgejo-Event / X-Gitea-Event that do not equal their event type.
_EVENT_TYPE_OF_EVENT = {
    "pull_request_approved": "pull_request_review_approved",
    "pull_request_rejected": "pull_request_review_rejected",
    "pull_request_comment": "pull_request_review_comment",
}

# Forgejo actions that GitHub names differently; the others (opened, edited, closed, reopened,
# assigned, review_requested, created, deleted, ...) are the same words.
_ACTIONS = {"synchronized": "synchronize", "label_updated": "labeled", "label_cleared": "unlabeled"}

_REVIEW_STATES = {
    "pull_request_review_approved": "approved",
    "pull_request_review_rejected": "changes_requested",
    "pull_request_review_comment": "commented",
}


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``X-Forgejo-Signature`` / ``X-Gitea-Signature`` (bare hex) is the HMAC-SHA256 of ``body``."""
    if not secret or not header:
        return False
    expected = hmac.digest(secret, body, hashlib.sha256).hex()
    try:
        return hmac.compare_digest(expected, header.strip().lower())
    except TypeError:  # non-ASCII header value
        return False


def _event_type(headers: Mapping[str, str]) -> str | None:
    """The hook event type of a delivery, from the newest header that is present."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("x-forgejo-event-type", "x-gitea-event-type"):
        if lowered.get(name):
            return lowered[name]
    event = lowered.get("x-forgejo-event") or lowered.get("x-gitea-event")
    return _EVENT_TYPE_OF_EVENT.get(event, event) if event else None


def parse(headers: Mapping[str, str], body: bytes, *, instance: str, bot_login: str | None = None) -> Event:
    """One delivery as an ``Event``. Raises ``UnknownEvent`` or ``PayloadError``."""
    kind = _event_type(headers)
    if not kind:
        raise PayloadError("missing X-Forgejo-Event-Type / X-Gitea-Event-Type header")
    lowered = {k.lower(): v for k, v in headers.items()}
    delivery_id = lowered.get("x-forgejo-delivery") or lowered.get("x-gitea-delivery")
    if not delivery_id:
        raise PayloadError("missing X-Forgejo-Delivery / X-Gitea-Delivery header")
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        raise UnknownEvent(f"Forgejo event type {kind!r} is not handled")
    payload = json_object(body, kind)

    try:
        fields = mapper(kind, payload)
        repo = _get(payload, "repository.full_name")
        login = _login(payload.get("sender"))
    except PayloadError as e:
        raise PayloadError(f"{kind}: {e}") from None
    except (AttributeError, TypeError, ValueError, KeyError) as e:  # a field of an unexpected type
        raise PayloadError(f"{kind}: unexpected payload shape ({type(e).__name__}: {str(e)[:120]})") from None
    return Event(
        forge=FORGE,
        delivery_id=delivery_id,
        repo=repo,
        sender=login,
        from_this_bot=bot_login is not None and login == bot_login,
        instance=instance,
        extra={"event_type": kind, **fields.pop("extra", {})},
        **fields,
    )


def _login(user: Any) -> str | None:
    """Forgejo users carry ``login``; some payloads only ``username``."""
    if not isinstance(user, dict):
        return None
    return user.get("login") or user.get("username")


def _labels(obj: dict) -> tuple[str, ...] | None:
    labels = obj.get("labels")
    return None if labels is None else tuple(_get(label, "name") for label in labels)


def _number(payload: dict, item: dict) -> int:
    number = payload.get("number") or item.get("number")
    if number is None:
        raise PayloadError("missing field 'number'")
    try:
        return int(number)
    except (TypeError, ValueError):
        raise PayloadError(f"field 'number' is not an integer: {number!r}") from None


def _action(payload: dict) -> str:
    action = _get(payload, "action")
    return _ACTIONS.get(action, action)


def _pull_request(kind: str, p: dict) -> dict:
    pr = _get(p, "pull_request")
    return dict(
        name="pull_request",
        action=_action(p),
        number=_number(p, pr),
        is_pull_request=True,
        head_sha=_get(pr, "head.sha"),
        labels=_labels(pr),
        extra={"base_ref": _optional(pr, "base.ref", str), "changes": sorted(_optional(p, "changes", dict) or {}),
               # closed: the pull request as the payload shows it (its merge, for the Nexus metrics' history)
               "snapshot": issue_snapshot(_get(p, "repository.full_name"), pr) if _action(p) == "closed" else None},
    )


def _review(kind: str, p: dict) -> dict:
    review_state = _REVIEW_STATES[kind]
    return dict(_pull_request(kind, p), name="pull_request_review", action="submitted", review_state=review_state)


def _issues(kind: str, p: dict) -> dict:
    issue = _get(p, "issue")
    return dict(
        name="issues",
        action=_action(p),
        number=_number(p, issue),
        is_pull_request=bool(p.get("is_pull") or issue.get("pull_request")),
        labels=_labels(issue),
    )


def _comment(kind: str, p: dict) -> dict:
    c = _get(p, "comment")
    comment = Comment(
        id=_get(c, "id"),
        author=_login(_get(c, "user")) or "",
        body=c.get("body") or "",
        created_at=_time(c.get("created_at")),
    )
    fields = dict(_issues(kind, p), name="issue_comment", comment=comment)
    fields["is_pull_request"] |= kind == "pull_request_comment"
    return fields


def _status(kind: str, p: dict) -> dict:
    """Gitea only: a commit status was set."""
    return dict(
        name="check",
        action="pending" if _get(p, "state") == "pending" else "completed",
        head_sha=_get(p, "sha"),
        extra={"check_name": _get(p, "context"), "succeeded": _get(p, "state") == "success",
               "branch": next((b.get("name") for b in p.get("branches") or () if isinstance(b, dict)), None)},
    )


def _push(kind: str, p: dict) -> dict:
    """A push: its branch, and the paths it changed (None when the payload lists fewer commits
    than were pushed, ``total_commits``)."""
    commits = p.get("commits") or []
    total = p.get("total_commits")
    paths = None
    if commits and (not isinstance(total, int) or total <= len(commits)):
        paths = sorted({path for c in commits for k in ("added", "removed", "modified") for path in c.get(k) or ()})
    return dict(name="push", action="pushed", head_sha=_optional(p, "after", str),
                extra={"ref": _get(p, "ref"), "default_branch": _optional(p, "repository.default_branch", str),
                       "paths": paths})


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


_MAPPERS: dict[str, Callable[[str, dict], dict]] = {
    **dict.fromkeys(
        ("pull_request", "pull_request_sync", "pull_request_label", "pull_request_assign",
         "pull_request_milestone", "pull_request_review_request"),
        _pull_request,
    ),
    **dict.fromkeys(_REVIEW_STATES, _review),
    **dict.fromkeys(("issues", "issue_label", "issue_assign", "issue_milestone"), _issues),
    **dict.fromkeys(("issue_comment", "pull_request_comment"), _comment),
    "status": _status,
    "push": _push,
}

# Forgejo also sends X-GitHub-Event and X-Hub-Signature-256: never trust those here.
WEBHOOKS = Webhooks(
    forge=FORGE,
    event_headers=("X-Forgejo-Event-Type", "X-Gitea-Event-Type", "X-Forgejo-Event", "X-Gitea-Event"),
    delivery_headers=("X-Forgejo-Delivery", "X-Gitea-Delivery"),
    signature_headers=("X-Forgejo-Signature", "X-Gitea-Signature"),
    verify=verify,
    events=frozenset([*_MAPPERS, *_EVENT_TYPE_OF_EVENT]),
    foreign_headers=("X-GitHub-Hook-ID",),  # GitHub's alone: Forgejo sends its other X-GitHub-* headers too
)
