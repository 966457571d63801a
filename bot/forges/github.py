"""Every GitHub API call the bot makes: githubkit with GitHub App (or token) auth.

Reads are conditional (``If-None-Match`` with the ETag of the last answer, kept per installation):
a re-read of unchanged data is a 304 that GitHub does not count against the rate limit, and
nothing is ever served from a cache without asking GitHub, so a snapshot is never stale.
githubkit's own HTTP cache (hishel) is off: it would revalidate too (githubkit sends
``Cache-Control: no-cache``) but hides which answers were 304s, which ``calls`` counts.

Failures are retried by githubkit's ``auto_retry`` with ``RetryPolicy``: 5xx, timeouts and
connection errors with exponential backoff; rate limits (403/429 with ``Retry-After`` or
``X-RateLimit-Reset``) after the wait GitHub asks for, when it is short enough. What still fails
raises ``ForgeError``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Iterable, Mapping
from urllib.parse import quote

import httpx
import orjson
from cachetools import LRUCache
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.auth.base import BaseAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RetryOption

from ..model import (
    ChangedFile,
    CheckResult,
    Comment,
    Issue,
    PullRequest,
    Review,
    ReviewState,
    State,
)
from .base import ForgeError, Report

log = logging.getLogger(__name__)

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
STICKY_MARKER = "<!-- nexus-bot:dod -->"
VERDICT_MARKER = "<!-- nexus-verdict"
MAX_TEXT = 65535  # GitHub's limit on a check run summary (and, +1, on a comment body)
ETAG_CACHE_BYTES = 8 * 1024 * 1024  # per installation: the bodies behind the ETags of conditional reads
FILES_LIMIT = 3000  # GitHub lists at most this many files of a pull request
DEFAULT_LABEL_COLOR = "ededed"  # the colour GitHub gives a label it creates on the fly
CUT_NOTE = "\n\n*(cut: the full report is longer than GitHub allows)*\n\n"
FILE_STATUSES = {"copied": "added", "changed": "modified", "unchanged": "modified"}


@dataclass(frozen=True)
class RetryPolicy:
    """githubkit ``auto_retry`` decision: which failures to retry, and after how long."""

    attempts: int = 4  # tries of one request, in all
    backoff: float = 0.5  # seconds before the second try, doubled for each next one
    max_backoff: float = 8.0
    max_wait: float = 60.0  # the longest rate-limit wait honoured; a longer one fails at once

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count + 1 >= self.attempts:
            return RetryOption(False)
        exc = _cause(exc)
        if isinstance(exc, RateLimitExceeded):
            wait = exc.retry_after.total_seconds()
            if wait > self.max_wait:
                return RetryOption(False)
        elif isinstance(exc, RequestFailed):
            if exc.response.status_code < 500 and exc.response.status_code != 429:
                return RetryOption(False)
            wait = min(self.backoff * 2**retry_count, self.max_backoff)
        elif isinstance(exc, RequestError):  # timeout, connection error
            wait = min(self.backoff * 2**retry_count, self.max_backoff)
        else:
            return RetryOption(False)
        log.warning("GitHub %s, retry %d in %.2fs", _describe(exc), retry_count + 1, wait)
        # githubkit sleeps 60 s on a zero (falsy) delay: never hand it one.
        return RetryOption(True, timedelta(seconds=max(wait, 0.001)))


def _cause(exc: GitHubException) -> GitHubException:
    """The failure itself: githubkit wraps one raised during auth (the token request) in RequestError."""
    inner = getattr(exc, "exc", None)
    return inner if isinstance(exc, RequestError) and isinstance(inner, GitHubException) else exc


def _describe(exc: GitHubException) -> str:
    if isinstance(exc, RequestFailed):
        return f"{exc.request.method} {exc.request.url.path}: {exc.response.status_code}"
    return f"request failed: {type(getattr(exc, 'exc', exc)).__name__}"


def _forge_error(exc: GitHubException) -> ForgeError:
    exc = _cause(exc)
    status = exc.response.status_code if isinstance(exc, RequestFailed) else None
    retry_after = exc.retry_after.total_seconds() if isinstance(exc, RateLimitExceeded) else None
    return ForgeError(f"GitHub {_describe(exc)}", status=status, retry_after=retry_after)


@dataclass
class Calls:
    """HTTP requests sent to GitHub; ``charged`` leaves out the 304s, which cost no rate limit."""

    total: int = 0
    charged: int = 0


class _Pool(httpx.AsyncBaseTransport):
    """One connection pool kept across the short-lived clients githubkit opens for each request."""

    def __init__(self) -> None:
        self._transport = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Called by githubkit after every request: the pool outlives it."""

    async def shutdown(self) -> None:
        await self._transport.aclose()


@dataclass(frozen=True)
class _Settings:
    api_url: str
    timeout: float
    retry: RetryPolicy
    pool: _Pool
    cache: MemCacheStrategy  # githubkit keeps JWTs and installation tokens here, until shortly before expiry

    def client(self, auth: BaseAuthStrategy, calls: Calls) -> GitHub:
        async def count(response: httpx.Response) -> None:
            calls.total += 1
            calls.charged += response.status_code != 304

        return GitHub(
            auth,
            base_url=self.api_url,
            user_agent="nexus-bot",
            timeout=self.timeout,
            async_transport=self.pool,
            async_event_hooks={"response": [count]},
            cache_strategy=self.cache,
            http_cache=False,
            auto_retry=self.retry,
        )


def _settings(api_url: str, timeout: float, retry: RetryPolicy) -> _Settings:
    # A token cache of its own: githubkit's default one is process-wide and its keys ignore the API URL.
    return _Settings(api_url.rstrip("/"), timeout, retry, _Pool(), MemCacheStrategy())


class GitHubApp:
    """A GitHub App: one ``GitHubForge`` per installation, all sharing one connection pool."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str = API_URL,
        *,
        app_slug: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
    ):
        self.app_id = app_id
        self.app_slug = app_slug
        self.calls = Calls()  # the app's own calls (GET /app)
        self._auth = AppAuthStrategy(app_id, private_key)
        self._settings = _settings(api_url, timeout, retry)
        self._github = self._settings.client(self._auth, self.calls)
        self._forges: LRUCache[int, GitHubForge] = LRUCache(maxsize=1024)

    def forge_for(self, installation_id: int) -> GitHubForge:
        forge = self._forges.get(installation_id)
        if forge is None:
            calls = Calls()
            github = self._settings.client(self._auth.as_installation(installation_id), calls)
            forge = self._forges[installation_id] = GitHubForge(github, calls, app=self)
        return forge

    async def slug(self) -> str:
        if self.app_slug is None:
            try:
                response = await self._github.arequest("GET", "/app", headers={"X-GitHub-Api-Version": API_VERSION})
            except GitHubException as e:
                raise _forge_error(e) from e
            self.app_slug = response.json()["slug"]
        return self.app_slug

    async def bot_login(self) -> str:
        """The login the app writes as: ``<slug>[bot]``."""
        return f"{await self.slug()}[bot]"

    async def aclose(self) -> None:
        await self._settings.pool.shutdown()


class GitHubForge:
    """The ``Forge`` for one GitHub installation (or one token)."""

    name = "github"

    def __init__(
        self,
        github: GitHub,
        calls: Calls,
        *,
        app: GitHubApp | None = None,
        bot_login: str | None = None,
        pool: _Pool | None = None,
    ):
        self.calls = calls
        self._bot_login = bot_login
        self._github = github
        self._app = app
        self._pool = pool  # set when this forge owns its connection pool (token mode)
        # URL -> (ETag, raw JSON, next page): raw bytes are several times smaller than parsed objects
        self._etags: LRUCache[str, tuple[str, bytes, str | None]] = LRUCache(
            maxsize=ETAG_CACHE_BYTES, getsizeof=lambda entry: len(entry[1]) + 200)

    @classmethod
    def from_token(
        cls,
        token: str,
        api_url: str = API_URL,
        *,
        bot_login: str | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
    ) -> GitHubForge:
        """A forge acting with a personal access token or ``GITHUB_TOKEN`` (``bot_login``: the
        login it writes as; asked of ``GET /user`` when needed and not given)."""
        settings = _settings(api_url, timeout, retry)
        calls = Calls()
        return cls(settings.client(TokenAuthStrategy(token), calls), calls, bot_login=bot_login, pool=settings.pool)

    @property
    def bot_login(self) -> str | None:
        """The login this forge writes as, once known (see ``GitHubApp.bot_login``)."""
        if self._app:
            return f"{self._app.app_slug}[bot]" if self._app.app_slug else None
        return self._bot_login

    async def aclose(self) -> None:
        if self._pool:
            await self._pool.shutdown()

    # -- HTTP ---------------------------------------------------------------------------------

    async def _request(self, method: str, url: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        """The answer of one call; None for a 404 when ``missing_ok``. Raises ForgeError."""
        headers = {"X-GitHub-Api-Version": API_VERSION, **kwargs.pop("headers", {})}
        try:
            return await self._github.arequest(method, url, headers=headers, **kwargs)
        except GitHubException as e:
            if missing_ok and isinstance(e, RequestFailed) and e.response.status_code == 404:
                return None
            raise _forge_error(e) from e

    async def _get(
        self, url: str, params: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> tuple[Any, str | None]:
        """(JSON, URL of the next page) of a conditional GET; (None, None) for a 404 when ``missing_ok``."""
        key = str(httpx.URL(url, params=params))
        cached = self._etags.get(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = await self._request("GET", url, params=params, headers=headers, missing_ok=missing_ok)
        if response is None:
            self._etags.pop(key, None)
            return None, None
        if response.status_code == 304 and cached:
            return orjson.loads(cached[1]), cached[2]
        raw = response.content
        data = orjson.loads(raw)
        next_url = response.raw_response.links.get("next", {}).get("url")
        etag = response.headers.get("etag")
        if etag and len(raw) < ETAG_CACHE_BYTES // 8:
            self._etags[key] = (etag, raw, next_url)
        return data, next_url

    async def _pages(self, url: str, params: Mapping[str, Any] | None = None, *, key: str | None = None,
                     limit: int | None = None, missing_ok: bool = False) -> list:
        """Every item of a paginated list (under ``key`` when the list is wrapped in an object)."""
        items: list = []
        next_url: str | None = url
        while next_url and (limit is None or len(items) < limit):
            data, next_url = await self._get(next_url, params, missing_ok=missing_ok)
            if data is None:
                return []
            items.extend(data[key] if key else data)
            params = None  # the next page's URL carries them
        return items[:limit]

    async def login(self) -> str:
        """The login this forge writes as (asked of GitHub the first time)."""
        return (await self._identity())[0]

    async def _identity(self) -> tuple[str, str | None]:
        """(login this forge writes as, slug of the app its check runs belong to)."""
        if self._app:
            slug = await self._app.slug()
            return f"{slug}[bot]", slug
        if self._bot_login is None:
            data, _ = await self._get("/user")
            self._bot_login = data["login"]
        return self._bot_login, None

    # -- reads --------------------------------------------------------------------------------

    async def pull_request(self, repo: str, number: int) -> PullRequest:
        pr, _ = await self._get(f"/repos/{repo}/pulls/{number}")
        sha = pr["head"]["sha"]
        files, reviews, runs, status, comments = await _gather(
            self._pages(f"/repos/{repo}/pulls/{number}/files", {"per_page": 100}, limit=FILES_LIMIT),
            self._pages(f"/repos/{repo}/pulls/{number}/reviews", {"per_page": 100}),
            self._pages(f"/repos/{repo}/commits/{sha}/check-runs", {"per_page": 100}, key="check_runs"),
            self._pages(f"/repos/{repo}/commits/{sha}/status", {"per_page": 100}, key="statuses"),
            self._comments(repo, number),
        )
        return PullRequest(
            forge=self.name,
            repo=repo,
            number=number,
            title=pr["title"],
            body=pr.get("body") or "",
            author=_login(pr.get("user")),
            base_ref=pr["base"]["ref"],
            head_ref=pr["head"]["ref"],
            head_sha=sha,
            labels=tuple(label["name"] for label in pr.get("labels") or ()),
            files=tuple(
                ChangedFile(f["filename"], FILE_STATUSES.get(f["status"], f["status"]), f.get("previous_filename"))
                for f in files
            ),
            files_truncated=pr.get("changed_files", 0) > len(files),
            reviews=tuple(_review(r) for r in reviews),
            checks=tuple(map(_check_run, runs)) + tuple(map(_status, status)),
            comments=comments,
            draft=bool(pr.get("draft")),
            state=pr["state"],
            merged=bool(pr.get("merged")),
            url=pr.get("html_url") or "",
        )

    async def issue(self, repo: str, number: int) -> Issue:
        data, _ = await self._get(f"/repos/{repo}/issues/{number}")
        return Issue(
            forge=self.name,
            repo=repo,
            number=number,
            title=data["title"],
            body=data.get("body") or "",
            author=_login(data.get("user")),
            labels=tuple(label["name"] for label in data.get("labels") or ()),
            state=data["state"],
            comments=await self._comments(repo, number),
            is_pull_request=bool(data.get("pull_request")),
            url=data.get("html_url") or "",
        )

    async def _comments(self, repo: str, number: int) -> tuple[Comment, ...]:
        return tuple(map(_comment, await self._pages(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100})))

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        """The file on ``ref``; an empty ``ref`` means the default branch."""
        params = {"ref": ref} if ref else None
        data, _ = await self._get(f"/repos/{repo}/contents/{quote(path)}", params, missing_ok=True)
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data["content"]).decode("utf-8", errors="replace")

    async def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        pulls = await self._pages(f"/repos/{repo}/commits/{sha}/pulls", {"per_page": 100})
        return [p["number"] for p in pulls if p["state"] == "open"]

    async def team_members(self, org: str, team: str) -> frozenset[str]:
        members = await self._pages(f"/orgs/{org}/teams/{team}/members", {"per_page": 100}, missing_ok=True)
        return frozenset(m["login"] for m in members)

    async def permission(self, repo: str, user: str) -> str:
        data, _ = await self._get(f"/repos/{repo}/collaborators/{quote(user)}/permission", missing_ok=True)
        return data["permission"] if data else "none"

    async def timeline_references(self, repo: str, number: int, *, open_pulls_only: bool = False) -> list[tuple[str, int]]:
        """The issues and PRs that mention this one (cross-references), oldest first; with
        ``open_pulls_only``, only the open pull requests among them."""
        events = await self._pages(f"/repos/{repo}/issues/{number}/timeline", {"per_page": 100})
        refs: dict[tuple[str, int], None] = {}
        for event in events:
            source = (event.get("source") or {}).get("issue") if event.get("event") == "cross-referenced" else None
            if source and open_pulls_only and not (source.get("pull_request") and source.get("state") == "open"):
                continue
            if source:
                full_name = (source.get("repository") or {}).get("full_name")
                full_name = full_name or source["repository_url"].split("/repos/", 1)[1]
                refs[(full_name, source["number"])] = None
        return list(refs)

    # -- writes -------------------------------------------------------------------------------

    async def publish_verdict(self, pr: PullRequest, report: Report) -> None:
        """One check run named ``report.check_name`` per head sha: updated when there, else created."""
        _, slug = await self._identity()
        existing = next(
            (c for c in pr.checks
             if c.source == "check_run" and c.name == report.check_name and (slug is None or c.app_slug == slug)),
            None,
        )
        state = report.verdict.state
        body: dict[str, Any] = {
            "name": report.check_name,
            "output": {"title": report.title, "summary": fit(report.summary, MAX_TEXT)},
        }
        if state is State.PENDING:
            body["status"] = "in_progress"
        else:
            body["status"] = "completed"
            body["conclusion"] = "success" if state is State.PASSED else "failure"
        if report.target_url:
            body["details_url"] = report.target_url
        if existing and _shows(existing, body) and not report.always_write:
            pass  # the check already says exactly this: a write would only cost quota and an ETag
        elif existing:
            await self._request("PATCH", f"/repos/{pr.repo}/check-runs/{existing.id}", json=body)
        else:
            await self._request("POST", f"/repos/{pr.repo}/check-runs", json={**body, "head_sha": pr.head_sha})
        if report.sticky_comment:
            await self.upsert_comment(pr.repo, pr.number, STICKY_MARKER, f"{STICKY_MARKER}\n{report.summary}")

    async def set_labels(
        self, repo: str, number: int, add: Iterable[str], remove: Iterable[str], colors: Mapping[str, str] = {}
    ) -> None:
        """Converge with a conditional read of the labels (a free 304 when nothing changed): add
        the missing ones, remove the present ones; labels GitHub creates on the way get ``colors``."""
        labels = await self._pages(f"/repos/{repo}/issues/{number}/labels", {"per_page": 100})
        current = {label["name"] for label in labels}
        missing = [name for name in dict.fromkeys(add) if name not in current]
        present = [name for name in dict.fromkeys(remove) if name in current and name not in missing]
        if missing:
            response = await self._request("POST", f"/repos/{repo}/issues/{number}/labels", json={"labels": missing})
            for label in response.json():
                color = colors.get(label["name"], "").lstrip("#").lower()
                if label["name"] in missing and color and label["color"] == DEFAULT_LABEL_COLOR != color:
                    url = f"/repos/{repo}/labels/{quote(label['name'], safe='')}"
                    await self._request("PATCH", url, json={"color": color})
        for name in present:
            url = f"/repos/{repo}/issues/{number}/labels/{quote(name, safe='')}"
            await self._request("DELETE", url, missing_ok=True)

    async def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> int:
        """This bot's comment carrying ``marker`` edited in place (never anyone else's), or created."""
        login, _ = await self._identity()
        body = fit(body if marker in body else f"{marker}\n{body}", MAX_TEXT)
        comments = await self._comments(repo, number)
        mine = next((c for c in comments if c.author == login and marker in c.body), None)
        if mine is None:
            return await self.post_comment(repo, number, body)
        if mine.body != body:
            await self._request("PATCH", f"/repos/{repo}/issues/comments/{mine.id}", json={"body": body})
        return mine.id

    async def post_comment(self, repo: str, number: int, body: str) -> int:
        response = await self._request("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})
        return response.json()["id"]

    async def react(self, repo: str, comment_id: int, content: str = "eyes") -> None:
        await self._request("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions", json={"content": content})

    async def request_reviews(self, repo: str, number: int, teams: Iterable[str]) -> None:
        """``teams``: slugs, or ``org/slug`` / ``@org/slug`` as CODEOWNERS writes them."""
        slugs = list(dict.fromkeys(t.rsplit("/", 1)[-1] for t in teams))
        if slugs:
            url = f"/repos/{repo}/pulls/{number}/requested_reviewers"
            await self._request("POST", url, json={"team_reviewers": slugs})


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a line end, keeping its trailing verdict block."""
    if len(text) <= limit:
        return text
    start = text.rfind(VERDICT_MARKER)
    tail = text[start:] if start >= 0 else ""
    note = CUT_NOTE if len(tail) + len(CUT_NOTE) < limit else ""
    head = text[: max(0, limit - len(tail) - len(note))]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return (head + note + tail)[:limit]


async def _gather(*aws: Awaitable) -> list:
    """``asyncio.gather`` that cancels the others when one fails."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


def _login(user: dict | None) -> str:
    return (user or {}).get("login") or "ghost"  # GitHub's name for a deleted account


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _review(r: dict) -> Review:
    return Review(
        author=_login(r.get("user")),
        state=ReviewState(r["state"].upper()),
        commit_sha=r.get("commit_id"),
        submitted_at=_time(r.get("submitted_at")),
        id=r.get("id"),
    )


def _shows(check: CheckResult, body: dict[str, Any]) -> bool:
    """Whether an existing check run already shows what ``body`` would write."""
    output = body["output"]
    same_text = check.text == "\n\n".join(filter(None, (output["title"], output["summary"])))
    return same_text and check.status == body["status"] and check.conclusion == body.get("conclusion")


def _check_run(c: dict) -> CheckResult:
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


def _status(s: dict) -> CheckResult:
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


def _comment(c: dict) -> Comment:
    user = c.get("user") or {}
    return Comment(
        id=c["id"],
        author=_login(user),
        body=c.get("body") or "",
        created_at=_time(c.get("created_at")),
        author_is_bot=user.get("type") == "Bot",
    )
