"""Forgejo/Gitea over HTTP (REST ``/api/v1``, token auth): one client per instance, retries, and
pagination under the instance's page cap.

Lists are capped at ``[api] MAX_RESPONSE_ITEMS`` (default 50; readable at ``GET /settings/api``)
whatever ``limit`` asks, and ``Link`` is sent only when there is more than one page, so pages are
requested until one comes back short (or ``Link`` has no ``next``). Calls are retried on 5xx, 429,
timeouts and connection errors, after the ``Retry-After`` the instance asks for when it is short.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from .base import ForgeError
from .traffic import NoTraffic, Traffic, route_of

log = logging.getLogger("nexus.forgejo")

DEFAULT_PAGE_LIMIT = 50  # Forgejo's default MAX_RESPONSE_ITEMS
MAX_RETRY_AFTER = 60.0  # seconds; a forge asking for a longer pause gets ForgeError.retry_after instead


class ForgejoHttp:
    """The HTTP side of one instance: requests with retries, JSON, pages."""

    def __init__(self, base_url: str, token: str, *, page_limit: int | None, timeout: float, attempts: int,
                 backoff: float, traffic: Traffic = NoTraffic(), account: str = "default"):
        api = base_url.rstrip("/")
        if not api.endswith("/api/v1"):
            api += "/api/v1"
        self.calls = 0  # HTTP requests sent, retries included
        self._traffic, self._account = traffic, account  # account: the instance's name
        self._page_limit = page_limit
        self._attempts = attempts
        self._backoff = wait_random_exponential(multiplier=backoff, max=30)
        self._http = httpx.AsyncClient(
            base_url=api,
            headers={"Authorization": f"token {token}", "Accept": "application/json", "User-Agent": "nexus-bot"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _limit(self) -> int:
        if self._page_limit is None:
            async with self._lock:
                if self._page_limit is None:
                    settings = await self._json("GET", "/settings/api", missing_ok=True) or {}
                    self._page_limit = int(settings.get("max_response_items") or DEFAULT_PAGE_LIMIT)
        return self._page_limit
    # -- HTTP

    async def _pages(self, path: str, params: dict | None = None, *, key: str | None = None, missing_ok=False) -> list:
        """Every item of a list: follows ``Link`` when the instance sends it, else asks until a short page."""
        limit = await self._limit()
        items: list = []
        page = 1
        while True:
            query = {**(params or {}), "page": page, "limit": limit}
            r = await self._call("GET", path, params=query, missing_ok=missing_ok)
            if r is None:
                return items
            data = r.json()
            if key:
                data = (data or {}).get(key)
            batch = data or []
            items += batch
            if "link" in r.headers:
                following = r.links.get("next")
                if not following:
                    return items
                page = int(parse_qs(urlsplit(following["url"]).query).get("page", [page + 1])[0])
            elif len(batch) < limit:
                return items
            else:
                page += 1

    async def _json(self, method: str, path: str, *, params=None, body=None, missing_ok=False) -> Any:
        r = await self._call(method, path, params=params, body=body, missing_ok=missing_ok)
        return r.json() if r is not None and r.content else None

    async def _call(self, method: str, path: str, *, params=None, body=None, missing_ok=False,
                    headers: dict | None = None) -> httpx.Response | None:
        """One API call, retried on 5xx, 429, timeouts and connection errors; None for a 404 when ``missing_ok``."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(_transient),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                self.calls += 1
                await self._traffic.before("forgejo", self._account, method)
                try:
                    r = await self._http.request(method, path, params=params, json=body, headers=headers)
                except httpx.TransportError as e:
                    raise ForgeError(f"{method} {path}: {type(e).__name__}") from None
                await self._traffic.after("forgejo", self._account, method, route_of(path), r.status_code, r.headers)
                log.debug("%s %s -> %s", method, path, r.status_code)
                if missing_ok and r.status_code == 404:
                    return None
                if not r.is_success and r.status_code != 304:  # 304: a conditional read, unchanged
                    message = f"{method} {path}: HTTP {r.status_code} {_error_message(r)}"
                    raise ForgeError(message, status=r.status_code, retry_after=_retry_after(r))
                return r

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception()
        return error.retry_after if error.retry_after is not None else self._backoff(state)


def _transient(error: BaseException) -> bool:
    if not isinstance(error, ForgeError):
        return False
    if error.retry_after is not None:
        return error.retry_after <= MAX_RETRY_AFTER
    return error.status is None or error.status >= 500 or error.status == 429


def _log_retry(state: RetryCallState) -> None:
    log.warning("forgejo: %s; attempt %d failed, retrying", state.outcome.exception(), state.attempt_number)


def _retry_after(r: httpx.Response) -> float | None:
    value = r.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None


def _error_message(r: httpx.Response) -> str:
    try:
        return str(r.json().get("message") or "")[:200]
    except (ValueError, AttributeError):
        return r.text[:200]
