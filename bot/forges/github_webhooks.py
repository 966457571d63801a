"""GitHub webhooks: the signature check and the mapping of a delivery onto the bot's ``Event``.

Payloads are read leniently with the stdlib (only the fields the bot uses): githubkit's strict
webhook models reject many real deliveries whose schema predates newer required fields.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from datetime import datetime
from typing import Callable, Mapping

from ..model import Comment, Event
from .base import PayloadError, UnknownEvent, Webhooks
from . import github_payloads as payloads
from .payload import field as _get, json_object, optional as _optional

FORGE = "github"


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature-256`` ("sha256=<hex>") is the HMAC of ``body`` under ``secret``."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.digest(secret, body, hashlib.sha256).hex()
    try:
        return hmac.compare_digest(expected, header[7:].lower())
    except TypeError:  # non-ASCII header value
        return False


def parse(
    headers: Mapping[str, str], body: bytes, *, app_id: int | None = None, bot_login: str | None = None
) -> Event:
    """One delivery as an ``Event``. Raises ``UnknownEvent`` or ``PayloadError``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    name = lowered.get("x-github-event")
    if not name:
        raise PayloadError("missing X-GitHub-Event header")
    delivery_id = lowered.get("x-github-delivery")
    if not delivery_id:
        raise PayloadError("missing X-GitHub-Delivery header")
    mapper = _MAPPERS.get(name)
    if mapper is None:
        raise UnknownEvent(f"GitHub event {name!r} is not handled")
    payload = json_object(body, name)
    try:
        return _event(name, delivery_id, payload, mapper, app_id, bot_login)
    except (AttributeError, TypeError, ValueError, KeyError) as e:  # a field of an unexpected type
        raise PayloadError(f"{name}: unexpected payload shape ({type(e).__name__}: {str(e)[:120]})") from None


def _event(name, delivery_id, payload, mapper, app_id, bot_login) -> Event:
    fields = mapper(payload)
    sender = payload.get("sender") or {}
    login = sender.get("login")
    installation = payload.get("installation") or {}
    repo = (payload.get("repository") or {}).get("full_name")
    from_this_bot = (bot_login is not None and login == bot_login) or (
        app_id is not None
        and name in ("check_run", "check_suite")
        and fields["extra"].get("app_id") == app_id
        and fields["action"] in ("created", "completed")
    )
    return Event(
        forge=FORGE,
        delivery_id=delivery_id,
        repo=repo,
        sender=login,
        sender_is_bot=sender.get("type") == "Bot",
        from_this_bot=from_this_bot,
        installation_id=installation.get("id"),
        **fields,
    )


def _labels(obj: dict) -> tuple[str, ...]:
    return tuple(_get(label, "name") for label in obj.get("labels") or ())


def _pull_request(p: dict) -> dict:
    pr = _get(p, "pull_request")
    return dict(
        name="pull_request",
        action=_get(p, "action"),
        number=_get(pr, "number"),
        is_pull_request=True,
        head_sha=_get(pr, "head.sha"),
        labels=_labels(pr),
        extra={
            "base_ref": _optional(pr, "base.ref", str),
            "label": _optional(p, "label.name", str),  # labeled / unlabeled: the one label
            "changes": sorted(_optional(p, "changes", dict) or {}),  # edited: which fields
            # closed: the pull request as the payload shows it (its merge, for the Nexus metrics' history)
            "snapshot": payloads.issue(FORGE, _get(p, "repository.full_name"), pr) if p.get("action") == "closed" else None,
        },
    )


def _pull_request_review(p: dict) -> dict:
    return dict(_pull_request(p), name="pull_request_review", review_state=_get(p, "review.state").lower())


def _check(kind: str) -> Callable[[dict], dict]:
    def mapper(p: dict) -> dict:
        check = _get(p, kind)
        return dict(
            name="check",
            action=_get(p, "action"),
            head_sha=_get(check, "head_sha"),
            pr_numbers=tuple(_get(pr, "number") for pr in check.get("pull_requests") or ()),
            extra={"check_name": check.get("name"), "app_id": (check.get("app") or {}).get("id"),
                   "succeeded": check.get("conclusion") == "success",
                   "branch": (check.get("check_suite") or {}).get("head_branch") or check.get("head_branch")},
        )

    return mapper


def _status(p: dict) -> dict:
    return dict(
        name="check",
        action="pending" if _get(p, "state") == "pending" else "completed",
        head_sha=_get(p, "sha"),
        extra={"check_name": _get(p, "context"), "app_id": None, "succeeded": _get(p, "state") == "success",
               "branch": next((b.get("name") for b in p.get("branches") or () if isinstance(b, dict)), None)},
    )


def _deployment_status(p: dict) -> dict:
    """A deployment's status: integration evidence when it succeeds in the integration environment."""
    status, deployment = _get(p, "deployment_status"), _get(p, "deployment")
    return dict(name="deployment_status", action=_get(status, "state"), head_sha=_get(deployment, "sha"),
                extra={"environment": status.get("environment") or deployment.get("environment"),
                       "at": payloads.time_of(_optional(status, "created_at", str)),
                       "succeeded": status.get("state") == "success"})


def _issues(p: dict) -> dict:
    issue = _get(p, "issue")
    return dict(
        name="issues",
        action=_get(p, "action"),
        number=_get(issue, "number"),
        is_pull_request=bool(issue.get("pull_request")),
        labels=_labels(issue),
        extra={},
    )


def _issue_comment(p: dict) -> dict:
    c = _get(p, "comment")
    created = c.get("created_at")
    comment = Comment(
        id=_get(c, "id"),
        author=_get(c, "user.login"),
        body=c.get("body") or "",
        created_at=datetime.fromisoformat(created) if created else None,
        author_is_bot=(c.get("user") or {}).get("type") == "Bot",
    )
    return dict(_issues(p), name="issue_comment", comment=comment)


# The item an issue_dependencies or sub_issues delivery is about (in its ``repository``), and the
# other one, by action: (subject key, other key, the other's repository key)
_LINK_SIDES = {
    "blocked_by": ("blocked_issue", "blocking_issue", "blocking_issue_repo"),
    "blocking": ("blocking_issue", "blocked_issue", "blocked_issue_repo"),
    "sub_issue": ("parent_issue", "sub_issue", "sub_issue_repo"),
    "parent_issue": ("sub_issue", "parent_issue", "parent_issue_repo"),
}


def _native_link(name: str) -> Callable[[dict], dict]:
    """A dependency (``issue_dependencies``) or a sub-issue (``sub_issues``) added or removed: an event
    about the issue of the delivery's repository, naming the other issue in ``extra["linked"]``."""

    def mapper(p: dict) -> dict:
        action = _get(p, "action")
        side = action.rsplit("_", 1)[0]
        if side not in _LINK_SIDES:  # an action GitHub may add one day: acknowledged, not routed
            return dict(name=name, action=action, extra={})
        subject_key, other_key, other_repo_key = _LINK_SIDES[side]
        subject, other = _get(p, subject_key), _get(p, other_key)
        other_repo = (p.get(other_repo_key) or p.get("repository") or {}).get("full_name")
        return dict(name=name, action=action, number=_get(subject, "number"), labels=_labels(subject),
                    extra={"linked": [other_repo, _get(other, "number")]})

    return mapper


# A merge queue's branch: gh-readonly-queue/<base>/pr-<number>-<base sha>
QUEUE_BRANCH = re.compile(r"^(?:refs/heads/)?gh-readonly-queue/(?P<base>.+)/pr-(?P<number>\d+)-(?P<sha>[0-9a-f]{7,64})$")


def _merge_group(p: dict) -> dict:
    """A merge queue asks for checks on a group's commit; the branch names the pull request whose
    entry it is (those ahead of it in the queue were checked at their own entries)."""
    group = _get(p, "merge_group")
    m = QUEUE_BRANCH.match(_get(group, "head_ref"))
    if m is None:
        raise PayloadError(f"merge_group.head_ref is not a merge queue branch: {str(group['head_ref'])[:80]}")
    return dict(name="merge_group", action=_get(p, "action"), number=int(m.group("number")), is_pull_request=True,
                head_sha=_get(group, "head_sha"), extra={"base_ref": m.group("base")})


PUSH_COMMITS_LIMIT = 2048  # a push payload lists at most this many commits


def _push(p: dict) -> dict:
    """A push: its branch, and the paths it changed (None when the payload cannot tell them all)."""
    commits = p.get("commits") or []
    paths = None
    if commits and len(commits) < PUSH_COMMITS_LIMIT:
        paths = sorted({path for c in commits for k in ("added", "removed", "modified") for path in c.get(k) or ()})
    return dict(name="push", action="pushed", head_sha=_optional(p, "after", str),
                extra={"ref": _get(p, "ref"), "default_branch": _optional(p, "repository.default_branch", str),
                       "paths": paths})


def _ping(p: dict) -> dict:
    return dict(name="ping", action="", extra={"app_id": (p.get("hook") or {}).get("app_id")})


def _installation(name: str, repos_key: str) -> Callable[[dict], dict]:
    def mapper(p: dict) -> dict:
        _get(p, "installation.id")
        repos = tuple(r.get("full_name") for r in p.get(repos_key) or ())
        return dict(name=name, action=_get(p, "action"), extra={"repositories": repos})

    return mapper


_MAPPERS: dict[str, Callable[[dict], dict]] = {
    "pull_request": _pull_request,
    "pull_request_review": _pull_request_review,
    "check_run": _check("check_run"),
    "check_suite": _check("check_suite"),
    "status": _status,
    "issues": _issues,
    "issue_comment": _issue_comment,
    "issue_dependencies": _native_link("issue_dependencies"),
    "sub_issues": _native_link("sub_issues"),
    "push": _push,
    "merge_group": _merge_group,
    "deployment_status": _deployment_status,
    "ping": _ping,
    "installation": _installation("installation", "repositories"),
    "installation_repositories": _installation("installation_repositories", "repositories_added"),
}

WEBHOOKS = Webhooks(
    forge=FORGE,
    event_headers=("X-GitHub-Event",),
    delivery_headers=("X-GitHub-Delivery",),
    signature_headers=("X-Hub-Signature-256",),
    verify=verify,
    events=frozenset(_MAPPERS),
    # Forgejo and Gitea also send X-GitHub-Event and X-Hub-Signature-256, never these:
    foreign_headers=("X-Forgejo-Event", "X-Gitea-Event", "X-Gogs-Event"),
)
