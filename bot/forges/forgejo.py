"""Every Forgejo/Gitea API call (REST ``/api/v1``, token auth): snapshots, and the writes the bot is told to make.

Facts this adapter relies on, checked against Forgejo's API description (v12) and source:

- Lists are capped at ``[api] MAX_RESPONSE_ITEMS`` (default 50; readable at ``GET /settings/api``)
  whatever ``limit`` asks, and ``Link`` is sent only when there is more than one page, so pages are
  requested until one comes back short (or ``Link`` has no ``next``).
- ``GET /pulls/{n}/files`` lists every file, page after page (no cap like GitHub's 3000); the pull
  request's ``changed_files`` is kept all the same, so a shorter list would be reported as cut.
  Issue comments and issue labels are not paginated.
- There are no check runs: CI reports commit statuses (pending, success, error, failure, warning);
  the bot's verdict is one commit status plus one sticky comment carrying the full summary. The
  status description is a TEXT column (no limit) that Forgejo trims; it is kept to 140 characters
  so that it reads the same as on GitHub.
- ``GET /commits/{sha}/pull`` returns the pull request *merged by* a commit, not the open ones whose
  head it is: ``pulls_for_commit`` lists open pull requests instead.
- Labels are added and removed by id; org labels apply to the org's repositories. A label neither
  has is created first, with its colour and description.
- A review's ``stale`` flag is not kept: the rules compare ``commit_sha`` with the head instead.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from cachetools import LRUCache, TTLCache

from .. import markers
from ..model import (ChangedFile, CheckReport, CheckResult, CodeOwners, Comment, Issue, LabelStyle, NativeLink,
                     PullRequest, Report, Review, ReviewState, State)
from .base import ForgeError
from .forgejo_codeowners import ForgejoCodeOwners
from .forgejo_http import ForgejoHttp
from .traffic import NoTraffic, Traffic

log = logging.getLogger("nexus.forgejo")

NAME = "forgejo"
STICKY_MARKER = markers.STICKY_DOD
STATUS_DESCRIPTION_MAX = 140
DEFAULT_LABEL_COLOR = "ededed"

_REVIEW_STATES = {
    "APPROVED": ReviewState.APPROVED,
    "REQUEST_CHANGES": ReviewState.CHANGES_REQUESTED,
    "COMMENT": ReviewState.COMMENTED,
    "PENDING": ReviewState.PENDING,
}  # REQUEST_REVIEW entries are review requests, not reviews
_STATUS_CHECK = {
    "pending": ("in_progress", None),
    "success": ("completed", "success"),
    "failure": ("completed", "failure"),
    "error": ("completed", "failure"),
    "warning": ("completed", "neutral"),
}
_VERDICT_STATUS = {State.PASSED: "success", State.FAILED: "failure", State.PENDING: "pending"}
_CHECK_STATUS = {"success": "success", "failure": "failure", "neutral": "warning"}
_FILE_STATUS = {"added": "added", "copied": "added", "deleted": "removed", "renamed": "renamed"}  # else "changed"
_REFERENCE_TYPES = {"issue_ref", "comment_ref", "pull_ref"}



@lru_cache(maxsize=64)
def _codeowners(text: str) -> ForgejoCodeOwners:
    return ForgejoCodeOwners(text)


class ForgejoForge(ForgejoHttp):
    """One Forgejo or Gitea instance, as the bot user whose token this is."""

    name = NAME
    config_paths = (".forgejo/nexus.yml", ".gitea/nexus.yml", ".github/nexus.yml")
    codeowners_paths = ("CODEOWNERS", "docs/CODEOWNERS", ".gitea/CODEOWNERS", ".forgejo/CODEOWNERS")  # Forgejo's order
    announces_ci_completion = False  # Forgejo (v12) sends no webhook when a commit status changes
    needs_sticky_comment = True  # a commit status holds one line: the report is a comment

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        page_limit: int | None = None,
        timeout: float = 10,
        bot_login: str | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        traffic: Traffic = NoTraffic(),
        account: str = "default",
    ):
        super().__init__(base_url, token, page_limit=page_limit, timeout=timeout, attempts=attempts, backoff=backoff,
                         traffic=traffic, account=account)
        self.bot_login = bot_login
        self._team_ids: dict[tuple[str, str], int] = {}
        self._labels: TTLCache = TTLCache(maxsize=256, ttl=60)  # repo -> {name: id}, org labels included
        self._raw: LRUCache = LRUCache(maxsize=1024)  # (repo, path, ref) -> (ETag, text) of files read

    async def files_present(self, repo: str, ref: str, paths: tuple[str, ...]) -> set[str] | None:
        """Forgejo charges nothing for a 404: each file is asked for."""
        return None

    def read_codeowners(self, text: str) -> CodeOwners | None:
        """Forgejo's syntax: anchored regular expressions, every matching line applies."""
        return _codeowners(text) if text.strip() else None

    # -- snapshots

    async def pull_request(self, repo: str, number: int) -> PullRequest:
        pr = await self._json("GET", f"/repos/{repo}/pulls/{number}")
        head, base = pr["head"], pr.get("base") or {}
        me, files, reviews, statuses, comments = await asyncio.gather(
            self.login(),
            self._pages(f"/repos/{repo}/pulls/{number}/files"),
            self._pages(f"/repos/{repo}/pulls/{number}/reviews"),
            self._pages(f"/repos/{repo}/commits/{head['sha']}/status", key="statuses"),
            self._json("GET", f"/repos/{repo}/issues/{number}/comments"),
        )
        return PullRequest(
            forge=self.name,
            repo=repo,
            number=number,
            title=pr.get("title") or "",
            body=pr.get("body") or "",
            author=_login(pr.get("user")),
            base_ref=base.get("ref") or "",
            head_ref=head.get("ref") or "",
            head_sha=head["sha"],
            labels=_label_names(pr),
            files=tuple(_changed_file(f) for f in files),
            changed_files=pr.get("changed_files"),
            reviews=tuple(r for r in map(_review, reviews) if r),
            checks=tuple(map(_status_check, statuses)),
            comments=tuple(_comment(c, me) for c in comments or ()),
            draft=bool(pr.get("draft")),
            state=pr.get("state") or "open",
            merged=bool(pr.get("merged")),
            url=pr.get("html_url") or "",
            created_at=_time(pr.get("created_at")),
        )

    async def issue(self, repo: str, number: int) -> Issue:
        issue, comments, me, depends_on, blocks = await asyncio.gather(
            self._json("GET", f"/repos/{repo}/issues/{number}"),
            self._json("GET", f"/repos/{repo}/issues/{number}/comments"),
            self.login(),
            self._dependencies(f"/repos/{repo}/issues/{number}/dependencies"),
            self._dependencies(f"/repos/{repo}/issues/{number}/blocks"),
        )
        links = [NativeLink("depends_on", *ref) for ref in depends_on] + [NativeLink("blocks", *ref) for ref in blocks]
        return issue_snapshot(repo, issue, tuple(_comment(c, me) for c in comments or ()), tuple(links), number)

    async def _dependencies(self, path: str) -> list[tuple[str, int]]:
        """The issues of a dependencies list (``dependencies``: those this one depends on; ``blocks``:
        those it blocks). Empty where the repository keeps no dependencies (404) or hides them."""
        try:
            items = await self._pages(path, missing_ok=True)
        except ForgeError as exc:
            if exc.refused:
                return []
            raise
        refs = []
        for item in items or ():
            repo = (item.get("repository") or {}).get("full_name")
            if repo and isinstance(item.get("number"), int):
                refs.append((repo, item["number"]))
        return refs

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        """The file on ``ref``; an empty ``ref`` means the default branch. A conditional read: Forgejo
        answers 304 with no body when the blob's ETag is the one the bot already has."""
        key = (repo, path, ref)
        cached = self._raw.get(key)
        params = {"ref": ref} if ref else None
        r = await self._call("GET", f"/repos/{repo}/raw/{quote(path)}", params=params, missing_ok=True,
                             headers={"If-None-Match": cached[0]} if cached else None)
        if r is None:
            self._raw.pop(key, None)
            return None
        if r.status_code == 304 and cached:
            return cached[1]
        text = r.content.decode("utf-8", errors="replace")
        if r.headers.get("etag"):
            self._raw[key] = (r.headers["etag"], text)
        return text

    async def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        pulls = await self._pages(f"/repos/{repo}/pulls", {"state": "open"})
        return [p["number"] for p in pulls if (p.get("head") or {}).get("sha") == sha]

    async def timeline_references(self, repo: str, number: int, *, open_pulls_only: bool = False) -> list[tuple[str, int]]:
        """The issues and pull requests that mention this one, oldest first (timeline ``*_ref``
        events); with ``open_pulls_only``, only the open pull requests among them."""
        refs: list[tuple[str, int]] = []
        for event in await self._pages(f"/repos/{repo}/issues/{number}/timeline"):
            source = event.get("ref_issue")
            if source and open_pulls_only and not (source.get("pull_request") and source.get("state") == "open"):
                continue
            if event.get("type") in _REFERENCE_TYPES and source:
                ref = ((source.get("repository") or {}).get("full_name") or repo, source["number"])
                if ref not in refs:
                    refs.append(ref)
        return refs

    # -- writes

    async def publish_verdict(self, pr: PullRequest, report: Report) -> None:
        """The sticky comment with the full summary, then the commit status (skipped when it already says the same)."""
        comment = await self._sticky(pr.repo, pr.number, STICKY_MARKER, report.summary)
        state = _VERDICT_STATUS[report.verdict.state]
        description = _fit(report.title)
        current = (c for c in pr.checks if c.source == "status" and c.name == report.status_context)
        if any((c.status, c.conclusion) == _STATUS_CHECK[state] and c.text == description for c in current):
            return
        status = {"context": report.status_context, "state": state, "description": description}
        target_url = report.target_url or comment.get("html_url")
        if target_url:
            status["target_url"] = target_url
        await self._call("POST", f"/repos/{pr.repo}/statuses/{pr.head_sha}", body=status)

    async def publish_check(self, repo: str, sha: str, report: CheckReport, *, number: int | None = None,
                            existing: tuple[CheckResult, ...] | None = None) -> None:
        """A commit status by ``report.context`` (Forgejo has no annotations: the summary lists them,
        in the sticky comment when the report has one)."""
        comment = await self._sticky(repo, number, report.sticky_marker, report.summary) \
            if report.sticky_marker and number is not None else {}
        state = _CHECK_STATUS[report.conclusion]
        description = _fit(report.title)
        current = existing if existing is not None else tuple(
            map(_status_check, await self._pages(f"/repos/{repo}/commits/{sha}/status", key="statuses")))
        if any(c.name == report.context and (c.status, c.conclusion) == _STATUS_CHECK[state] and c.text == description
               for c in current if c.source == "status"):
            return
        status = {"context": report.context, "state": state, "description": description}
        target_url = report.target_url or comment.get("html_url")
        if target_url:
            status["target_url"] = target_url
        await self._call("POST", f"/repos/{repo}/statuses/{sha}", body=status)

    async def open_pulls(self, repo: str, limit: int) -> list[tuple[int, str]]:
        pulls = await self._json("GET", f"/repos/{repo}/pulls", params={"state": "open", "sort": "recentupdate",
                                                                           "limit": min(limit, 50)})
        return [(p["number"], (p.get("base") or {}).get("ref") or "") for p in (pulls or ())[:limit]]

    async def open_pulls_of_owner(self, owner: str, limit: int) -> list[tuple[str, int]]:
        found = await self._json("GET", "/repos/issues/search", params={"owner": owner, "type": "pulls",
                                                                         "state": "open", "limit": min(limit, 50)})
        found = sorted(found or (), key=lambda i: i.get("updated_at") or "", reverse=True)
        return [((i.get("repository") or {}).get("full_name") or "", i["number"]) for i in found[:limit]]

    async def items_updated(self, owner: str, since: datetime, until: datetime) -> list[Issue]:
        """Issues and pull requests of ``owner`` updated in [since, until), from the issue search
        (paged; no comments, no native links: a backfill's history needs neither)."""
        params = {"owner": owner, "state": "all", "since": _iso(since), "before": _iso(until)}
        found = {}
        for data in await self._pages("/repos/issues/search", params):
            repo = (data.get("repository") or {}).get("full_name")
            if repo and isinstance(data.get("number"), int):
                found[(repo, data["number"])] = issue_snapshot(repo, data)
        return list(found.values())

    async def deployments(self, repo: str, environment: str, since: datetime) -> list[tuple[str, datetime]]:
        """Forgejo and Gitea keep no deployments: integration evidence comes from commit statuses."""
        return []

    async def set_labels(
        self, repo: str, number: int, add: Iterable[str], remove: Iterable[str],
        styles: Mapping[str, LabelStyle] = {},
    ) -> None:
        """Labels are added by id: a label the repository (or its organisation) does not have yet is
        created first, with its colour and description (``styles``), in one write."""
        labels = await self._json("GET", f"/repos/{repo}/issues/{number}/labels")
        present = {label["name"]: label["id"] for label in labels or ()}
        missing = [name for name in dict.fromkeys(add) if name not in present]
        if missing:
            ids = [await self._label_id(repo, name, styles.get(name)) for name in missing]
            await self._call("POST", f"/repos/{repo}/issues/{number}/labels", body={"labels": ids})
        for name in dict.fromkeys(remove):
            if name in present:
                await self._call("DELETE", f"/repos/{repo}/issues/{number}/labels/{present[name]}")

    async def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> int:
        return (await self._sticky(repo, number, marker, body))["id"]

    async def upsert_issue(self, repo: str, title: str, body: str) -> int:
        me = await self.login()
        mine = await self._pages(f"/repos/{repo}/issues", {"state": "open", "type": "issues", "created_by": me})
        found = next((i for i in mine or () if i.get("title") == title), None)
        if found is None:
            return (await self._json("POST", f"/repos/{repo}/issues", body={"title": title, "body": body}))["number"]
        if found.get("body") != body:
            await self._call("PATCH", f"/repos/{repo}/issues/{found['number']}", body={"body": body})
        return found["number"]

    async def add_dependency(self, repo: str, number: int, on_repo: str, on_number: int) -> None:
        owner, name = on_repo.split("/", 1)
        await self._call("POST", f"/repos/{repo}/issues/{number}/dependencies",
                         body={"index": on_number, "owner": owner, "repo": name})

    async def post_comment(self, repo: str, number: int, body: str) -> int:
        return (await self._json("POST", f"/repos/{repo}/issues/{number}/comments", body={"body": body}))["id"]

    async def react(self, repo: str, comment_id: int, content: str = "eyes") -> None:
        await self._call("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", body={"content": content})

    async def team_members(self, org: str, team: str) -> frozenset[str]:
        team_id = await self._team_id(org, team)
        if team_id is None:
            return frozenset()
        members = await self._pages(f"/teams/{team_id}/members")  # cached by the caller (Lookups)
        return frozenset(filter(None, map(_login, members)))

    async def request_reviews(self, repo: str, number: int, teams: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(teams))
        if not wanted:
            return
        pr = await self._json("GET", f"/repos/{repo}/pulls/{number}")
        requested = {(t.get("name") or "").lower() for t in pr.get("requested_reviewers_teams") or ()}
        missing = [team for team in wanted if team.lower() not in requested]
        owner = repo.split("/", 1)[0]
        known = [team for team in missing if await self._team_id(owner, team) is not None]
        if len(known) < len(missing):  # Forgejo refuses the whole request (422) for one unknown team
            log.info("%s#%s: no team %s in %s to ask for a review", repo, number,
                     ", ".join(t for t in missing if t not in known), owner)
        if known:
            path = f"/repos/{repo}/pulls/{number}/requested_reviewers"
            await self._call("POST", path, body={"team_reviewers": known})

    async def permission(self, repo: str, user: str) -> str:
        """admin | write | read | none (Forgejo's "owner" is reported as admin; an unknown user as none).

        Forgejo answers this only to repository admins (and to the user asking about itself)."""
        path = f"/repos/{repo}/collaborators/{quote(user, safe='')}/permission"
        found = await self._json("GET", path, missing_ok=True)
        permission = (found or {}).get("permission") or "none"
        return "admin" if permission == "owner" else permission
    # -- lookups, cached

    async def login(self) -> str:
        """The bot user's login (``GET /user`` once), for anti-loop checks and the sticky comment."""
        if self.bot_login is None:
            async with self._lock:
                if self.bot_login is None:
                    self.bot_login = _login(await self._json("GET", "/user"))
        return self.bot_login

    async def _label_id(self, repo: str, name: str, style: LabelStyle | None) -> int:
        """The id of label ``name`` usable in ``repo`` (its own or its organisation's, listed once a
        minute), created when there is none. A 409 (created meanwhile, on an instance that refuses a
        second label of one name) is a success: the labels are listed again and its id used."""
        labels = await self._repo_labels(repo)
        if name not in labels:
            style = style or LabelStyle(DEFAULT_LABEL_COLOR)
            body = {"name": name, "color": "#" + style.hex}
            if style.description:
                body["description"] = style.description
            try:
                created = await self._json("POST", f"/repos/{repo}/labels", body=body)
            except ForgeError as exc:
                if exc.status != 409:
                    raise
                self._labels.pop(repo, None)
                labels = await self._repo_labels(repo)
                if name not in labels:
                    raise
            else:
                labels[name] = created["id"]
        return labels[name]

    async def _repo_labels(self, repo: str) -> dict[str, int]:
        if repo not in self._labels:
            owner = repo.split("/", 1)[0]
            org, own = await asyncio.gather(
                self._pages(f"/orgs/{quote(owner, safe='')}/labels", missing_ok=True),
                self._pages(f"/repos/{repo}/labels"),
            )
            self._labels[repo] = {label["name"]: label["id"] for label in [*org, *own]}
        return self._labels[repo]

    async def _team_id(self, org: str, team: str) -> int | None:
        key = (org.lower(), team.lower())
        if key not in self._team_ids:
            found = await self._json(  # 404 when the owner is a user, not an organisation: no teams
                "GET", f"/orgs/{quote(org, safe='')}/teams/search", params={"q": team, "include_desc": "false"},
                missing_ok=True,
            )
            ids = [t["id"] for t in (found or {}).get("data") or () if (t.get("name") or "").lower() == key[1]]
            if not ids:
                return None  # not remembered: a team created later is found on the next call
            self._team_ids[key] = ids[0]
        return self._team_ids[key]

    async def _sticky(self, repo: str, number: int, marker: str, body: str) -> dict:
        """The bot's one comment carrying ``marker``: edited when its text differs, created when absent."""
        if marker not in body:
            body = f"{marker}\n{body}"
        me = await self.login()
        for comment in await self._json("GET", f"/repos/{repo}/issues/{number}/comments") or ():
            if _login(comment.get("user")) == me and marker in (comment.get("body") or ""):
                if comment.get("body") == body:
                    return comment
                path = f"/repos/{repo}/issues/comments/{comment['id']}"
                return await self._json("PATCH", path, body={"body": body}) or {**comment, "body": body}
        return await self._json("POST", f"/repos/{repo}/issues/{number}/comments", body={"body": body})

def _login(user: Any) -> str:
    return (user.get("login") or user.get("username") or "") if isinstance(user, dict) else ""


def _label_names(item: dict) -> tuple[str, ...]:
    return tuple(label["name"] for label in item.get("labels") or ())


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_snapshot(repo: str, issue: dict, comments: tuple[Comment, ...] = (), links: tuple[NativeLink, ...] = (),
              number: int | None = None) -> Issue:
    return Issue(
        forge=NAME,
        repo=repo,
        number=number if number is not None else issue["number"],
        title=issue.get("title") or "",
        body=issue.get("body") or "",
        author=_login(issue.get("user")),
        labels=_label_names(issue),
        state=issue.get("state") or "open",
        comments=comments,
        is_pull_request=bool(issue.get("pull_request")) or "merged_at" in issue,
        url=issue.get("html_url") or "",
        native_links=links,
        created_at=_time(issue.get("created_at")),
        updated_at=_time(issue.get("updated_at")),
        closed_at=_time(issue.get("closed_at")),
        completed=issue.get("state") == "closed",  # Forgejo keeps no reason for a close
        # an issue's JSON names a pull request's merge under "pull_request", a pull request's at its top
        merged_at=_time(issue["merged_at"] if "merged_at" in issue else (issue.get("pull_request") or {}).get("merged_at")),
    )


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fit(title: str) -> str:
    """One line of at most STATUS_DESCRIPTION_MAX characters, trimmed as Forgejo stores it."""
    line = " ".join(title.split())
    return line if len(line) <= STATUS_DESCRIPTION_MAX else line[: STATUS_DESCRIPTION_MAX - 1].rstrip() + "…"


def _changed_file(f: dict) -> ChangedFile:
    status = _FILE_STATUS.get(f.get("status"), "modified")
    return ChangedFile(path=f["filename"], status=status, previous_path=f.get("previous_filename") or None)


def _review(r: dict) -> Review | None:
    author = _login(r.get("user"))
    state = ReviewState.DISMISSED if r.get("dismissed") else _REVIEW_STATES.get(r.get("state"))
    if not author or state is None:
        return None
    return Review(
        author=author, state=state, commit_sha=r.get("commit_id") or None, submitted_at=_time(r.get("submitted_at")),
        id=r.get("id"),
    )


def _status_check(s: dict) -> CheckResult:
    status, conclusion = _STATUS_CHECK.get(s.get("status"), _STATUS_CHECK["pending"])
    return CheckResult(
        name=s.get("context") or "",
        status=status,
        conclusion=conclusion,
        text=s.get("description") or "",
        source="status",
        id=s.get("id"),
        url=s.get("target_url") or None,
    )


def _comment(c: dict, me: str) -> Comment:
    author = _login(c.get("user"))
    return Comment(c["id"], author, c.get("body") or "", _time(c.get("created_at")), author_is_bot=author == me)
