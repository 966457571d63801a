"""A stateful fake of GitHub's REST API and webhooks, on a real socket, shared by every test.

State is set up with the helpers (``add_pr``, ``add_check_run``, ...) and changed through the API
by the code under test. Webhooks are built from the real octokit example payloads in
``shared/fixtures/github`` with the fake's current state written over them: make a change with
the helpers first, then build the webhook that tells of it.

The fake checks what it is sent against GitHub's published API description (githubkit's models
generated from GitHub's OpenAPI): a write body the real API would reject gets 422 and a line in
``violations``; with ``strict`` (the default) every JSON response it sends is also parsed with the
matching githubkit response model, so the fake cannot drift from the real API's shapes.

People sign in through the App's OAuth client (``oauth``, ``tests/fakes/oauth.py``: the authorize
form and the token endpoint); ``let_read`` says which repositories each person can read, which
``GET /user/repos`` lists with their token.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Union

import jwt
import pydantic
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit_schemas.latest import models as M

from tests.paths import FIXTURES as SHARED_FIXTURES

from .oauth import FakeOAuth, web_page

FIXTURES = SHARED_FIXTURES / "github"
ACTIONS_APP = (15368, "github-actions")  # the app GitHub Actions check runs belong to
DEFAULT_LABEL_COLOR = "ededed"  # what GitHub gives a label it creates on the fly
FILES_LIMIT = 3000  # GitHub lists at most this many files of a pull request

# The fixture payloads' placeholder names, replaced by the fake's own.
_FIXTURE_REPO, _FIXTURE_OWNER, _FIXTURE_NAME = "Codertocat/Hello-World", "Codertocat", "Hello-World"
_FIXTURE_HEAD, _FIXTURE_BASE = "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@functools.cache
def app_private_key() -> str:
    """One RSA key (PEM) per test session: the GitHub App's private key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def _fixture_text(path: str) -> str:
    return (FIXTURES / path).read_text()


def fixture(path: str) -> dict:
    """A fresh copy of one fixture payload, e.g. ``fixture("pull_request/opened.json")``."""
    return json.loads(_fixture_text(path))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rewrite(obj: Any, replacements: dict[str, str]) -> Any:
    """``obj`` with every string's placeholders replaced (URLs follow the names they embed)."""
    if isinstance(obj, str):
        for old, new in replacements.items():
            obj = obj.replace(old, new)
        return obj
    if isinstance(obj, dict):
        return {k: _rewrite(v, replacements) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rewrite(v, replacements) for v in obj]
    return obj


def _user(login: str, type_: str = "User") -> dict:
    user = _rewrite(fixture("pull_request/opened.json")["sender"], {_FIXTURE_OWNER: login})
    return user | {"id": zlib.crc32(login.encode()), "type": type_}


def _label(repo: str, name: str, color: str, description: str | None = None) -> dict:
    return {
        "id": zlib.crc32(f"{repo}:{name}".encode()),
        "node_id": f"LA_{name}",
        "url": f"https://api.github.com/repos/{repo}/labels/{name}",
        "name": name,
        "color": color,
        "default": False,
        "description": description,
        "archived_at": None,
        "archived_by": None,
    }


@functools.cache
def _adapter(type_: Any) -> pydantic.TypeAdapter:
    return pydantic.TypeAdapter(type_)


@dataclass
class Recorded:
    """One request the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    route: str | None = None  # the endpoint's path template, e.g. /repos/{owner}/{repo}/pulls/{number}
    at: float = field(default_factory=time.time)  # when it arrived


@dataclass
class Actor:
    """Who a request authenticates as."""

    login: str
    type: str  # User | Bot
    app: tuple[int, str] | None  # (id, slug) of the app its check runs belong to
    installation_id: int | None = None


ACTOR = web.RequestKey("actor", Actor)


@dataclass
class FakePull:
    base_ref: str
    head_ref: str
    head_sha: str
    base_sha: str
    files: list[dict]
    draft: bool = False
    merged: bool = False
    shas: list[str] = field(default_factory=list)  # every head sha, oldest first
    requested_teams: list[str] = field(default_factory=list)


@dataclass
class FakeIssue:
    repo: str
    number: int
    title: str
    body: str
    author: str
    labels: list[str]
    state: str = "open"
    pull: FakePull | None = None
    created_at: str = field(default_factory=_now)
    closed_at: str | None = None
    updated_at: str | None = None  # None: as created (set_times moves it)
    state_reason: str | None = None  # completed | not_planned, once closed
    updated: int = 0  # bumped at each change: lists sorted by "updated" follow it


_UPDATES = itertools.count(1)


class FakeGitHub:
    """GitHub on 127.0.0.1: the REST endpoints the bot uses, GitHub App auth, ETags, pagination,
    rate-limit headers, fault injection, and signed webhooks built on real payloads."""

    def __init__(
        self,
        *,
        private_key: str | None = None,
        app_id: int = 4242,
        app_slug: str = "nexus-bot",
        installation_id: int = 1,
        webhook_secret: bytes = b"fake-webhook-secret",
        user_token: str = "ghp_fake_user_token",
        user_login: str = "octocat",
        strict: bool = True,
    ):
        self.private_key = private_key or app_private_key()
        self._public_key = serialization.load_pem_private_key(self.private_key.encode(), None).public_key()
        self.app_id, self.app_slug = app_id, app_slug
        self.bot_login = f"{app_slug}[bot]"
        self.installation_id = installation_id
        self.installations = {installation_id}
        self.webhook_secret = webhook_secret
        self.user_token, self.user_login = user_token, user_login
        self.strict = strict
        self.url = ""

        self.issues: dict[tuple[str, int], FakeIssue] = {}
        self.labels: dict[str, dict[str, str]] = {}  # repo -> label name -> colour
        self.label_descriptions: dict[str, dict[str, str]] = {}  # repo -> label name -> description, when set
        self.reviews: dict[tuple[str, int], list[dict]] = {}
        self.comments: dict[int, dict] = {}
        self.reactions: dict[int, list[dict]] = {}
        self.check_runs: dict[int, dict] = {}
        self.statuses: dict[tuple[str, str], list[dict]] = {}
        self.contents: dict[tuple[str, str, str], str] = {}
        self._trees: dict[tuple[str, str], tuple[str, str]] = {}  # (repo, tree sha) -> (ref, directory/)
        self.refuse_trees: int | None = None  # e.g. 409, GitHub's answer for an empty repository
        self.teams: dict[tuple[str, str], list[str]] = {}
        self.permissions: dict[tuple[str, str], str] = {}
        self.cross_references: dict[tuple[str, int], list[tuple[str, int]]] = {}
        self.blocked_by: dict[tuple[str, int], list[tuple[str, int]]] = {}  # issue -> the issues blocking it
        self.deployments: dict[str, list[dict]] = {}  # repo -> its deployments, newest first
        self.sub_issues: dict[tuple[str, int], list[tuple[str, int]]] = {}  # parent -> its sub-issues
        self.tokens: dict[str, tuple[int, float]] = {}  # installation token -> (installation, expiry)
        self.manifest_codes: set[str] = set()  # codes GitHub would send back after "Create GitHub App"
        # the App's OAuth client, through which people sign in to the board (tests/fakes/oauth.py)
        self.oauth = FakeOAuth("Iv1.fakeboardclient", "fake-board-client-secret-9d2e", "github")
        self.readers: dict[str, set[str]] = {}  # login -> the repositories they can read (and the App is on)
        self.private: set[str] = set()  # repositories only their readers see

        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.charged = 0
        self.quota_reset_at: float | None = None  # when the quota's window resets (default: in an hour)
        self._faults: list[web.Response] = []
        self._down = False
        self._ids = itertools.count(1_000_001)
        self._runner: web.AppRunner | None = None
        self._route_types: dict[Any, tuple[Any, Any]] = {}  # aiohttp route -> (body type, response type)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        """Serve on a random port of 127.0.0.1; returns the API base URL."""
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler, body_type, response_type in self._endpoints():
            self._route_types[app.router.add_route(method, path, handler)] = (body_type, response_type)
        self.oauth.add_routes(app)  # web pages and the token exchange, not the REST API
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    # -- setup helpers -----------------------------------------------------------------------

    def add_pr(
        self,
        repo: str,
        number: int,
        *,
        title: str = "A change",
        body: str = "",
        author: str = "alice",
        files: list[str] | None = None,
        labels: list[str] | None = None,
        head_sha: str | None = None,
        base_ref: str = "main",
        head_ref: str | None = None,
        draft: bool = False,
    ) -> FakeIssue:
        head_sha = head_sha or hashlib.sha1(f"{repo}#{number}".encode()).hexdigest()
        pull = FakePull(
            base_ref=base_ref,
            head_ref=head_ref or f"feature-{number}",
            head_sha=head_sha,
            base_sha=hashlib.sha1(f"{repo}@{base_ref}".encode()).hexdigest(),
            files=[],
            draft=draft,
            shas=[head_sha],
        )
        issue = self.add_issue(repo, number, title=title, body=body, author=author, labels=labels)
        issue.pull = pull
        issue.updated = next(_UPDATES)
        self.set_files(repo, number, files or [])
        return issue

    def add_issue(
        self,
        repo: str,
        number: int,
        title: str = "An issue",
        body: str = "",
        author: str = "alice",
        labels: list[str] | None = None,
    ) -> FakeIssue:
        issue = FakeIssue(repo, number, title, body, author, [])
        self.issues[(repo, number)] = issue
        self.set_labels(repo, number, labels or [])
        return issue

    def set_labels(self, repo: str, number: int, labels: list[str]) -> None:
        """The labels on an issue or PR (labels new to the repository are created)."""
        for name in labels:
            self.labels.setdefault(repo, {}).setdefault(name, DEFAULT_LABEL_COLOR)
        self.issues[(repo, number)].labels = list(dict.fromkeys(labels))

    def set_files(self, repo: str, number: int, files: list[str | tuple[str, str] | tuple[str, str, str]]) -> None:
        """A PR's changed files: paths, or (path, status) or (path, "renamed", previous_path)."""
        entries = []
        for f in files:
            path, status, previous = (f, "modified", None) if isinstance(f, str) else (*f, None)[:3]
            entries.append({"filename": path, "status": status, "previous_filename": previous})
        self._pull(repo, number).files = entries

    def push(self, repo: str, number: int, new_sha: str, files: list | None = None) -> None:
        """A new head commit on the PR (``synchronize``)."""
        pull = self._pull(repo, number)
        pull.head_sha = new_sha
        pull.shas.append(new_sha)
        self.issues[(repo, number)].updated = next(_UPDATES)
        if files is not None:
            self.set_files(repo, number, files)

    def close(self, repo: str, number: int, *, merged: bool = False, reason: str = "completed",
              at: str | None = None) -> None:
        issue = self.issues[(repo, number)]
        issue.state, issue.closed_at, issue.state_reason = "closed", at or _now(), reason
        issue.updated_at = issue.closed_at
        if issue.pull:
            issue.pull.merged = merged

    def set_times(self, repo: str, number: int, *, created: str | None = None, updated: str | None = None) -> None:
        """Move an item in time (ISO 8601 UTC, e.g. "2026-11-02T10:00:00Z"): a history seeded in the past."""
        issue = self.issues[(repo, number)]
        issue.created_at = created or issue.created_at
        issue.updated_at = updated or issue.updated_at

    def add_deployment(self, repo: str, sha: str, environment: str, at: str, state: str = "success") -> int:
        """A deployment of ``sha`` to ``environment`` at ``at`` and its one status."""
        deployment_id = next(self._ids)
        self.deployments.setdefault(repo, []).insert(0, {"id": deployment_id, "sha": sha, "environment": environment,
                                                         "created_at": at, "state": state})
        return deployment_id

    def add_check_run(
        self,
        repo: str,
        sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        summary: str = "",
        title: str = "",
        *,
        text: str = "",
        app: tuple[int, str] = ACTIONS_APP,
    ) -> int:
        return self._store_check_run(
            repo,
            sha,
            app,
            name=name,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            output={"title": title, "summary": summary, "text": text},
        )

    def add_status(
        self, repo: str, sha: str, context: str, state: str, description: str = "", target_url: str | None = None
    ) -> int:
        status_id = next(self._ids)
        self.statuses.setdefault((repo, sha), []).append(
            {"id": status_id, "context": context, "state": state, "description": description,
             "target_url": target_url, "created_at": _now()}
        )
        return status_id

    def add_review(
        self, repo: str, number: int, user: str, state: str, commit_id: str | None = None, body: str = ""
    ) -> int:
        """``state``: APPROVED | CHANGES_REQUESTED | COMMENTED (any case)."""
        review_id = next(self._ids)
        self.reviews.setdefault((repo, number), []).append(
            {"id": review_id, "user": user, "state": state.upper(), "body": body,
             "commit_id": commit_id or self._pull(repo, number).head_sha, "submitted_at": _now()}
        )
        return review_id

    def dismiss_review(self, repo: str, number: int, review_id: int) -> None:
        next(r for r in self.reviews[(repo, number)] if r["id"] == review_id)["state"] = "DISMISSED"

    def add_comment(self, repo: str, number: int, user: str, body: str, user_type: str = "User") -> int:
        comment_id = next(self._ids)
        now = _now()
        self.comments[comment_id] = {"id": comment_id, "repo": repo, "number": number, "user": user,
                                     "user_type": user_type, "body": body, "created_at": now, "updated_at": now}
        return comment_id

    def set_file(self, repo: str, ref: str, path: str, text: str) -> None:
        self.contents[(repo, ref, path)] = text

    def set_team(self, org: str, slug: str, members: list[str]) -> None:
        self.teams[(org, slug)] = list(members)

    def let_read(self, login: str, *repos: str, private: bool = False) -> None:
        """``login`` can read ``repos`` (``GET /user/repos`` with their token lists them);
        ``private``: nobody else can."""
        self.readers.setdefault(login, set()).update(repos)
        if private:
            self.private.update(repos)

    def set_permission(self, repo: str, user: str, perm: str) -> None:
        self.permissions[(repo, user)] = perm

    def add_cross_reference(self, repo: str, number: int, from_repo: str, from_number: int) -> None:
        """Issue or PR ``from_repo#from_number`` mentions ``repo#number`` (both must exist)."""
        self.cross_references.setdefault((repo, number), []).append((from_repo, from_number))

    # -- assertions and fault injection ------------------------------------------------------

    def add_dependency(self, repo: str, number: int, blocking_repo: str, blocking: int) -> None:
        """``repo#number`` is blocked by ``blocking_repo#blocking`` (GitHub's issue dependencies)."""
        self.blocked_by.setdefault((repo, number), []).append((blocking_repo, blocking))

    def remove_dependency(self, repo: str, number: int, blocking_repo: str, blocking: int) -> None:
        self.blocked_by[(repo, number)].remove((blocking_repo, blocking))

    def add_sub_issue(self, repo: str, parent: int, sub_repo: str, sub: int) -> None:
        self.sub_issues.setdefault((repo, parent), []).append((sub_repo, sub))

    def _blocking(self, key: tuple[str, int]) -> list[tuple[str, int]]:
        return [blocked for blocked, blockers in self.blocked_by.items() if key in blockers]

    def _parent(self, key: tuple[str, int]) -> tuple[str, int] | None:
        return next((parent for parent, subs in self.sub_issues.items() if key in subs), None)

    def count(self, method: str, path_regex: str) -> int:
        """How many requests with this method had a path matching ``path_regex`` (whole path)."""
        return sum(1 for r in self.requests if r.method == method and re.fullmatch(path_regex, r.path))

    def endpoints(self) -> set[tuple[str, str]]:
        """(method, path template) of every endpoint the fake serves."""
        return {(route.method, route.resource.canonical) for route in self._route_types}

    def check_runs_for(self, repo: str, sha: str, name: str | None = None) -> list[dict]:
        return [c for c in self.check_runs.values()
                if c["repo"] == repo and c["head_sha"] == sha and name in (None, c["name"])]

    def comments_on(self, repo: str, number: int) -> list[dict]:
        return [c for c in self.comments.values() if (c["repo"], c["number"]) == (repo, number)]

    def fail_next(self, n: int = 1, status: int = 502) -> None:
        """The next ``n`` requests answer ``status`` (as GitHub's front end does when it hiccups)."""
        for _ in range(n):
            self._faults.append(self._error(status, "Server Error" if status >= 500 else "Error"))

    def rate_limit_next(self, retry_after: int = 1, secondary: bool = False) -> None:
        """The next request answers 403 for a rate limit: a secondary limit sends ``Retry-After``,
        the primary one ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``, as GitHub does."""
        if secondary:
            response = self._error(403, "You have exceeded a secondary rate limit. Please wait a few minutes.")
            response.headers["Retry-After"] = str(retry_after)
        else:
            response = self._error(403, "API rate limit exceeded for installation.")
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Reset"] = str(math.ceil(time.time() + retry_after))
        self._faults.append(response)

    def down(self) -> None:
        """Every request answers 503 until ``up()``."""
        self._down = True

    def up(self) -> None:
        self._down = False

    # -- webhooks ----------------------------------------------------------------------------

    def webhook(
        self, event: str, action: str | None, repo: str, number: int | None = None, **overrides: Any
    ) -> tuple[dict[str, str], bytes]:
        """A signed delivery (headers, body) of ``event``/``action`` about the fake's current state.

        Overrides for every event: ``sender``, ``sender_type``, ``installation_id``, ``delivery``.
        pull_request: ``label`` (labeled/unlabeled), ``changes`` (edited). pull_request_review:
        ``review_id`` (default: the latest review), ``state``. check_run: ``check_run_id`` or
        ``name``, ``sha``. check_suite: ``sha``, ``app_id``, ``conclusion``. status: ``sha``,
        ``context``. issues: ``label``. issue_comment: ``comment_id`` (default: the latest comment).
        """
        delivery = overrides.pop("delivery", None) or str(uuid.uuid4())
        sender = overrides.pop("sender", None)
        sender_type = overrides.pop("sender_type", None)
        installation_id = overrides.pop("installation_id", self.installation_id)
        build = {
            "pull_request": self._pull_request_payload,
            "pull_request_review": self._review_payload,
            "check_run": self._check_run_payload,
            "check_suite": self._check_suite_payload,
            "status": self._status_payload,
            "issues": self._issues_payload,
            "issue_comment": self._issue_comment_payload,
            "issue_dependencies": self._issue_dependencies_payload,
            "sub_issues": self._sub_issues_payload,
            "installation": self._installation_payload,
            "push": self._push_payload,
            "merge_group": self._merge_group_payload,
            "ping": self._ping_payload,
        }[event]
        payload, default_sender = build(action, repo, number, overrides)
        if overrides:
            raise TypeError(f"unknown webhook overrides for {event}: {sorted(overrides)}")
        payload.pop("organization", None)
        if event == "installation":
            payload["installation"]["id"] = installation_id
        else:
            if event != "push":  # a push's repository is the webhook kind, with its default branch
                payload["repository"] = self._repository(repo)
            payload["installation"] = {"id": installation_id, "node_id": f"MDIz{installation_id}"}
        login, kind = default_sender
        payload["sender"] = _user(sender or login, sender_type or kind)
        body = json.dumps(payload).encode()
        signature = hmac.new(self.webhook_secret, body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "109948940",
            "X-Hub-Signature-256": f"sha256={signature}",
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
        }
        return headers, body

    def _pull_request_payload(self, action, repo, number, o):
        issue = self.issues[(repo, number)]
        # GitHub's examples have no "edited": it is "opened" plus the "changes" GitHub sends.
        payload = fixture(f"pull_request/{'opened' if action == 'edited' else action}.json")
        payload["action"] = action
        payload["number"] = number
        payload["pull_request"] = self._pull_json(issue)
        if action == "edited":
            payload["changes"] = o.pop("changes", {"title": {"from": "An older title"}})
        if action in ("labeled", "unlabeled"):
            payload["label"] = self._label_change(issue, o)
        if action == "synchronize":
            shas = issue.pull.shas
            payload["before"], payload["after"] = (shas[-2] if len(shas) > 1 else issue.pull.base_sha), shas[-1]
        return payload, (issue.author, "User")

    def _label_change(self, issue: FakeIssue, o: dict) -> dict:
        """The label a labeled/unlabeled event is about: ``label``, by default the issue's last one."""
        name = o.pop("label", None) or issue.labels[-1]
        return _label(issue.repo, name, self.labels.get(issue.repo, {}).get(name, DEFAULT_LABEL_COLOR),
                      self.label_descriptions.get(issue.repo, {}).get(name))

    def _review_payload(self, action, repo, number, o):
        issue = self.issues[(repo, number)]
        reviews = self.reviews.get((repo, number)) or []
        review_id = o.pop("review_id", None)
        record = next((r for r in reviews if r["id"] == review_id), None) if review_id else (reviews or [None])[-1]
        if record is None:
            raise ValueError(f"no review on {repo}#{number}: add_review first")
        payload = fixture(f"pull_request_review/{action}.json")
        payload["pull_request"] = self._pull_json(issue)
        review = self._review_json(repo, number, record)
        review["state"] = o.pop("state", review["state"]).lower()  # webhooks spell states in lower case
        payload["review"] = review
        return payload, (record["user"], "User")

    def _check_run_for(self, repo, number, o) -> dict:
        if "check_run_id" in o:
            return self.check_runs[o.pop("check_run_id")]
        sha = o.pop("sha", None) or self._pull(repo, number).head_sha
        runs = self.check_runs_for(repo, sha, o.pop("name", None))
        if not runs:
            raise ValueError(f"no check run on {repo}@{sha}: add_check_run first")
        return runs[-1]

    def _check_run_payload(self, action, repo, number, o):
        record = self._check_run_for(repo, number, o)
        payload = fixture(f"check_run/{action}.json")
        payload["check_run"] = self._check_run_json(record) | {
            "pull_requests": self._pull_refs(repo, record["head_sha"])
        }
        sender = ("octocat", "User") if action == "rerequested" else (f"{record['app'][1]}[bot]", "Bot")
        return payload, sender

    def _check_suite_payload(self, action, repo, number, o):
        sha = o.pop("sha", None) or self._pull(repo, number).head_sha
        app_id = o.pop("app_id", ACTIONS_APP[0])
        app = (app_id, {self.app_id: self.app_slug, ACTIONS_APP[0]: ACTIONS_APP[1]}.get(app_id, f"app-{app_id}"))
        payload = fixture(f"check_suite/{action}.json")
        suite = payload["check_suite"]
        suite.update(
            head_sha=sha,
            app=self._integration(*app),
            pull_requests=self._pull_refs(repo, sha),
            conclusion=o.pop("conclusion", "success") if action == "completed" else None,
            status="completed" if action == "completed" else "queued",
        )
        return payload, (f"{app[1]}[bot]", "Bot")

    def _status_payload(self, action, repo, number, o):
        sha = o.pop("sha", None) or self._pull(repo, number).head_sha
        context = o.pop("context", None)
        records = [s for s in self.statuses.get((repo, sha), []) if context in (None, s["context"])]
        if not records:
            raise ValueError(f"no status on {repo}@{sha}: add_status first")
        record = records[-1]
        payload = _rewrite(fixture("status/payload.json"), {_FIXTURE_REPO: repo})
        payload.update(
            id=record["id"], sha=sha, name=repo, context=record["context"], state=record["state"],
            description=record["description"], target_url=record["target_url"], branches=[],
            created_at=record["created_at"], updated_at=record["created_at"],
        )
        payload["commit"]["sha"] = sha
        return payload, (repo.split("/")[0], "User")

    def _issues_payload(self, action, repo, number, o):
        issue = self.issues[(repo, number)]
        payload = fixture(f"issues/{action}.json")
        payload["issue"] = self._issue_json(issue)
        if action in ("labeled", "unlabeled"):
            payload["label"] = self._label_change(issue, o)
        return payload, (issue.author, "User")

    def _issue_dependencies_payload(self, action, repo, number, o):
        """``repo#number`` is the issue of the delivery's repository; ``other`` (repo, number) the other
        side: its blocker for blocked_by_*, the issue it blocks for blocking_*."""
        other_repo, other = o.pop("other")
        mine, theirs = self._issue_json(self.issues[(repo, number)]), self._issue_json(self.issues[(other_repo, other)])
        if action.startswith("blocked_by"):
            sides = {"blocked_issue": mine, "blocking_issue": theirs, "blocking_issue_repo": self._full_repository(other_repo)}
        else:
            sides = {"blocking_issue": mine, "blocked_issue": theirs, "blocked_issue_repo": self._full_repository(other_repo)}
        payload = {"action": action, "blocked_issue_id": sides["blocked_issue"]["id"],
                   "blocking_issue_id": sides["blocking_issue"]["id"], **sides,
                   "organization": self._organization(repo)}
        model = {"blocked_by_added": M.WebhookIssueDependenciesBlockedByAdded,
                 "blocked_by_removed": M.WebhookIssueDependenciesBlockedByRemoved,
                 "blocking_added": M.WebhookIssueDependenciesBlockingAdded,
                 "blocking_removed": M.WebhookIssueDependenciesBlockingRemoved}[action]
        _adapter(model).validate_python({**payload, "repository": self._repository(repo), "sender": _user("alice")})
        return payload, ("alice", "User")

    def _sub_issues_payload(self, action, repo, number, o):
        """``repo#number`` is the parent for sub_issue_*, the sub-issue for parent_issue_*; ``other`` the other side."""
        other_repo, other = o.pop("other")
        mine, theirs = self._issue_json(self.issues[(repo, number)]), self._issue_json(self.issues[(other_repo, other)])
        if action.startswith("sub_issue"):
            sides = {"parent_issue": mine, "sub_issue": theirs, "sub_issue_repo": self._full_repository(other_repo)}
        else:
            sides = {"sub_issue": mine, "parent_issue": theirs, "parent_issue_repo": self._full_repository(other_repo)}
        payload = {"action": action, "parent_issue_id": sides["parent_issue"]["id"],
                   "sub_issue_id": sides["sub_issue"]["id"], **sides}
        model = {"sub_issue_added": M.WebhookSubIssuesSubIssueAdded,
                 "sub_issue_removed": M.WebhookSubIssuesSubIssueRemoved,
                 "parent_issue_added": M.WebhookSubIssuesParentIssueAdded,
                 "parent_issue_removed": M.WebhookSubIssuesParentIssueRemoved}[action]
        _adapter(model).validate_python({**payload, "repository": self._repository(repo), "sender": _user("alice")})
        return payload, ("alice", "User")

    def _full_repository(self, repo: str) -> dict:
        """A repository as the REST API's ``Repository`` (the ``*_repo`` fields of link webhooks)."""
        owner, name = repo.split("/")
        data = _rewrite(fixture("pull_request/opened.json")["pull_request"]["base"]["repo"],
                        {_FIXTURE_REPO: repo, f"/{_FIXTURE_OWNER}": f"/{owner}", _FIXTURE_NAME: name})
        return data | {"id": zlib.crc32(repo.encode()), "owner": _user(owner, "Organization")}

    def _organization(self, repo: str) -> dict:
        owner = repo.split("/")[0]
        return {"login": owner, "id": zlib.crc32(owner.encode()), "node_id": f"O_{owner}",
                "url": f"https://api.github.com/orgs/{owner}", "repos_url": f"https://api.github.com/orgs/{owner}/repos",
                "events_url": f"https://api.github.com/orgs/{owner}/events", "hooks_url": f"https://api.github.com/orgs/{owner}/hooks",
                "issues_url": f"https://api.github.com/orgs/{owner}/issues", "members_url": f"https://api.github.com/orgs/{owner}/members{{/member}}",
                "public_members_url": f"https://api.github.com/orgs/{owner}/public_members{{/member}}",
                "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "description": None}

    def _issue_comment_payload(self, action, repo, number, o):
        issue = self.issues[(repo, number)]
        comments = self.comments_on(repo, number)
        comment_id = o.pop("comment_id", None)
        record = self.comments[comment_id] if comment_id else (comments or [None])[-1]
        if record is None:
            raise ValueError(f"no comment on {repo}#{number}: add_comment first")
        payload = fixture(f"issue_comment/{action}.json")
        # The examples only comment on issues: on a PR, the issue carries "pull_request" (derived).
        payload["issue"] = self._issue_json(issue)
        payload["comment"] = self._comment_json(record)
        return payload, (record["user"], record["user_type"])

    def _installation_payload(self, action, repo, number, o):
        owner = repo.split("/")[0]
        payload = fixture(f"installation/{action}.json")
        installation = _rewrite(payload["installation"], {_FIXTURE_OWNER: owner})
        installation.update(app_id=self.app_id, app_slug=self.app_slug, account=_user(owner, "Organization"))
        payload["installation"] = installation
        repository = self._repository(repo)
        payload["repositories"] = [{k: repository[k] for k in ("id", "node_id", "name", "full_name", "private")}]
        return payload, (owner, "User")

    def _push_payload(self, action, repo, number, o):
        """A push to ``ref`` (default: the default branch) changing ``paths`` in one commit. The
        examples have no push: the payload is built here and checked against GitHub's webhook schema."""
        paths, ref = o.pop("paths", []), o.pop("ref", "refs/heads/main")
        before, after = o.pop("before", "0" * 40), o.pop("after", hashlib.sha1(repr(paths).encode()).hexdigest())
        owner = repo.split("/")[0]
        person = {"name": owner, "email": f"{owner}@example.org", "username": owner}
        commit = {"id": after, "tree_id": after, "distinct": True, "message": "Update config", "timestamp": _now(),
                  "url": f"https://github.com/{repo}/commit/{after}", "author": person, "committer": person,
                  "added": [], "removed": [], "modified": list(paths)}
        repository = self._repository(repo) | {"default_branch": "main", "master_branch": "main",
                                                "stargazers": 0, "pushed_at": int(time.time()),
                                                "created_at": int(time.time())}
        payload = {"ref": ref, "before": before, "after": after, "base_ref": None, "created": False,
                   "deleted": False, "forced": False, "compare": f"https://github.com/{repo}/compare/{before}...{after}",
                   "commits": [commit] if paths else [], "head_commit": commit, "pusher": person,
                   "repository": repository}
        _adapter(M.WebhookPush).validate_python({**payload, "sender": _user(owner)})
        return payload, (owner, "User")

    def _merge_group_payload(self, action, repo, number, o):
        """The queue's entry for PR ``number``: its group commit ``sha`` (default: a new one)."""
        pull = self._pull(repo, number)
        payload = json.loads((SHARED_FIXTURES / "github-extra/merge_group/checks_requested.json").read_text())
        sha = o.pop("sha", hashlib.sha1(f"queue:{repo}#{number}:{pull.head_sha}".encode()).hexdigest())
        group = payload["merge_group"]
        group.update(head_sha=sha, head_ref=f"refs/heads/gh-readonly-queue/{pull.base_ref}/pr-{number}-{pull.base_sha}",
                     base_sha=pull.base_sha, base_ref=f"refs/heads/{pull.base_ref}")
        group["head_commit"]["id"] = sha
        payload["action"] = action
        checked = {**payload, "repository": self._repository(repo), "sender": _user("github-merge-queue[bot]", "Bot")}
        _adapter(M.WebhookMergeGroupChecksRequested).validate_python(checked)
        return payload, ("github-merge-queue[bot]", "Bot")

    def _ping_payload(self, action, repo, number, o):
        payload = fixture("ping/with-app_id.json")
        payload["hook"]["app_id"] = self.app_id
        payload["repository"] = self._repository(repo)
        return payload, (repo.split("/")[0], "User")

    # -- rendering: the API's JSON shapes, from the fixtures --------------------------------

    def _pull(self, repo: str, number: int) -> FakePull:
        pull = self.issues[(repo, number)].pull
        if pull is None:
            raise KeyError(f"{repo}#{number} is not a pull request")
        return pull

    def _repository(self, repo: str) -> dict:
        owner, name = repo.split("/")
        data = _rewrite(fixture("pull_request/opened.json")["repository"],
                        {_FIXTURE_REPO: repo, f"/{_FIXTURE_OWNER}": f"/{owner}", _FIXTURE_NAME: name})
        return data | {"id": zlib.crc32(repo.encode()), "owner": _user(owner, "Organization"),
                       "has_discussions": False, "subscribers_count": 0, "network_count": 0}

    def _integration(self, app_id: int, slug: str) -> dict:
        app = _rewrite(fixture("check_run/completed.json")["check_run"]["app"], {"octocoders-linter": slug})
        return app | {"id": app_id, "slug": slug, "name": slug}

    def _labels_json(self, repo: str, names: list[str]) -> list[dict]:
        return [self._label_json(repo, n) for n in names]

    def _label_json(self, repo: str, name: str) -> dict:
        return _label(repo, name, self.labels[repo][name], self.label_descriptions.get(repo, {}).get(name))

    def _pull_json(self, issue: FakeIssue) -> dict:
        repo, n, pull = issue.repo, issue.number, issue.pull
        data = _rewrite(fixture("pull_request/opened.json")["pull_request"], {
            _FIXTURE_REPO: issue.repo, "pulls/2": f"pulls/{n}", "pull/2": f"pull/{n}", "issues/2": f"issues/{n}",
            _FIXTURE_HEAD: pull.head_sha, _FIXTURE_BASE: pull.base_sha,
        })
        repository = self._repository(repo)
        data.update(
            id=zlib.crc32(f"{repo}#{n}".encode()), number=n, title=issue.title, body=issue.body,
            user=_user(issue.author), labels=self._labels_json(repo, issue.labels), draft=pull.draft,
            state=issue.state, merged=pull.merged, changed_files=len(pull.files),
            created_at=issue.created_at, updated_at=issue.updated_at or issue.created_at,
            merged_at=issue.closed_at if pull.merged else None, closed_at=issue.closed_at,
            requested_teams=[self._team_json(repo.split("/")[0], t) for t in pull.requested_teams],
        )
        owner = repository["owner"]
        for side, ref, sha in (("head", pull.head_ref, pull.head_sha), ("base", pull.base_ref, pull.base_sha)):
            data[side].update(ref=ref, sha=sha, label=f"{owner['login']}:{ref}", repo=repository, user=owner)
        return data

    def _pull_refs(self, repo: str, sha: str) -> list[dict]:
        """The open PRs whose head is ``sha``, as check payloads list them."""
        return [
            {"url": f"https://api.github.com/repos/{repo}/pulls/{i.number}", "id": i.number, "number": i.number,
             "head": {"ref": i.pull.head_ref, "sha": sha, "repo": {"id": 1, "url": "", "name": repo}},
             "base": {"ref": i.pull.base_ref, "sha": i.pull.base_sha, "repo": {"id": 1, "url": "", "name": repo}}}
            for i in self.issues.values()
            if i.repo == repo and i.pull and i.state == "open" and i.pull.head_sha == sha
        ]

    def _issue_json(self, issue: FakeIssue) -> dict:
        n = issue.number
        data = _rewrite(fixture("issues/opened.json")["issue"],
                        {_FIXTURE_REPO: issue.repo, "issues/1": f"issues/{n}"})
        data.update(
            id=zlib.crc32(f"{issue.repo}#{n}".encode()), number=n, title=issue.title, body=issue.body,
            user=_user(issue.author), labels=self._labels_json(issue.repo, issue.labels), state=issue.state,
            comments=len(self.comments_on(issue.repo, n)), created_at=issue.created_at,
            updated_at=issue.updated_at or issue.created_at, assignee=None, assignees=[], milestone=None,
            closed_at=issue.closed_at, state_reason=issue.state_reason,
        )
        key = (issue.repo, n)
        blockers, blocking, subs = self.blocked_by.get(key, []), self._blocking(key), self.sub_issues.get(key, [])
        closed = [k for k in subs if self.issues[k].state == "closed"]
        data["issue_dependencies_summary"] = {
            "blocked_by": sum(self.issues[k].state == "open" for k in blockers), "total_blocked_by": len(blockers),
            "blocking": sum(self.issues[k].state == "open" for k in blocking), "total_blocking": len(blocking)}
        data["sub_issues_summary"] = {"total": len(subs), "completed": len(closed),
                                      "percent_completed": round(100 * len(closed) / len(subs)) if subs else 0}
        parent = self._parent(key)
        data["parent_issue_url"] = f"https://api.github.com/repos/{parent[0]}/issues/{parent[1]}" if parent else None
        if issue.pull:
            base = f"https://github.com/{issue.repo}/pull/{n}"
            data["pull_request"] = {"url": f"https://api.github.com/repos/{issue.repo}/pulls/{n}", "html_url": base,
                                    "diff_url": f"{base}.diff", "patch_url": f"{base}.patch",
                                    "merged_at": issue.closed_at if issue.pull.merged else None}
        return data

    def _comment_json(self, record: dict) -> dict:
        repo, cid = record["repo"], record["id"]
        data = _rewrite(fixture("issue_comment/created.json")["comment"], {_FIXTURE_REPO: repo, "492700400": str(cid)})
        return data | {
            "id": cid, "node_id": f"IC_{cid}", "body": record["body"],
            "url": f"https://api.github.com/repos/{repo}/issues/comments/{cid}",
            "html_url": f"https://github.com/{repo}/issues/{record['number']}#issuecomment-{cid}",
            "issue_url": f"https://api.github.com/repos/{repo}/issues/{record['number']}",
            "user": _user(record["user"], record["user_type"]),
            "created_at": record["created_at"], "updated_at": record["updated_at"],
        }

    def _review_json(self, repo: str, number: int, record: dict) -> dict:
        data = _rewrite(fixture("pull_request_review/submitted.json")["review"],
                        {_FIXTURE_REPO: repo, "pull/2": f"pull/{number}", "pulls/2": f"pulls/{number}"})
        return data | {
            "id": record["id"], "node_id": f"PRR_{record['id']}", "user": _user(record["user"]),
            "body": record["body"], "state": record["state"], "commit_id": record["commit_id"],
            "submitted_at": record["submitted_at"],
        }

    def _store_check_run(self, repo: str, sha: str, app: tuple[int, str], **fields: Any) -> int:
        run_id = next(self._ids)
        now = _now()
        self.check_runs[run_id] = {
            "id": run_id, "repo": repo, "head_sha": sha, "app": app, "details_url": None,
            "started_at": now, "completed_at": now if fields.get("status") == "completed" else None,
            "output": {"title": "", "summary": "", "text": ""}, **fields,
        }
        return run_id

    def _check_run_json(self, record: dict) -> dict:
        repo, rid = record["repo"], record["id"]
        data = fixture("check_run/completed.json")["check_run"]
        output = record["output"]
        return data | {
            "id": rid, "node_id": f"CR_{rid}", "head_sha": record["head_sha"], "name": record["name"],
            "status": record["status"], "conclusion": record["conclusion"],
            "url": f"https://api.github.com/repos/{repo}/check-runs/{rid}",
            "html_url": f"https://github.com/{repo}/runs/{rid}", "details_url": record["details_url"],
            "started_at": record["started_at"], "completed_at": record["completed_at"],
            "output": {"title": output.get("title") or None, "summary": output.get("summary") or None,
                       "text": output.get("text") or None, "annotations_count": 0,
                       "annotations_url": f"https://api.github.com/repos/{repo}/check-runs/{rid}/annotations"},
            "app": self._integration(*record["app"]), "pull_requests": [],
            "check_suite": {"id": zlib.crc32(f"{repo}@{record['head_sha']}:{record['app'][0]}".encode())},
        }

    def _status_json(self, repo: str, record: dict) -> dict:
        sid = record["id"]
        return {
            "url": f"https://api.github.com/repos/{repo}/statuses/{sid}", "avatar_url": None, "id": sid,
            "node_id": f"SC_{sid}", "state": record["state"], "description": record["description"],
            "target_url": record["target_url"], "context": record["context"],
            "created_at": record["created_at"], "updated_at": record["created_at"],
        }

    def _team_json(self, org: str, slug: str) -> dict:
        return {"id": zlib.crc32(f"{org}/{slug}".encode()), "node_id": f"T_{slug}", "name": slug, "slug": slug,
                "url": f"https://api.github.com/orgs/{org}/teams/{slug}",
                "html_url": f"https://github.com/orgs/{org}/teams/{slug}",
                "description": None, "privacy": "closed", "notification_setting": "notifications_enabled",
                "permission": "pull", "members_url": f"https://api.github.com/teams/1/members{{/member}}",
                "repositories_url": "https://api.github.com/teams/1/repos", "parent": None, "type": "organization"}

    # -- HTTP plumbing -----------------------------------------------------------------------

    @staticmethod
    def _validation_failed(resource: str, code: str, field: str) -> web.Response:
        """GitHub's 422 for a write it refuses, naming why in ``errors``."""
        body = {"message": "Validation Failed", "errors": [{"resource": resource, "code": code, "field": field}],
                "documentation_url": "https://docs.github.com/rest"}
        return web.json_response(body, status=422)

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return web.json_response(body, status=status)

    def _rate_headers(self) -> dict[str, str]:
        remaining = max(0, 5000 - self.charged)
        return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Used": str(5000 - remaining), "X-RateLimit-Resource": "core",
                "X-RateLimit-Reset": str(int(self.quota_reset_at or time.time() + 3600))}

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        record = Recorded(request.method, request.path, dict(request.query), None)
        self.requests.append(record)
        response = await self._answer(request, handler, record)
        record.status = response.status
        if response.status != 304:
            self.charged += 1
        for key, value in self._rate_headers().items():
            response.headers.setdefault(key, value)
        return response

    async def _answer(self, request: web.Request, handler, record: Recorded) -> web.StreamResponse:
        if self._down:
            return self._error(503, "Service Unavailable")
        if self._faults:
            return self._faults.pop(0)
        if web_page(request.path):  # github.com's web pages, not the API
            return await handler(request)
        raw = await request.read()
        if raw:
            try:
                record.json = json.loads(raw)
            except ValueError:
                self.violations.append(f"{request.method} {request.path}: body is not JSON")
                return self._error(400, "Problems parsing JSON")
        types = self._route_types.get(request.match_info.route)
        if types is None:
            self.violations.append(f"{request.method} {request.path}: not an endpoint the fake serves")
            return self._error(404, "Not Found")
        body_type, response_type = types
        record.route = request.match_info.route.resource.canonical
        actor = self._authenticate(request)
        if actor is None and record.route == "/app-manifests/{code}/conversions":  # the one-time code is the credential
            actor = Actor("anonymous", "User", None)
        if actor is None:
            return self._error(401, "Bad credentials")
        request[ACTOR] = actor
        if body_type is not None:
            try:
                _adapter(body_type).validate_python(record.json)
            except pydantic.ValidationError as e:
                errors = "; ".join(f"{err['loc']}: {err['msg']}" for err in e.errors()[:3])
                self.violations.append(f"{request.method} {request.path}: {errors}")
                return self._error(422, "Invalid request.")
        try:
            response = await handler(request)
        except KeyError as e:  # a repo, issue, comment... the fake does not have
            return self._error(404, f"Not Found: {e}")
        if response.status < 300 and response_type is not None and self.strict:
            self._check_response(request, response_type, json.loads(response.body))
        if request.method == "GET" and response.status == 200:
            etag = 'W/"%s"' % hashlib.sha256(response.body + actor.login.encode()).hexdigest()
            if request.headers.get("If-None-Match") == etag:
                response = web.Response(status=304)
            response.headers.update({"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
                                     "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP"})
        return response

    def _check_response(self, request: web.Request, response_type: Any, data: Any) -> None:
        try:
            _adapter(response_type).validate_python(data)
        except pydantic.ValidationError as e:
            errors = "; ".join(f"{err['loc']}: {err['msg']}" for err in e.errors()[:3])
            self.violations.append(f"response to {request.method} {request.path}: {errors}")

    def _authenticate(self, request: web.Request) -> Actor | None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if request.path == "/app" or request.path.startswith("/app/") or request.path.endswith("/installation"):
            if scheme.lower() != "bearer":
                return None
            try:
                claims = jwt.decode(credential, self._public_key, algorithms=["RS256"],
                                    options={"require": ["exp", "iat", "iss"]})
            except jwt.PyJWTError:
                return None
            if claims["iss"] != str(self.app_id):
                return None
            return Actor(self.bot_login, "Bot", (self.app_id, self.app_slug))
        if scheme.lower() not in ("token", "bearer"):
            return None
        if credential == self.user_token:
            return Actor(self.user_login, "User", ACTIONS_APP)
        if self.oauth.login_of(credential):  # a person signed in through the App's OAuth client
            return Actor(self.oauth.login_of(credential), "User", None)
        installation, expiry = self.tokens.get(credential, (None, 0))
        if installation is None or expiry < time.time():
            return None
        return Actor(self.bot_login, "Bot", (self.app_id, self.app_slug), installation)

    def _paginate(self, request: web.Request, items: list) -> tuple[list, dict[str, str]]:
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = max(int(request.query.get("page", 1)), 1)
        last = max(1, -(-len(items) // per_page))
        links = []
        url = request.url
        for rel, target in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if 1 <= target <= last and (rel in ("prev", "next") or page != target):
                links.append(f'<{url.update_query(page=target)}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return items[(page - 1) * per_page: page * per_page], headers

    def _list(self, request: web.Request, items: list) -> web.Response:
        page, headers = self._paginate(request, items)
        return web.json_response(page, headers=headers)

    @staticmethod
    def _repo(request: web.Request) -> str:
        return f"{request.match_info['owner']}/{request.match_info['repo']}"

    def _issue(self, request: web.Request) -> FakeIssue:
        return self.issues[(self._repo(request), int(request.match_info["number"]))]

    def _endpoints(self) -> list[tuple[str, str, Any, Any, Any]]:
        """(method, path, handler, request body type, response type) of every endpoint served."""
        r = "/repos/{owner}/{repo}"
        return [
            ("GET", "/app", self._get_app, None, M.Integration),
            ("POST", "/app/installations/{id}/access_tokens", self._create_token,
             M.AppInstallationsInstallationIdAccessTokensPostBody, M.InstallationToken),
            ("GET", "/user", self._get_user, None, M.SimpleUser),
            ("GET", "/user/repos", self._get_user_repos, None, list[M.Repository]),
            ("GET", "/orgs/{owner}/installation", self._get_installation, None, M.Installation),
            ("GET", "/users/{owner}/installation", self._get_installation, None, M.Installation),
            ("GET", f"{r}/pulls/{{number}}", self._get_pull, None, M.PullRequest),
            ("GET", f"{r}/pulls/{{number}}/files", self._get_files, None, list[M.DiffEntry]),
            ("GET", f"{r}/pulls/{{number}}/reviews", self._get_reviews, None, list[M.PullRequestReview]),
            ("POST", f"{r}/pulls/{{number}}/requested_reviewers", self._request_reviewers,
             Union[M.ReposOwnerRepoPullsPullNumberRequestedReviewersPostBodyAnyof0,
                   M.ReposOwnerRepoPullsPullNumberRequestedReviewersPostBodyAnyof1], M.PullRequestSimple),
            ("GET", f"{r}/commits/{{ref}}/check-runs", self._get_check_runs, None,
             M.ReposOwnerRepoCommitsRefCheckRunsGetResponse200),
            ("GET", f"{r}/commits/{{ref}}/status", self._get_combined_status, None, M.CombinedCommitStatus),
            ("GET", f"{r}/commits/{{sha}}/pulls", self._get_commit_pulls, None, list[M.PullRequestSimple]),
            ("POST", f"{r}/check-runs", self._create_check_run,
             Union[M.ReposOwnerRepoCheckRunsPostBodyOneof0, M.ReposOwnerRepoCheckRunsPostBodyOneof1], M.CheckRun),
            ("PATCH", f"{r}/check-runs/{{id}}", self._update_check_run,
             Union[M.ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof0,
                   M.ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof1], M.CheckRun),
            ("GET", f"{r}/pulls", self._list_pulls, None, list[M.PullRequestSimple]),
            ("GET", "/search/issues", self._search_issues, None, M.SearchIssuesGetResponse200),
            ("GET", f"{r}/issues", self._list_issues, None, list[M.Issue]),
            ("POST", f"{r}/issues", self._create_issue, M.ReposOwnerRepoIssuesPostBody, M.Issue),
            ("PATCH", f"{r}/issues/{{number}}", self._edit_issue, M.ReposOwnerRepoIssuesIssueNumberPatchBody, M.Issue),
            ("GET", f"{r}/issues/{{number}}", self._get_issue, None, M.Issue),
            ("GET", f"{r}/issues/{{number}}/comments", self._get_comments, None, list[M.IssueComment]),
            ("POST", f"{r}/issues/{{number}}/comments", self._create_comment,
             M.ReposOwnerRepoIssuesIssueNumberCommentsPostBody, M.IssueComment),
            ("PATCH", f"{r}/issues/comments/{{id}}", self._update_comment,
             M.ReposOwnerRepoIssuesCommentsCommentIdPatchBody, M.IssueComment),
            ("POST", f"{r}/issues/comments/{{id}}/reactions", self._create_reaction,
             M.ReposOwnerRepoIssuesCommentsCommentIdReactionsPostBody, M.Reaction),
            ("GET", f"{r}/issues/{{number}}/labels", self._get_issue_labels, None, list[M.Label]),
            ("POST", f"{r}/issues/{{number}}/labels", self._add_labels,
             Union[M.ReposOwnerRepoIssuesIssueNumberLabelsPostBodyOneof0, list[str],
                   list[M.ReposOwnerRepoIssuesIssueNumberLabelsPostBodyOneof2Items]], list[M.Label]),
            ("DELETE", f"{r}/issues/{{number}}/labels/{{name}}", self._remove_label, None, list[M.Label]),
            ("POST", f"{r}/labels", self._create_label, M.ReposOwnerRepoLabelsPostBody, M.Label),
            ("GET", f"{r}/issues/{{number}}/timeline", self._get_timeline, None, list[M.TimelineCrossReferencedEvent]),
            ("GET", f"{r}/issues/{{number}}/dependencies/blocked_by", self._get_blocked_by, None, list[M.Issue]),
            ("GET", f"{r}/issues/{{number}}/dependencies/blocking", self._get_blocking, None, list[M.Issue]),
            ("GET", f"{r}/issues/{{number}}/sub_issues", self._get_sub_issues, None, list[M.Issue]),
            ("GET", f"{r}/deployments", self._get_deployments, None, list[M.Deployment]),
            ("GET", f"{r}/deployments/{{id}}/statuses", self._get_deployment_statuses, None, list[M.DeploymentStatus]),
            ("POST", f"{r}/issues/{{number}}/dependencies/blocked_by", self._add_blocked_by,
             M.ReposOwnerRepoIssuesIssueNumberDependenciesBlockedByPostBody, M.Issue),
            ("GET", f"{r}/contents/{{path:.+}}", self._get_contents, None, M.ContentFile),
            ("GET", f"{r}/git/trees/{{tree_sha}}", self._get_tree, None, M.GitTree),
            ("GET", f"{r}/collaborators/{{user}}/permission", self._get_permission, None,
             M.RepositoryCollaboratorPermission),
            ("GET", "/orgs/{org}/teams/{slug}/members", self._get_team_members, None, list[M.SimpleUser]),
            ("POST", "/app-manifests/{code}/conversions", self._convert_manifest, None,
             M.AppManifestsCodeConversionsPostResponse201),
        ]

    # -- endpoints ---------------------------------------------------------------------------

    async def _convert_manifest(self, request):
        """GitHub's manifest flow: a one-time code (``manifest_codes``) becomes the App's credentials."""
        code = request.match_info["code"]
        if code not in self.manifest_codes:
            return self._error(404, "Not Found")
        self.manifest_codes.discard(code)
        app = self._integration(self.app_id, self.app_slug)
        return web.json_response({**app, "client_id": "Iv1.fake", "client_secret": "fake-client-secret",
                                  "webhook_secret": self.webhook_secret.decode(), "pem": self.private_key},
                                 status=201)

    async def _get_installation(self, request):
        """The App's installation on an account that has repositories here (GitHub: 404 otherwise)."""
        owner = request.match_info["owner"]
        if not any(repo.split("/")[0] == owner for repo, _ in self.issues) and not any(
                repo.split("/")[0] == owner for repo, _, _ in self.contents):
            return self._error(404, "Not Found")
        installation = _rewrite(fixture("installation/created.json")["installation"], {_FIXTURE_OWNER: owner})
        installation.update(id=self.installation_id, app_id=self.app_id, app_slug=self.app_slug,
                            account=_user(owner, "Organization"))
        return web.json_response(installation)

    async def _get_app(self, request):
        return web.json_response(self._integration(self.app_id, self.app_slug))

    async def _create_token(self, request):
        installation = int(request.match_info["id"])
        if installation not in self.installations:
            return self._error(404, "Not Found")
        token = f"ghs_{secrets.token_hex(18)}"
        expiry = datetime.now(timezone.utc) + timedelta(hours=1)
        self.tokens[token] = (installation, expiry.timestamp())
        return web.json_response({"token": token, "expires_at": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  "permissions": {"checks": "write", "pull_requests": "write", "issues": "write",
                                                  "contents": "read", "members": "read", "metadata": "read"},
                                  "repository_selection": "all"}, status=201)

    async def _get_user(self, request):
        actor = request[ACTOR]
        if actor.installation_id is not None:
            return self._error(403, "Resource not accessible by integration")
        return web.json_response(_user(actor.login, actor.type))

    async def _get_user_repos(self, request):
        """The repositories the person can read, sorted by full name (GitHub's default), paged."""
        actor = request[ACTOR]
        if actor.installation_id is not None or actor.type != "User":
            return self._error(403, "Resource not accessible by integration")
        repos = sorted(self.readers.get(actor.login, ()), key=str.lower)
        return self._list(request, [self._readable_repository(repo) for repo in repos])

    def _readable_repository(self, repo: str) -> dict:
        private = repo in self.private
        return self._full_repository(repo) | {
            "private": private, "visibility": "private" if private else "public",
            "permissions": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}}

    async def _get_pull(self, request):
        issue = self._issue(request)
        if issue.pull is None:
            return self._error(404, "Not Found")
        return web.json_response(self._pull_json(issue))

    async def _get_files(self, request):
        repo, pull = self._repo(request), self._issue(request).pull
        files = [
            {"sha": hashlib.sha1(f["filename"].encode()).hexdigest(), "filename": f["filename"], "status": f["status"],
             "additions": 1, "deletions": 0, "changes": 1,
             "blob_url": f"https://github.com/{repo}/blob/{pull.head_sha}/{f['filename']}",
             "raw_url": f"https://github.com/{repo}/raw/{pull.head_sha}/{f['filename']}",
             "contents_url": f"https://api.github.com/repos/{repo}/contents/{f['filename']}?ref={pull.head_sha}",
             "patch": "@@ -1 +1 @@"} | ({"previous_filename": f["previous_filename"]} if f["previous_filename"] else {})
            for f in pull.files[:FILES_LIMIT]
        ]
        return self._list(request, files)

    async def _get_reviews(self, request):
        repo, number = self._repo(request), int(request.match_info["number"])
        return self._list(request, [self._review_json(repo, number, r) for r in self.reviews.get((repo, number), [])])

    async def _request_reviewers(self, request):
        issue = self._issue(request)
        org = issue.repo.split("/")[0]
        body = await request.json()
        unknown = [t for t in body.get("team_reviewers", []) if (org, t) not in self.teams]
        if unknown:
            return self._error(422, f"Reviews may only be requested from collaborators: {unknown}")
        for team in body.get("team_reviewers", []):
            if team not in issue.pull.requested_teams:
                issue.pull.requested_teams.append(team)
        return web.json_response(self._pull_json(issue), status=201)

    async def _get_check_runs(self, request):
        repo, sha = self._repo(request), request.match_info["ref"]
        runs = self.check_runs_for(repo, sha, request.query.get("check_name"))
        if request.query.get("filter", "latest") == "latest":
            latest = {(r["name"], r["app"]): r for r in runs}
            runs = list(latest.values())
        runs = sorted(runs, key=lambda r: -r["id"])
        page, headers = self._paginate(request, [self._check_run_json(r) for r in runs])
        return web.json_response({"total_count": len(runs), "check_runs": page}, headers=headers)

    async def _get_combined_status(self, request):
        repo, sha = self._repo(request), request.match_info["ref"]
        latest = {s["context"]: s for s in self.statuses.get((repo, sha), [])}
        statuses = sorted(latest.values(), key=lambda s: -s["id"])
        states = {s["state"] for s in statuses}
        if states & {"failure", "error"}:
            state = "failure"
        else:
            state = "pending" if not states or "pending" in states else "success"
        page, headers = self._paginate(request, [self._status_json(repo, s) for s in statuses])
        return web.json_response({
            "state": state, "statuses": page, "sha": sha, "total_count": len(statuses),
            "repository": self._repository(repo),
            "commit_url": f"https://api.github.com/repos/{repo}/commits/{sha}",
            "url": f"https://api.github.com/repos/{repo}/commits/{sha}/status",
        }, headers=headers)

    async def _list_pulls(self, request):
        """State and base filters; sorted by creation, or by the last change with sort=updated."""
        repo, q = self._repo(request), request.query
        pulls = [i for i in self.issues.values() if i.repo == repo and i.pull
                 and q.get("state", "open") in ("all", i.state) and q.get("base", i.pull.base_ref) == i.pull.base_ref]
        pulls.sort(key=(lambda i: i.updated) if q.get("sort") == "updated" else (lambda i: i.number),
                   reverse=q.get("direction", "desc" if q.get("sort") == "updated" else "asc") == "desc")
        return self._list(request, [self._pull_json(i) for i in pulls])

    async def _search_issues(self, request):
        """The qualifiers the bot uses: is:pr, is:open, user:OWNER, updated:FROM..TO; sort=updated."""
        words = request.query.get("q", "").split()
        owner = next((w.split(":", 1)[1] for w in words if w.startswith(("user:", "org:"))), None)
        window = next((w.split(":", 1)[1].split("..") for w in words if w.startswith("updated:")), None)

        def updated(i: FakeIssue) -> datetime:
            return datetime.fromisoformat(i.updated_at or i.created_at)

        found = [i for i in self.issues.values()
                 if ("is:pr" not in words or i.pull) and ("is:open" not in words or i.state == "open")
                 and (owner is None or i.repo.split("/")[0] == owner)
                 and (window is None or datetime.fromisoformat(window[0]) <= updated(i) <= datetime.fromisoformat(window[1]))]
        if window is not None:
            found.sort(key=updated, reverse=request.query.get("order", "desc") == "desc")
        else:
            found.sort(key=lambda i: i.updated, reverse=request.query.get("order", "desc") == "desc")
        page, headers = self._paginate(request, [self._issue_json(i) | {"score": 1.0} for i in found])
        return web.json_response({"total_count": len(found), "incomplete_results": False, "items": page,
                                  "search_type": "lexical"}, headers=headers)

    async def _get_commit_pulls(self, request):
        repo, sha = self._repo(request), request.match_info["sha"]
        pulls = [self._pull_json(i) for i in self.issues.values() if i.repo == repo and i.pull and sha in i.pull.shas]
        return self._list(request, pulls)

    async def _create_check_run(self, request):
        repo, body, actor = self._repo(request), await request.json(), request[ACTOR]
        status = body.get("status", "completed" if "conclusion" in body else "queued")
        run_id = self._store_check_run(
            repo, body["head_sha"], actor.app, name=body["name"], status=status,
            conclusion=body.get("conclusion"), details_url=body.get("details_url"),
            output=body.get("output") or {"title": "", "summary": "", "text": ""},
        )
        return web.json_response(self._check_run_json(self.check_runs[run_id]), status=201)

    async def _update_check_run(self, request):
        record, body, actor = self.check_runs[int(request.match_info["id"])], await request.json(), request[ACTOR]
        if record["repo"] != self._repo(request):
            return self._error(404, "Not Found")
        if record["app"] != actor.app:
            return self._error(403, f"Invalid app_id `{actor.app[0]}` - check run can only be modified by its creator")
        if "conclusion" in body:
            body.setdefault("status", "completed")
        if body.get("status") in ("queued", "in_progress"):
            body.setdefault("conclusion", None)
        record.update({k: v for k, v in body.items() if k in ("name", "status", "conclusion", "details_url", "output")})
        record["completed_at"] = _now() if record["status"] == "completed" else None
        return web.json_response(self._check_run_json(record))

    async def _list_issues(self, request):
        repo, q = self._repo(request), request.query
        found = [i for (r, _), i in sorted(self.issues.items()) if r == repo
                 and q.get("state", "open") in ("all", i.state) and (not q.get("creator") or i.author == q["creator"])]
        return self._list(request, [self._issue_json(i) for i in found])

    async def _create_issue(self, request):
        repo, body, actor = self._repo(request), await request.json(), request[ACTOR]
        number = max([0, *(n for r, n in self.issues if r == repo)]) + 1
        issue = self.add_issue(repo, number, body["title"], body.get("body") or "", actor.login)
        return web.json_response(self._issue_json(issue), status=201)

    async def _edit_issue(self, request):
        issue, body = self._issue(request), await request.json()
        issue.body = body.get("body", issue.body)
        issue.title = body.get("title") or issue.title
        return web.json_response(self._issue_json(issue))

    async def _get_issue(self, request):
        return web.json_response(self._issue_json(self._issue(request)))

    async def _get_comments(self, request):
        issue = self._issue(request)
        return self._list(request, [self._comment_json(c) for c in self.comments_on(issue.repo, issue.number)])

    async def _create_comment(self, request):
        issue, body, actor = self._issue(request), await request.json(), request[ACTOR]
        comment_id = self.add_comment(issue.repo, issue.number, actor.login, body["body"], actor.type)
        return web.json_response(self._comment_json(self.comments[comment_id]), status=201)

    async def _update_comment(self, request):
        record = self.comments[int(request.match_info["id"])]
        if record["repo"] != self._repo(request):
            return self._error(404, "Not Found")
        record.update(body=(await request.json())["body"], updated_at=_now())
        return web.json_response(self._comment_json(record))

    async def _create_reaction(self, request):
        comment_id, actor = int(request.match_info["id"]), request[ACTOR]
        content = (await request.json())["content"]
        self.comments[comment_id]  # 404 for an unknown comment
        reactions = self.reactions.setdefault(comment_id, [])
        existing = next((r for r in reactions if (r["user"], r["content"]) == (actor.login, content)), None)
        reaction = existing or {"id": next(self._ids), "user": actor.login, "content": content, "created_at": _now()}
        if not existing:
            reactions.append(reaction)
        return web.json_response({"id": reaction["id"], "node_id": f"REA_{reaction['id']}", "content": content,
                                  "user": _user(actor.login, actor.type), "created_at": reaction["created_at"]},
                                 status=200 if existing else 201)

    async def _get_issue_labels(self, request):
        issue = self._issue(request)
        return self._list(request, self._labels_json(issue.repo, issue.labels))

    async def _add_labels(self, request):
        issue, body = self._issue(request), await request.json()
        names = body["labels"] if isinstance(body, dict) else body
        names = [n if isinstance(n, str) else n["name"] for n in names]
        self.set_labels(issue.repo, issue.number, issue.labels + names)
        return web.json_response(self._labels_json(issue.repo, issue.labels))

    async def _remove_label(self, request):
        issue, name = self._issue(request), request.match_info["name"]
        if name not in issue.labels:
            return self._error(404, "Label does not exist")
        issue.labels.remove(name)
        return web.json_response(self._labels_json(issue.repo, issue.labels))

    async def _create_label(self, request):
        """GitHub's answers: 201 with the label; 422 ``already_exists`` for a name the repository has
        (ignoring case), 422 ``invalid`` for a colour that is not six hex digits or a description
        over 100 characters."""
        repo, body = self._repo(request), await request.json()
        name, color, description = body["name"], body.get("color", DEFAULT_LABEL_COLOR), body.get("description")
        labels = self.labels.setdefault(repo, {})
        if any(existing.casefold() == name.casefold() for existing in labels):
            return self._validation_failed("Label", "already_exists", "name")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            return self._validation_failed("Label", "invalid", "color")
        if description is not None and len(description) > 100:
            return self._validation_failed("Label", "invalid", "description")
        labels[name] = color.lower()
        if description is not None:
            self.label_descriptions.setdefault(repo, {})[name] = description
        return web.json_response(self._label_json(repo, name), status=201)

    async def _get_timeline(self, request):
        issue = self._issue(request)
        events = []
        for from_repo, from_number in self.cross_references.get((issue.repo, issue.number), []):
            source = self._issue_json(self.issues[(from_repo, from_number)])
            source["repository"] = self._repository(from_repo)
            events.append({"event": "cross-referenced", "actor": source["user"], "created_at": source["created_at"],
                           "updated_at": source["created_at"], "source": {"type": "issue", "issue": source}})
        return self._list(request, events)

    def _issues_list(self, request, keys: list[tuple[str, int]]) -> web.Response:
        items = []
        for key in keys:
            item = self._issue_json(self.issues[key])
            item["repository"] = self._full_repository(key[0])
            items.append(item)
        return self._list(request, items)

    async def _get_blocked_by(self, request):
        issue = self._issue(request)
        return self._issues_list(request, self.blocked_by.get((issue.repo, issue.number), []))

    async def _get_blocking(self, request):
        issue = self._issue(request)
        return self._issues_list(request, self._blocking((issue.repo, issue.number)))

    async def _get_sub_issues(self, request):
        issue = self._issue(request)
        return self._issues_list(request, self.sub_issues.get((issue.repo, issue.number), []))

    def _deployment_json(self, repo: str, d: dict) -> dict:
        data = _rewrite(json.loads((SHARED_FIXTURES / "github-extra/deployment_status/created.json").read_text())["deployment"],
                        {"Codertocat/Hello-World": repo})
        url = f"https://api.github.com/repos/{repo}/deployments/{d['id']}"
        return data | {"id": d["id"], "sha": d["sha"], "ref": d["sha"], "environment": d["environment"],
                       "original_environment": d["environment"], "created_at": d["created_at"],
                       "updated_at": d["created_at"], "url": url, "statuses_url": f"{url}/statuses"}

    async def _get_deployments(self, request):
        repo, environment = self._repo(request), request.query.get("environment")
        found = [self._deployment_json(repo, d) for d in self.deployments.get(repo, [])
                 if environment is None or d["environment"] == environment]
        return self._list(request, found)

    async def _get_deployment_statuses(self, request):
        repo, deployment_id = self._repo(request), int(request.match_info["id"])
        d = next((d for d in self.deployments.get(repo, []) if d["id"] == deployment_id), None)
        if d is None:
            return self._error(404, "Not Found")
        status = json.loads((SHARED_FIXTURES / "github-extra/deployment_status/created.json").read_text())["deployment_status"]
        status = _rewrite(status, {"Codertocat/Hello-World": repo}) | {
            "id": d["id"] + 1, "state": d["state"], "environment": d["environment"], "created_at": d["created_at"],
            "updated_at": d["created_at"]}
        return self._list(request, [status])

    async def _add_blocked_by(self, request):
        issue, body = self._issue(request), await request.json()
        blocking = next((k for k in self.issues if zlib.crc32(f"{k[0]}#{k[1]}".encode()) == body["issue_id"]), None)
        if blocking is None:
            return self._error(404, "Not Found")
        if blocking in self.blocked_by.get((issue.repo, issue.number), []):
            return self._error(422, "Validation Failed: the dependency exists")
        self.add_dependency(issue.repo, issue.number, *blocking)
        return web.json_response(self._issue_json(self.issues[blocking]), status=201)

    async def _get_contents(self, request):
        repo, path = self._repo(request), request.match_info["path"]
        ref = request.query.get("ref", "main")
        text = self.contents.get((repo, ref, path))
        if text is None:
            return self._error(404, "Not Found")
        raw = text.encode()
        url = f"https://api.github.com/repos/{repo}/contents/{path}?ref={ref}"
        sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
        html = f"https://github.com/{repo}/blob/{ref}/{path}"
        git = f"https://api.github.com/repos/{repo}/git/blobs/{sha}"
        return web.json_response({
            "type": "file", "encoding": "base64", "size": len(raw), "name": path.rsplit("/", 1)[-1], "path": path,
            "content": base64.encodebytes(raw).decode(), "sha": sha, "url": url, "git_url": git, "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo}/{ref}/{path}",
            "_links": {"self": url, "git": git, "html": html},
        })

    async def _get_tree(self, request):
        """A tree of the files set with ``set_file``: the root by a branch name, a subtree by its sha."""
        repo, key = self._repo(request), request.match_info["tree_sha"]
        if self.refuse_trees:
            return self._error(self.refuse_trees, "Git Repository is empty.")
        ref, base = self._trees.get((repo, key), ("main" if key == "HEAD" else key, ""))  # HEAD: the default branch
        entries: dict[str, tuple[str, str, int | None]] = {}  # name -> (type, sha, size)
        for (r, rf, path), text in sorted(self.contents.items()):
            if r != repo or rf != ref or not path.startswith(base):
                continue
            head, sep, _ = path[len(base):].partition("/")
            if sep:
                below = sorted((p, t) for (r2, rf2, p), t in self.contents.items()
                               if r2 == repo and rf2 == ref and p.startswith(base + head + "/"))
                sha = hashlib.sha1(repr(below).encode()).hexdigest()
                self._trees[(repo, sha)] = (ref, base + head + "/")
                entries[head] = ("tree", sha, None)
            else:
                raw = text.encode()
                entries[head] = ("blob", hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest(), len(raw))
        sha = hashlib.sha1(repr(sorted(entries.items())).encode()).hexdigest()
        api = f"https://api.github.com/repos/{repo}/git"
        tree = [{"path": name, "mode": "040000" if kind == "tree" else "100644", "type": kind, "sha": s,
                 **({"size": size} if size is not None else {}),
                 "url": f"{api}/{'trees' if kind == 'tree' else 'blobs'}/{s}"} for name, (kind, s, size) in entries.items()]
        return web.json_response({"sha": sha, "url": f"{api}/trees/{sha}", "truncated": False, "tree": tree})

    async def _get_permission(self, request):
        repo, user = self._repo(request), request.match_info["user"]
        permission = self.permissions.get((repo, user))
        if permission is None:
            return self._error(404, f"{user} is not a user")
        return web.json_response({"permission": permission, "role_name": permission,
                                  "user": _user(user) | {"role_name": permission}})

    async def _get_team_members(self, request):
        members = self.teams[(request.match_info["org"], request.match_info["slug"])]
        return self._list(request, [_user(m) for m in members])
