"""GitHub's JSON mapped onto the bot's forge-neutral snapshots."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..model import CheckResult, Comment, NativeLink, Review, ReviewState


def login_of(user: dict | None) -> str:
    return (user or {}).get("login") or "ghost"  # GitHub's name for a deleted account


def time_of(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def review(r: dict) -> Review:
    return Review(
        author=login_of(r.get("user")),
        state=ReviewState(r["state"].upper()),
        commit_sha=r.get("commit_id"),
        submitted_at=time_of(r.get("submitted_at")),
        id=r.get("id"),
    )


def shows(check: CheckResult, body: dict[str, Any]) -> bool:
    """Whether an existing check run already shows what ``body`` would write."""
    output = body["output"]
    same_text = check.text == "\n\n".join(filter(None, (output["title"], output["summary"])))
    return same_text and check.status == body["status"] and check.conclusion == body.get("conclusion")


def check_run(c: dict) -> CheckResult:
    output = c.get("output") or {}
    return CheckResult(
        name=c["name"],
        status=c["status"],
        conclusion=c.get("conclusion"),
        text="\n\n".join(filter(None, (output.get("title"), output.get("summary"), output.get("text")))),
        source="check_run",
        id=c["id"],
        app_slug=(c.get("app") or {}).get("slug"),
        url=c.get("html_url"),
    )


def status(s: dict) -> CheckResult:
    state = s["state"]
    return CheckResult(
        name=s["context"],
        status="in_progress" if state == "pending" else "completed",
        conclusion=None if state == "pending" else "success" if state == "success" else "failure",
        text=s.get("description") or "",
        source="status",
        id=s.get("id"),
        url=s.get("target_url"),
    )


def comment(c: dict) -> Comment:
    user = c.get("user") or {}
    return Comment(
        id=c["id"],
        author=login_of(user),
        body=c.get("body") or "",
        created_at=time_of(c.get("created_at")),
        author_is_bot=user.get("type") == "Bot",
    )


_ISSUE_API_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/?$")
_REPO_API_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/?$")


def issue_ref(url: str | None) -> tuple[str, int] | None:
    """(owner/name, number) of an issue's API URL (``parent_issue_url``)."""
    m = _ISSUE_API_URL.search(url or "")
    return (m.group("repo"), int(m.group("number"))) if m else None


def native_link(kind: str, item: dict) -> NativeLink | None:
    """An issue of a dependencies or sub-issues list, as a link of ``kind`` to it."""
    repo = (item.get("repository") or {}).get("full_name")
    if not repo:
        m = _REPO_API_URL.search(item.get("repository_url") or "")
        repo = m.group("repo") if m else None
    number = item.get("number")
    return NativeLink(kind, repo, number) if repo and isinstance(number, int) else None
