"""A stateful fake Forgejo on a real socket, shared by every test that talks to Forgejo.

It keeps what an instance keeps (repositories, pull requests and issues, changed files, reviews,
commit statuses, comments and reactions, labels with ids, colours and descriptions, teams,
permissions, files on refs) and answers the API routes the bot uses the way Forgejo v12 does: lists capped at
``max_response_items``, ``Link`` only past one page (and not at all with ``link_headers=False``),
labels added by id, unknown label ids ignored. Every request and every answer is held to the
Swagger description (``tests/fakes/swagger.py``): a route or body the spec would reject gets a 422
and lands in ``violations``, so tests end with ``assert fake.violations == []``.

``webhook(...)`` builds deliveries from the real captured payloads in the shared fixtures,
overwritten with this fake's state, with the headers Forgejo sends (``X-Forgejo-*``, ``X-Gitea-*``,
``X-Gogs-*`` and the GitHub-style ones), or Gitea's alone with ``flavour="gitea"``.

People sign in through an OAuth2 application (``oauth``, ``tests/fakes/oauth.py``); ``let_read``
says which repositories each person can read, which ``GET /api/v1/user/repos`` lists with their token.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from urllib.parse import quote, unquote

from aiohttp import web

from . import swagger
from .oauth import FakeOAuth, web_page

from tests.paths import FIXTURES
DEFAULT_PAGING_NUM = 30  # what Forgejo answers when no limit is asked
REACTIONS = {"+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"}  # Forgejo's default [ui] REACTIONS
STATUS_RANK = {"error": 0, "failure": 1, "warning": 2, "pending": 3, "success": 4}  # worst first, as Forgejo combines

# hook event type -> (the X-Forgejo-Event value Forgejo sends with it, the fixture its payload is built from)
HOOKS = {
    "pull_request": ("pull_request", "forgejo/woodpecker/HookPullRequestReopened.json"),
    "pull_request_sync": ("pull_request", "forgejo/woodpecker/HookPullRequestUpdated.json"),
    "pull_request_label": ("pull_request", "forgejo/woodpecker/HookPullRequestLabelAdded.json"),
    "pull_request_assign": ("pull_request", "forgejo/woodpecker/HookPullRequestAssigneesAdded.json"),
    "pull_request_milestone": ("pull_request", "forgejo/woodpecker/HookPullRequestMilestoneAdded.json"),
    "pull_request_review_request": ("pull_request", "gitea/woodpecker/HookPullRequestAddReviewRequest.json"),
    "pull_request_review_approved": ("pull_request_approved", "gitea/woodpecker/HookPullRequestReviewAck.json"),
    "pull_request_review_rejected": ("pull_request_rejected", "gitea/woodpecker/HookPullRequestReviewDeny.json"),
    "pull_request_review_comment": ("pull_request_comment", "gitea/woodpecker/HookPullRequestReviewComment.json"),
    "issues": ("issues", "gitea/go-scm/issues_opened.json"),
    "issue_label": ("issues", "gitea/go-scm/issues_opened.json"),
    "issue_comment": ("issue_comment", "gitea/go-scm/issue_comment_created.json"),
    "pull_request_comment": ("issue_comment", "gitea/go-scm/pull_request_comment_created.json"),
    "push": ("push", "forgejo/woodpecker/HookPushBranch.json"),
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded, relative to /api/v1
    query: dict[str, str]
    body: Any


@dataclass
class Item:
    """An issue or a pull request (they share one numbering, as in Forgejo)."""

    id: int
    number: int
    title: str
    body: str
    author: str
    label_ids: list[int]
    is_pull: bool
    state: str = "open"
    head_sha: str = ""
    head_ref: str = ""
    base_ref: str = "main"
    files: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    timeline: list[tuple] = field(default_factory=list)  # ("comment", id) | ("ref", repo, number)
    depends_on: list[tuple[str, int]] = field(default_factory=list)  # the issues this one depends on
    merged: bool = False
    updated: int = 0  # bumped at each change: "recentupdate" sorts by it
    created_at: str = "2026-12-01T00:00:00Z"
    updated_at: str | None = None  # ISO 8601; None: derived from ``updated``
    closed_at: str | None = None


@dataclass
class Repo:
    id: int
    full_name: str
    items: dict[int, Item] = field(default_factory=dict)
    labels: dict[int, dict] = field(default_factory=dict)
    statuses: dict[str, list[dict]] = field(default_factory=dict)  # sha -> oldest first
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (ref, path) -> text
    permissions: dict[str, str] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha


class Answer(Exception):
    """An error answer from a handler, as Forgejo words them."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


_HANDLERS: dict[str, Callable] = {}


def operation(operation_id: str):
    """Registers the handler of one operation of the API description."""

    def register(handler: Callable) -> Callable:
        _HANDLERS[operation_id] = handler
        return handler

    return register


class FakeForgejo:
    bot = "nexus-bot"
    token = "fj-secret-token-3c1d9e7a"
    webhook_secret = b"fj-webhook-secret"

    def __init__(self, *, max_response_items: int = 50, link_headers: bool = True):
        self.max_response_items = max_response_items
        self.link_headers = link_headers
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.url = ""
        self._spec = swagger.spec()
        self._ids = itertools.count(1)
        self._clock = itertools.count()
        self._repos: dict[str, Repo] = {}
        self._users: dict[str, dict] = {}
        self._comments: dict[int, dict] = {}
        self._teams: dict[int, dict] = {}
        self._orgs: set[str] = set()
        self._org_labels: dict[str, dict[int, dict]] = {}
        self._failures: list[tuple[int, dict]] = []
        self._targeted_failures: list[tuple[str, str, int]] = []  # (method, path regex, status)
        self._down = False
        self._runner: web.AppRunner | None = None
        self.if_none_match: str | None = None  # of the request being answered (handlers run one at a time)
        # an OAuth2 application through which people sign in to the board (tests/fakes/oauth.py)
        self.oauth = FakeOAuth("0b6f1d5e-fake-board-client", "gto_fakeboardclientsecret7c4a", "forgejo")
        self.readers: dict[str, set[str]] = {}  # login -> the repositories they can read
        self.private: set[str] = set()  # repositories only their readers see
        self.actor = self.bot  # who the request being answered authenticates as

    # -- lifecycle and faults

    async def start(self) -> FakeForgejo:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = "http://127.0.0.1:%d" % self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()

    def fail_next(self, n: int = 1, status: int = 502, *, retry_after: int | None = None) -> None:
        """The next ``n`` requests answer ``status`` (with ``Retry-After`` when given), whatever they ask."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self._failures += [(status, headers)] * n

    def fail_request(self, method: str, path_regex: str, status: int) -> None:
        """The next request of ``method`` whose path matches ``path_regex`` (whole path) answers
        ``status``, whatever it asks; the requests before it are answered as usual."""
        self._targeted_failures.append((method.upper(), path_regex, status))

    def down(self) -> None:
        """Every request answers 503 until ``up()``, as behind a proxy whose upstream is gone."""
        self._down = True

    def up(self) -> None:
        self._down = False

    def count(self, method: str, path_regex: str) -> int:
        return sum(1 for r in self.requests if r.method == method.upper() and re.fullmatch(path_regex, r.path))

    # -- state: setup

    def add_pr(
        self,
        repo: str,
        number: int,
        *,
        title: str = "A change",
        body: str = "",
        author: str = "alice",
        files: Iterable[str | tuple[str, str]] = (),
        labels: Iterable[str] = (),
        head_sha: str | None = None,
        base_ref: str = "main",
        head_ref: str | None = None,
    ) -> int:
        r = self._repo(repo)
        r.branches.setdefault(base_ref, _sha(f"{repo}:{base_ref}"))
        r.items[number] = Item(
            id=next(self._ids),
            number=number,
            title=title,
            body=body,
            author=author,
            label_ids=[self._label_named(r, name) for name in labels],
            is_pull=True,
            head_sha=head_sha or _sha(f"{repo}#{number}"),
            head_ref=head_ref or f"{author}/change-{number}",
            base_ref=base_ref,
            files=[_changed_file(f) for f in files],
            updated=next(self._clock),
        )
        return number

    def add_issue(
        self, repo: str, number: int, *, title: str = "An issue", body: str = "", author: str = "alice",
        labels: Iterable[str] = (),
    ) -> int:
        r = self._repo(repo)
        label_ids = [self._label_named(r, name) for name in labels]
        r.items[number] = Item(next(self._ids), number, title, body, author, label_ids, is_pull=False)
        return number

    def push(self, repo: str, number: int, new_sha: str, files: Iterable[str | tuple[str, str]] | None = None) -> None:
        item = self._item(repo, number)
        item.head_sha = new_sha
        item.updated = next(self._clock)
        if files is not None:
            item.files = [_changed_file(f) for f in files]

    def add_status(
        self, repo: str, sha: str, context: str, state: str, description: str = "", target_url: str = "",
        creator: str = "ci",
    ) -> int:
        status = {
            "id": next(self._ids), "status": state, "context": context, "description": description.strip(),
            "target_url": target_url.strip(), "creator": creator, "created_at": self._now(),
        }
        self._repo(repo).statuses.setdefault(sha, []).append(status)
        return status["id"]

    def add_review(
        self, repo: str, number: int, user: str, state: str, *, body: str = "", dismissed: bool = False,
        commit_id: str | None = None,
    ) -> int:
        item = self._item(repo, number)
        review = {
            "id": next(self._ids), "user": user, "state": state, "body": body, "dismissed": dismissed,
            "commit_id": commit_id or item.head_sha, "submitted_at": self._now(),
        }
        item.reviews.append(review)
        return review["id"]

    def set_file(self, repo: str, ref: str, path: str, text: str) -> None:
        self._repo(repo).files[ref, path] = text

    def set_team(self, org: str, name: str, members: Iterable[str]) -> int:
        for team in self._teams.values():
            if team["org"] == org and team["name"].lower() == name.lower():
                team["members"] = list(members)
                return team["id"]
        team_id = next(self._ids)
        self._teams[team_id] = {"id": team_id, "org": org, "name": name, "members": list(members)}
        self._orgs.add(org)
        return team_id

    def let_read(self, login: str, *repos: str, private: bool = False) -> None:
        """``login`` can read ``repos`` (``GET /user/repos`` with their token lists them);
        ``private``: nobody else can."""
        self.readers.setdefault(login, set()).update(repos)
        for repo in repos:
            self._repo(repo)
        if private:
            self.private.update(repos)

    def set_permission(self, repo: str, user: str, perm: str) -> None:
        self._repo(repo).permissions[user] = perm

    def add_comment(self, repo: str, number: int, user: str, body: str) -> int:
        return self._new_comment(repo, self._item(repo, number), user, body)["id"]

    def add_label(self, repo: str, name: str, color: str = "ededed", description: str = "") -> int:
        return self._new_label(self._repo(repo).labels, name, color, description)["id"]

    def add_org_label(self, org: str, name: str, color: str = "ededed") -> int:
        self._orgs.add(org)
        return self._new_label(self._org_labels.setdefault(org, {}), name, color)["id"]

    def add_reference(self, repo: str, number: int, from_repo: str, from_number: int) -> None:
        """``from_repo#from_number`` (which must exist) mentions this item: a ``*_ref`` event in its timeline."""
        self._item(from_repo, from_number)
        self._item(repo, number).timeline.append(("ref", from_repo, from_number))

    def add_dependency(self, repo: str, number: int, blocking_repo: str, blocking: int) -> None:
        """``repo#number`` depends on ``blocking_repo#blocking`` (Forgejo's issue dependencies)."""
        self._item(blocking_repo, blocking)
        self._item(repo, number).depends_on.append((blocking_repo, blocking))

    def remove_dependency(self, repo: str, number: int, blocking_repo: str, blocking: int) -> None:
        self._item(repo, number).depends_on.remove((blocking_repo, blocking))

    def blocked_by_this(self, repo: str, number: int) -> list[tuple[str, int]]:
        return [(r.full_name, item.number) for r in self._repos.values() for item in r.items.values()
                if (repo, number) in item.depends_on]

    # -- state: reading

    def labels_of(self, repo: str, number: int) -> list[str]:
        r = self._repo(repo)
        return [self._any_label(r, i)["name"] for i in self._item(repo, number).label_ids]

    def label(self, repo: str, name: str) -> dict | None:
        return next((label for label in self._repo(repo).labels.values() if label["name"] == name), None)

    def comments_of(self, repo: str, number: int) -> list[dict]:
        return [self._comments[e[1]] for e in self._item(repo, number).timeline if e[0] == "comment"]

    def statuses_of(self, repo: str, sha: str) -> list[dict]:
        return list(self._repo(repo).statuses.get(sha, ()))

    def reactions_of(self, comment_id: int) -> list[tuple[str, str]]:
        return [(r["user"], r["content"]) for r in self._comments[comment_id]["reactions"]]

    def requested_teams(self, repo: str, number: int) -> list[str]:
        return list(self._item(repo, number).requested_teams)

    # -- webhooks

    def webhook(
        self,
        event_type: str,
        action: str | None,
        repo: str,
        number: int | None = None,
        *,
        sender: str | None = None,
        comment_id: int | None = None,
        flavour: str = "forgejo",
        **overrides: Any,
    ) -> tuple[dict[str, str], bytes]:
        """(headers, body) of one delivery; ``overrides`` replace top-level payload fields."""
        event, fixture = HOOKS[event_type]
        payload = json.loads((FIXTURES / fixture).read_text())
        payload.pop("secret", None)  # 2018 Gitea sent it in the body; Forgejo signs instead
        payload["repository"] = self._repo_json(self._repo(repo))
        if action is not None:
            payload["action"] = action
        author = None
        if number is not None:
            item = self._item(repo, number)
            author = item.author
            if "number" in payload:
                payload["number"] = number
            if "pull_request" in payload:
                payload["pull_request"] = self._pull_json(self._repo(repo), item)
            if "issue" in payload:
                payload["issue"] = self._issue_json(self._repo(repo), item)
            if "comment" in payload:
                comment = self._comments[comment_id or self.comments_of(repo, number)[-1]["id"]]
                payload["comment"] = self._comment_json(comment)
                payload["is_pull"] = item.is_pull
                author = comment["user"]
            if payload.get("review"):
                payload["review"]["type"] = event_type
                payload["commit_id"] = item.head_sha
        payload["sender"] = self._user(sender or author or self.bot)
        payload.update(overrides)
        body = json.dumps(payload, indent=2).encode()
        return self._hook_headers(event, event_type, body, flavour), body

    def _hook_headers(self, event: str, event_type: str, body: bytes, flavour: str) -> dict[str, str]:
        delivery = str(uuid.uuid4())
        signature = hmac.new(self.webhook_secret, body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json"}
        for prefix in ("X-Gitea",) if flavour == "gitea" else ("X-Forgejo", "X-Gitea", "X-Gogs"):
            headers |= {
                f"{prefix}-Delivery": delivery,
                f"{prefix}-Event": event,
                f"{prefix}-Event-Type": event_type,
                f"{prefix}-Signature": signature,
            }
        if flavour != "gitea":
            headers |= {
                "X-GitHub-Delivery": delivery,
                "X-GitHub-Event": event,
                "X-GitHub-Event-Type": event_type,
                "X-Hub-Signature": "sha1=" + hmac.new(self.webhook_secret, body, hashlib.sha1).hexdigest(),
                "X-Hub-Signature-256": "sha256=" + signature,
            }
        return headers

    # -- HTTP

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        if web_page(raw_path):  # the instance's web pages, not the API
            return await self.oauth.handle(request)
        path = raw_path.removeprefix("/api/v1")
        text = await request.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            return self._reject(f"{request.method} {path}: body is not JSON: {text[:80]!r}")
        self.requests.append(Request(request.method, unquote(path), dict(request.query), body))
        self.if_none_match = request.headers.get("If-None-Match")
        if self._down:
            return web.json_response({"message": "upstream unavailable"}, status=503)
        if self._failures:
            status, headers = self._failures.pop(0)
            return web.json_response({"message": "injected failure"}, status=status, headers=headers)
        for n, (method, path_regex, status) in enumerate(self._targeted_failures):
            if request.method == method and re.fullmatch(path_regex, unquote(path)):
                del self._targeted_failures[n]
                return web.json_response({"message": "injected failure"}, status=status)
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        person = self.oauth.login_of(credential) if scheme.lower() in ("token", "bearer") else None
        if request.headers.get("Authorization") != f"token {self.token}" and person is None:
            return web.json_response({"message": "token is required", "url": self.url}, status=401)
        self.actor = person or self.bot
        op = self._spec.match(request.method, path) if raw_path.startswith("/api/v1/") else None
        if op is None:
            return self._reject(f"{request.method} {path}: not in the API description")
        problems = self._spec.check_request(op, request.query, body)
        if problems:
            return self._reject(*problems)
        handler = _HANDLERS.get(op.id)
        if handler is None:
            return self._reject(f"{op.id} ({op.method} {op.template}): not implemented by the fake")
        try:
            status, data, headers = _triple(handler(self, op.path_params, request.query, body))
        except Answer as e:
            status, data, headers = e.status, {"message": str(e), "url": self.url}, {}
        self.violations += self._spec.check_response(op, status, data)
        if status == 204:
            return web.Response(status=204)
        if isinstance(data, str):
            return web.Response(text=data, status=status, headers=headers)
        return web.json_response(data, status=status, headers=headers)

    def _reject(self, *problems: str) -> web.Response:
        self.violations += problems
        return web.json_response({"message": "; ".join(problems), "url": self.url}, status=422)

    def _page(self, path: str, query, items: list) -> tuple[int, list, dict]:
        """One page of ``items`` the way Forgejo cuts it: ``limit`` capped, ``Link`` past one page."""
        size = int(query.get("limit") or 0)
        size = min(size, self.max_response_items) if size > 0 else DEFAULT_PAGING_NUM
        page = max(int(query.get("page") or 1), 1)
        pages = math.ceil(len(items) / size)
        headers = {"X-Total-Count": str(len(items))}
        if self.link_headers and pages > 1:
            link = lambda n, rel: f'<{self.url}/api/v1{quote(path)}?page={n}&limit={size}>; rel="{rel}"'  # noqa: E731
            rels = [link(page + 1, "next"), link(pages, "last")] if page < pages else []
            rels += [link(1, "first"), link(page - 1, "prev")] if page > 1 else []
            headers["Link"] = ",".join(rels)
        return 200, items[(page - 1) * size : page * size], headers

    # -- rendering

    def _now(self) -> str:
        moment = datetime(2025, 6, 1, tzinfo=timezone.utc) + timedelta(seconds=next(self._clock))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _user(self, login: str) -> dict:
        if login not in self._users:
            self._users[login] = {
                "id": next(self._ids), "login": login, "username": login, "login_name": "", "full_name": login.title(),
                "email": f"{login}@noreply.example.org", "avatar_url": f"{self.url}/avatars/{login}",
                "html_url": f"{self.url}/{login}", "visibility": "public",
            }
        return self._users[login]

    def _repo_json(self, r: Repo) -> dict:
        owner, name = r.full_name.split("/")
        return {
            "id": r.id, "name": name, "full_name": r.full_name, "owner": self._user(owner),
            "private": r.full_name in self.private,
            "fork": False, "html_url": f"{self.url}/{r.full_name}", "clone_url": f"{self.url}/{r.full_name}.git",
            "default_branch": "main", "has_pull_requests": True,
        }

    def _label_json(self, label: dict) -> dict:
        return {**label, "exclusive": False, "is_archived": False, "url": f"{self.url}/api/v1/labels/{label['id']}"}

    def _labels_json(self, r: Repo, item: Item) -> list[dict]:
        return [self._label_json(self._any_label(r, i)) for i in item.label_ids]

    def _html_url(self, r: Repo, item: Item) -> str:
        return f"{self.url}/{r.full_name}/{'pulls' if item.is_pull else 'issues'}/{item.number}"

    def _branch_json(self, r: Repo, ref: str, sha: str) -> dict:
        return {"label": ref, "ref": ref, "sha": sha, "repo_id": r.id, "repo": self._repo_json(r)}

    def _pull_json(self, r: Repo, item: Item) -> dict:
        return {
            "id": item.id, "number": item.number, "title": item.title, "body": item.body,
            "user": self._user(item.author), "labels": self._labels_json(r, item), "state": item.state,
            "draft": False, "merged": item.merged, "mergeable": True, "html_url": self._html_url(r, item),
            "url": self._html_url(r, item), "comments": len(self.comments_of(r.full_name, item.number)),
            "created_at": item.created_at, "changed_files": len(item.files), "base": self._branch_json(r, item.base_ref, r.branches[item.base_ref]),
            "head": self._branch_json(r, item.head_ref, item.head_sha), "requested_reviewers": [],
            "requested_reviewers_teams": [
                self._team_json(t) for t in self._teams.values() if t["name"] in item.requested_teams
            ],
        }

    def _issue_json(self, r: Repo, item: Item) -> dict:
        owner, name = r.full_name.split("/")
        return {
            "id": item.id, "number": item.number, "title": item.title, "body": item.body,
            "user": self._user(item.author), "labels": self._labels_json(r, item), "state": item.state,
            "comments": len(self.comments_of(r.full_name, item.number)), "html_url": self._html_url(r, item),
            "pull_request": {"merged": item.merged, "merged_at": item.closed_at if item.merged else None,
                             "html_url": self._html_url(r, item)} if item.is_pull else None,
            "repository": {"id": r.id, "name": name, "owner": owner, "full_name": r.full_name},
            "created_at": item.created_at, "closed_at": item.closed_at,
            "updated_at": item.updated_at or f"2026-12-01T00:00:{item.updated % 60:02d}Z",
        }

    def _comment_json(self, c: dict) -> dict:
        r, item = self._repo(c["repo"]), self._item(c["repo"], c["number"])
        return {
            "id": c["id"], "body": c["body"], "user": self._user(c["user"]), "created_at": c["created_at"],
            "updated_at": c["updated_at"], "html_url": f"{self._html_url(r, item)}#issuecomment-{c['id']}",
            "issue_url": self._html_url(r, item),
        }

    def _review_json(self, item: Item, review: dict) -> dict:
        return {
            **review, "user": self._user(review["user"]), "stale": review["commit_id"] != item.head_sha,
            "official": True, "comments_count": 0,
        }

    def _status_json(self, status: dict) -> dict:
        return {**status, "creator": self._user(status["creator"]), "updated_at": status["created_at"]}

    def _team_json(self, team: dict) -> dict:
        return {"id": team["id"], "name": team["name"], "description": "", "permission": "write"}

    # -- lookups

    def _repo(self, full_name: str) -> Repo:
        if full_name not in self._repos:
            self._repos[full_name] = Repo(next(self._ids), full_name)
        return self._repos[full_name]

    def _repo_of(self, p: dict) -> Repo:
        r = self._repos.get(f"{p['owner']}/{p['repo']}")
        if r is None:
            raise Answer(404, "repository does not exist")
        return r

    def _item(self, repo: str, number: int) -> Item:
        item = self._repo(repo).items.get(int(number))
        if item is None:
            raise Answer(404, f"issue {repo}#{number} does not exist")
        return item

    def _pull(self, p: dict) -> tuple[Repo, Item]:
        r = self._repo_of(p)
        item = self._item(r.full_name, p["index"])
        if not item.is_pull:
            raise Answer(404, "pull request does not exist")
        return r, item

    def _any_label(self, r: Repo, label_id: int) -> dict:
        return r.labels.get(label_id) or self._org_labels.get(r.full_name.split("/")[0], {})[label_id]

    def _label_named(self, r: Repo, name: str) -> int:
        found = [i for i, label in r.labels.items() if label["name"] == name]
        return found[0] if found else self._new_label(r.labels, name, "ededed")["id"]

    def _new_label(self, labels: dict[int, dict], name: str, color: str, description: str = "") -> dict:
        label = {"id": next(self._ids), "name": name, "color": color.lstrip("#").lower(), "description": description}
        labels[label["id"]] = label
        return label

    def _new_comment(self, repo: str, item: Item, user: str, body: str) -> dict:
        now = self._now()
        comment = {
            "id": next(self._ids), "repo": repo, "number": item.number, "user": user, "body": body,
            "created_at": now, "updated_at": now, "reactions": [],
        }
        self._comments[comment["id"]] = comment
        item.timeline.append(("comment", comment["id"]))
        return comment

    def _latest_statuses(self, r: Repo, sha: str) -> list[dict]:
        latest: dict[str, dict] = {}
        for status in r.statuses.get(sha, ()):
            latest[status["context"]] = status
        return sorted(latest.values(), key=lambda s: -s["id"])


def _triple(answer: tuple) -> tuple[int, Any, dict]:
    return answer if len(answer) == 3 else (*answer, {})


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def _changed_file(f: str | tuple[str, str]) -> dict:
    path, status = (f, "changed") if isinstance(f, str) else f
    return {"filename": path, "status": status, "additions": 1, "deletions": 0, "changes": 1}


# -- the API, one handler per operation of the description


@operation("userGetCurrent")
def _current_user(fake: FakeForgejo, p, q, body):
    return 200, fake._user(fake.actor)


@operation("userCurrentListRepos")
def _current_user_repos(fake: FakeForgejo, p, q, body):
    """The repositories the person can read (owned, collaborated on, through a team), by name."""
    names = sorted(fake.readers.get(fake.actor, ()), key=str.lower)
    repos = [fake._repo_json(fake._repo(n)) | {"permissions": {"admin": False, "push": False, "pull": True}}
             for n in names]
    return fake._page("/user/repos", q, repos)


@operation("getGeneralAPISettings")
def _api_settings(fake: FakeForgejo, p, q, body):
    return 200, {
        "max_response_items": fake.max_response_items, "default_paging_num": DEFAULT_PAGING_NUM,
        "default_git_trees_per_page": 1000, "default_max_blob_size": 10485760,
    }


@operation("repoGetPullRequest")
def _get_pull(fake: FakeForgejo, p, q, body):
    return 200, fake._pull_json(*fake._pull(p))


@operation("repoListPullRequests")
def _list_pulls(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    state = q.get("state", "open")
    pulls = [i for i in r.items.values() if i.is_pull and state in ("all", i.state)]
    if q.get("sort") == "recentupdate":
        pulls.sort(key=lambda i: i.updated, reverse=True)
    status, page, headers = fake._page(f"/repos/{r.full_name}/pulls", q, pulls)
    return status, [fake._pull_json(r, i) for i in page], headers


@operation("issueSearchIssues")
def _search_issues(fake: FakeForgejo, p, q, body):
    """The filters the bot uses: owner, type, state, since, before; most recently updated first."""
    def updated(r: Repo, i: Item) -> str:
        return fake._issue_json(r, i)["updated_at"]

    found = [(r, i) for r in fake._repos.values() for i in r.items.values()
             if (not q.get("owner") or r.full_name.split("/")[0] == q["owner"])
             and (q.get("type") != "pulls" or i.is_pull) and (q.get("type") != "issues" or not i.is_pull)
             and q.get("state", "open") in ("all", i.state)
             and (not q.get("since") or _when(updated(r, i)) >= _when(q["since"]))
             and (not q.get("before") or _when(updated(r, i)) < _when(q["before"]))]
    found.sort(key=lambda ri: ri[1].updated, reverse=True)
    status, page, headers = fake._page("/repos/issues/search", q, found)
    return status, [fake._issue_json(r, i) for r, i in page], headers


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@operation("repoGetPullRequestFiles")
def _pull_files(fake: FakeForgejo, p, q, body):
    r, item = fake._pull(p)
    return fake._page(f"/repos/{r.full_name}/pulls/{item.number}/files", q, item.files)


@operation("repoListPullReviews")
def _pull_reviews(fake: FakeForgejo, p, q, body):
    r, item = fake._pull(p)
    status, page, headers = fake._page(f"/repos/{r.full_name}/pulls/{item.number}/reviews", q, item.reviews)
    return status, [fake._review_json(item, review) for review in page], headers


@operation("repoGetCombinedStatusByRef")
def _combined_status(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    latest = fake._latest_statuses(r, p["ref"])
    _, page, headers = fake._page(f"/repos/{r.full_name}/commits/{p['ref']}/status", q, latest)
    combined = {"sha": p["ref"], "total_count": len(latest), "statuses": [fake._status_json(s) for s in page]}
    if latest:
        combined["state"] = min((s["status"] for s in latest), key=STATUS_RANK.__getitem__)
    return 200, combined, headers


@operation("repoCreateStatus")
def _create_status(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    status_id = fake.add_status(
        r.full_name, p["sha"], body.get("context") or "default", body["state"], body.get("description") or "",
        body.get("target_url") or "", creator=fake.bot,
    )
    return 201, fake._status_json(next(s for s in r.statuses[p["sha"]] if s["id"] == status_id))


@operation("issueGetIssue")
def _get_issue(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    return 200, fake._issue_json(r, fake._item(r.full_name, p["index"]))


@operation("issueGetComments")
def _list_comments(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    return 200, [fake._comment_json(c) for c in fake.comments_of(r.full_name, int(p["index"]))]


@operation("issueCreateComment")
def _create_comment(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    comment = fake._new_comment(r.full_name, fake._item(r.full_name, p["index"]), fake.bot, body["body"])
    return 201, fake._comment_json(comment)


@operation("issueEditComment")
def _edit_comment(fake: FakeForgejo, p, q, body):
    comment = fake._comments.get(int(p["id"]))
    if comment is None or comment["repo"] != f"{p['owner']}/{p['repo']}":
        raise Answer(404, "comment does not exist")
    comment["body"], comment["updated_at"] = body["body"], fake._now()
    return 200, fake._comment_json(comment)


@operation("issuePostCommentReaction")
def _react(fake: FakeForgejo, p, q, body):
    comment = fake._comments.get(int(p["id"]))
    if comment is None:
        raise Answer(404, "comment does not exist")
    if body.get("content") not in REACTIONS:
        raise Answer(403, f"'{body.get('content')}' is not an allowed reaction")
    reaction = {"user": fake.bot, "content": body["content"], "created_at": fake._now()}
    existing = [r for r in comment["reactions"] if (r["user"], r["content"]) == (fake.bot, body["content"])]
    if not existing:
        comment["reactions"].append(reaction)
    found = (existing or [reaction])[0]
    return (200 if existing else 201), {**found, "user": fake._user(found["user"])}


@operation("issueListLabels")
def _repo_labels(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    status, page, headers = fake._page(f"/repos/{r.full_name}/labels", q, list(r.labels.values()))
    return status, [fake._label_json(label) for label in page], headers


@operation("orgListLabels")
def _org_labels(fake: FakeForgejo, p, q, body):
    if p["org"] not in fake._orgs:
        raise Answer(404, "organization does not exist")
    labels = list(fake._org_labels.get(p["org"], {}).values())
    status, page, headers = fake._page(f"/orgs/{p['org']}/labels", q, labels)
    return status, [fake._label_json(label) for label in page], headers


@operation("issueCreateLabel")
def _create_label(fake: FakeForgejo, p, q, body):
    if not re.fullmatch(r"#?[0-9a-fA-F]{6}", body["color"]):
        raise Answer(422, f"invalid color {body['color']!r}")
    label = fake._new_label(fake._repo_of(p).labels, body["name"], body["color"], body.get("description") or "")
    return 201, fake._label_json(label)


@operation("issueGetLabels")
def _issue_labels(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    return 200, fake._labels_json(r, fake._item(r.full_name, p["index"]))


@operation("issueAddLabel")
def _add_labels(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    item = fake._item(r.full_name, p["index"])
    usable = {**fake._org_labels.get(r.full_name.split("/")[0], {}), **r.labels}
    for wanted in body.get("labels") or ():
        ids = [i for i, label in usable.items() if wanted in (i, label["name"])]  # unknown ones are ignored
        item.label_ids += [i for i in ids[:1] if i not in item.label_ids]
    return 200, fake._labels_json(r, item)


@operation("issueRemoveLabel")
def _remove_label(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    item = fake._item(r.full_name, p["index"])
    label_id = int(p["id"])
    if label_id not in r.labels and label_id not in fake._org_labels.get(r.full_name.split("/")[0], {}):
        raise Answer(422, f"label {label_id} does not exist")
    if label_id in item.label_ids:
        item.label_ids.remove(label_id)
    return 204, None


@operation("repoGetRawFile")
def _raw_file(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    ref = q.get("ref") or "main"
    ref = next((name for name, sha in r.branches.items() if sha == ref), ref)
    text = r.files.get((ref, p["filepath"]))
    if text is None:
        raise Answer(404, f"{p['filepath']} does not exist at {ref}")
    etag = '"%s"' % hashlib.sha1(text.encode()).hexdigest()  # Forgejo's ServeBlob: the blob id
    if fake.if_none_match == etag:
        return 304, "", {"ETag": etag}
    return 200, text, {"ETag": etag}


@operation("teamSearch")
def _search_teams(fake: FakeForgejo, p, q, body):
    if p["org"] not in fake._orgs:
        raise Answer(404, "organization does not exist")
    words = (q.get("q") or "").lower()
    teams = [t for t in fake._teams.values() if t["org"] == p["org"] and words in t["name"].lower()]
    _, page, headers = fake._page(f"/orgs/{p['org']}/teams/search", q, teams)
    return 200, {"data": [fake._team_json(t) for t in page], "ok": True}, headers


@operation("orgListTeamMembers")
def _team_members(fake: FakeForgejo, p, q, body):
    team = fake._teams.get(int(p["id"]))
    if team is None:
        raise Answer(404, "team does not exist")
    status, page, headers = fake._page(f"/teams/{team['id']}/members", q, team["members"])
    return status, [fake._user(login) for login in page], headers


@operation("repoCreatePullReviewRequests")
def _request_reviews(fake: FakeForgejo, p, q, body):
    r, item = fake._pull(p)
    org = r.full_name.split("/")[0]
    created = []
    for name in body.get("team_reviewers") or ():
        team = next((t for t in fake._teams.values() if t["org"] == org and t["name"].lower() == name.lower()), None)
        if team is None:
            raise Answer(422, f"team {name!r} does not exist")
        if team["name"] not in item.requested_teams:
            item.requested_teams.append(team["name"])
        created.append({"id": next(fake._ids), "state": "REQUEST_REVIEW", "team": fake._team_json(team)})
    return 201, created


@operation("repoGetRepoPermissions")
def _permission(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    permission = r.permissions.get(p["collaborator"])
    if permission is None:
        raise Answer(404, f"user {p['collaborator']!r} does not exist")
    return 200, {"permission": permission, "role_name": permission, "user": fake._user(p["collaborator"])}


def _issue_list(fake: FakeForgejo, p, q, keys: list[tuple[str, int]], what: str):
    r = fake._repo_of(p)
    items = [fake._issue_json(fake._repo(repo), fake._item(repo, number)) for repo, number in keys]
    return fake._page(f"/repos/{r.full_name}/issues/{p['index']}/{what}", q, items)


@operation("issueListIssueDependencies")
def _dependencies(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    return _issue_list(fake, p, q, fake._item(r.full_name, p["index"]).depends_on, "dependencies")


@operation("issueListBlocks")
def _blocks(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    fake._item(r.full_name, p["index"])
    return _issue_list(fake, p, q, fake.blocked_by_this(r.full_name, int(p["index"])), "blocks")


@operation("issueCreateIssueDependencies")
def _add_dependency(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    blocking = (f"{body['owner']}/{body['repo']}", int(body["index"]))
    item = fake._item(r.full_name, p["index"])
    on = fake._item(*blocking)
    if blocking not in item.depends_on:
        item.depends_on.append(blocking)
    return 201, fake._issue_json(fake._repo(blocking[0]), on)


@operation("issueListIssues")
def _list_issues(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    found = [i for i in r.items.values()
             if (q.get("type") != "issues" or not i.is_pull) and (q.get("type") != "pulls" or i.is_pull)
             and q.get("state", "open") in ("all", i.state)
             and (not q.get("created_by") or i.author == q["created_by"])]
    status, page, headers = fake._page(f"/repos/{r.full_name}/issues", q, found)
    return status, [fake._issue_json(r, i) for i in page], headers


@operation("issueCreateIssue")
def _create_issue(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    number = max([0, *r.items]) + 1
    fake.add_issue(r.full_name, number, title=body["title"], body=body.get("body") or "", author=fake.bot)
    return 201, fake._issue_json(r, fake._item(r.full_name, number))


@operation("issueEditIssue")
def _edit_issue(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    item = fake._item(r.full_name, p["index"])
    item.body = body.get("body", item.body)
    item.title = body.get("title") or item.title
    return 201, fake._issue_json(r, item)


@operation("issueGetCommentsAndTimeline")
def _timeline(fake: FakeForgejo, p, q, body):
    r = fake._repo_of(p)
    item = fake._item(r.full_name, p["index"])
    events = []
    for entry in item.timeline:
        if entry[0] == "comment":
            events.append({**fake._comment_json(fake._comments[entry[1]]), "type": "comment"})
        else:
            source = fake._item(entry[1], entry[2])
            kind = "pull_ref" if source.is_pull else "issue_ref"
            ref_issue = fake._issue_json(fake._repo(entry[1]), source)
            events.append({"id": next(fake._ids), "type": kind, "ref_issue": ref_issue})
    return fake._page(f"/repos/{r.full_name}/issues/{item.number}/timeline", q, events)
