"""GitHub over HTTP: githubkit clients with GitHub App (or token) auth, one connection pool, retries,
and conditional reads.

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

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping

import httpx
import lz4.block
import orjson
from cachetools import LRUCache
from githubkit import GitHub
from githubkit.auth.base import BaseAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RetryOption

from .base import ForgeError
from .traffic import NoTraffic, SharedReads, Traffic, route_of

log = logging.getLogger("nexus.github")

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
# per installation: the bodies behind the ETags of conditional reads, lz4-compressed (~5x smaller). An
# organisation of 300 active repositories needs tens of MB of them, or its re-reads are charged again
ETAG_CACHE_BYTES = 32 * 1024 * 1024


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


def forge_error(exc: GitHubException) -> ForgeError:
    exc = _cause(exc)
    status = exc.response.status_code if isinstance(exc, RequestFailed) else None
    retry_after = exc.retry_after.total_seconds() if isinstance(exc, RateLimitExceeded) else None
    return ForgeError(f"GitHub {_describe(exc)}", status=status, retry_after=retry_after)


@dataclass
class Calls:
    """HTTP requests sent to GitHub; ``charged`` leaves out the 304s, which cost no rate limit."""

    total: int = 0
    charged: int = 0


class Pool(httpx.AsyncBaseTransport):
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
class ClientSettings:
    api_url: str
    timeout: float
    retry: RetryPolicy
    pool: Pool
    cache: MemCacheStrategy  # githubkit keeps JWTs and installation tokens here, until shortly before expiry
    traffic: Traffic = NoTraffic()

    def client(self, auth: BaseAuthStrategy, calls: Calls, account: str = "app") -> GitHub:
        """``account``: whose quota the calls spend (an installation id, "app", "token")."""
        traffic = self.traffic

        async def pace(request: httpx.Request) -> None:
            await traffic.before("github", account, request.method)

        async def count(response: httpx.Response) -> None:
            calls.total += 1
            calls.charged += response.status_code != 304
            request = response.request
            await traffic.after("github", account, request.method, route_of(request.url.path), response.status_code,
                                response.headers)

        return GitHub(
            auth,
            base_url=self.api_url,
            user_agent="nexus-bot",
            timeout=self.timeout,
            async_transport=self.pool,
            async_event_hooks={"request": [pace], "response": [count]},
            cache_strategy=self.cache,
            http_cache=False,
            auto_retry=self.retry,
        )


def client_settings(api_url: str, timeout: float, retry: RetryPolicy, traffic: Traffic = NoTraffic()) -> ClientSettings:
    # A token cache of its own: githubkit's default one is process-wide and its keys ignore the API URL.
    return ClientSettings(api_url.rstrip("/"), timeout, retry, Pool(), MemCacheStrategy(), traffic)


class ConditionalReads:
    """The HTTP side of one installation's (or one token's) forge: requests, conditional reads,
    pagination."""

    def __init__(self, github: GitHub, calls: Calls, shared: SharedReads = NoTraffic(), account: str = ""):
        self.calls = calls
        self._github = github
        self._shared, self._account = shared, account  # the reads other replicas made
        # URL -> (ETag, raw JSON, next page): raw bytes are several times smaller than parsed objects
        self._etags: LRUCache[str, tuple[str, bytes, str | None]] = LRUCache(
            maxsize=ETAG_CACHE_BYTES, getsizeof=lambda entry: len(entry[1]) + 200)

    async def _request(self, method: str, url: str, *, missing_ok: bool = False, **kwargs: Any) -> Any:
        """The answer of one call; None for a 404 when ``missing_ok``. Raises ForgeError."""
        headers = {"X-GitHub-Api-Version": API_VERSION, **kwargs.pop("headers", {})}
        try:
            return await self._github.arequest(method, url, headers=headers, **kwargs)
        except GitHubException as e:
            if missing_ok and isinstance(e, RequestFailed) and e.response.status_code == 404:
                return None
            raise forge_error(e) from e

    async def _get(
        self, url: str, params: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> tuple[Any, str | None]:
        """(JSON, URL of the next page) of a conditional GET; (None, None) for a 404 when ``missing_ok``."""
        key = str(httpx.URL(url, params=params))
        cached = self._etags.get(key) or await self._shared_read(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = await self._request("GET", url, params=params, headers=headers, missing_ok=missing_ok)
        if response is None:
            self._etags.pop(key, None)
            return None, None
        if response.status_code == 304 and cached:
            return orjson.loads(lz4.block.decompress(cached[1])), cached[2]
        raw = response.content
        data = orjson.loads(raw)
        next_url = response.raw_response.links.get("next", {}).get("url")
        etag = response.headers.get("etag")
        if etag and len(raw) < ETAG_CACHE_BYTES // 8:
            entry = self._etags[key] = (etag, lz4.block.compress(raw), next_url)
            await self._share_read(key, entry)
        return data, next_url

    async def _shared_read(self, key: str) -> tuple[str, bytes, str | None] | None:
        try:
            return await self._shared.recall_read("github", self._account, key)
        except Exception as exc:  # the shared store failing costs a charged read, not the work
            log.warning("shared read unavailable: %s", str(exc)[:200])
            return None

    async def _share_read(self, key: str, entry: tuple[str, bytes, str | None]) -> None:
        try:
            await self._shared.keep_read("github", self._account, key, entry)
        except Exception as exc:
            log.warning("could not share a read: %s", str(exc)[:200])

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
