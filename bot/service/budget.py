"""The rate-limit budget of each installation, shared by every replica through the store: the bot
paces itself before GitHub says no.

- Every answer's ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` is the installation's quota; the
  last seen is shared in the store (at most once a second per installation), so a replica that has
  not called yet knows it too.
- Writes (POST, PATCH, PUT, DELETE) wait for a place in a one-minute window shared by all replicas:
  at most ``WRITES_PER_MINUTE`` (GitHub's secondary limit is about 80 content-creating requests a
  minute). Concurrent requests per process are bounded by ``WORKERS`` evaluations at a time.
- When an installation's quota is low, events for one pull request wait longer to be merged into
  one evaluation (``LOW_QUOTA_COALESCE_SECONDS``) instead of each costing one.
- When it is nearly spent (``RESERVE`` calls left), evaluations wait for the window to reset, merging
  every event that arrives meanwhile; commands and config pushes keep a smaller part of the reserve.

It implements ``forges.traffic.Traffic``: the adapters show it each call, before and after. What it
did is in the metrics: time paced, writes paced, events merged, quota left.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Mapping

from ..forges.traffic import WRITES, Read
from .metrics import Metrics
from .store import Store

log = logging.getLogger("nexus.budget")

SHARE_EVERY = 1.0  # seconds between two shares of one installation's quota
READ_EVERY = 2.0  # seconds between two reads of the shared quotas


RESERVE = 200  # calls kept back at the end of a window for the evaluations already running
RESERVE_FRACTION = 0.04  # of the window's limit, when that is more
URGENT_SHARE = 0.25  # of the reserve, kept for commands people typed and config pushes

SHARED_READ_SECONDS = 3600.0  # a read another replica made is offered for a conditional request this long
SHARED_READ_BYTES = 256 * 1024  # larger compressed bodies stay in the reading process only


def _read_key(forge: str, account: str, key: str) -> str:
    return f"read:{forge}:{account}:{hashlib.sha1(key.encode()).hexdigest()}"


class Budget:
    def __init__(self, store: Store, metrics: Metrics, *, writes_per_minute: int = 80, low_fraction: float = 0.1):
        self.store = store
        self.metrics = metrics
        self.writes_per_minute = writes_per_minute
        self.low_fraction = low_fraction
        self.quota: dict[str, tuple[int, int, float]] = {}  # "forge:account" -> (remaining, limit, reset)
        self._shared_at: dict[str, float] = {}
        self._read_at = 0.0

    # ---- forges.traffic.SharedReads: conditional reads shared by the replicas --------------------

    async def recall_read(self, forge: str, account: str, key: str) -> Read | None:
        packed = await self.store.shared_get(_read_key(forge, account, key))
        if not packed:
            return None
        etag, next_url, body = packed.split(b"\0", 2)
        return etag.decode(), body, next_url.decode() or None

    async def keep_read(self, forge: str, account: str, key: str, entry: Read) -> None:
        etag, body, next_url = entry
        if len(body) <= SHARED_READ_BYTES:
            value = b"\0".join([etag.encode(), (next_url or "").encode(), body])
            await self.store.shared_set(_read_key(forge, account, key), value, SHARED_READ_SECONDS)

    # ---- forges.traffic.Traffic ----------------------------------------------------------------

    async def before(self, forge: str, account: str, method: str) -> None:
        if method not in WRITES or self.writes_per_minute <= 0:
            return
        key, waited = f"{forge}:{account}", 0.0
        while True:
            try:
                wait = await self.store.take_write(key, self.writes_per_minute)
            except Exception as exc:  # the store is what is failing: the work itself will say so
                log.warning("write budget unavailable: %s", str(exc)[:200])
                return
            if wait <= 0:
                break
            if not waited:
                self.metrics.paced_writes.labels(forge).inc()
            pause = min(wait, 5.0)
            waited += pause
            self.metrics.paced_seconds.labels(forge).inc(pause)
            await asyncio.sleep(pause)

    async def after(self, forge: str, account: str, method: str, route: str, status: int,
                    headers: Mapping[str, str]) -> None:
        self.metrics.forge_calls.labels(forge, route, method, str(status), str(status != 304).lower()).inc()
        remaining, limit, reset = (headers.get(h) for h in ("x-ratelimit-remaining", "x-ratelimit-limit",
                                                             "x-ratelimit-reset"))
        if remaining is None or headers.get("x-ratelimit-resource", "core") != "core":
            return  # the search API (30 a minute) and GraphQL have quotas of their own: not the one paced
        try:
            seen = (int(remaining), int(limit or 0), float(reset or 0))
        except ValueError:
            return
        key = f"{forge}:{account}"
        self.quota[key] = seen
        self.metrics.quota_remaining.labels(forge, account).set(seen[0])
        now = time.monotonic()
        if now - self._shared_at.get(key, 0.0) >= SHARE_EVERY:
            self._shared_at[key] = now
            try:
                await self.store.share_quota(key, *seen)
            except Exception as exc:
                log.warning("could not share the quota of %s: %s", key, str(exc)[:200])

    # ---- for the workers -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the quotas other replicas saw (at most every ``READ_EVERY`` seconds)."""
        now = time.monotonic()
        if now - self._read_at < READ_EVERY:
            return
        self._read_at = now
        for key, seen in (await self.store.quotas()).items():
            mine = self.quota.get(key)
            if mine is None or seen[2] > mine[2] or (seen[2] == mine[2] and seen[0] < mine[0]):
                self.quota[key] = seen
                forge, _, account = key.partition(":")
                self.metrics.quota_remaining.labels(forge, account).set(seen[0])

    def low(self, forge: str, account: str | None) -> bool:
        """Whether the installation has less than ``low_fraction`` of its quota left in this window."""
        seen = self.quota.get(f"{forge}:{account}")
        if seen is None:
            return False
        remaining, limit, reset = seen
        if reset and reset < time.time():
            return False  # the window has been reset since
        return remaining < max(50, limit * self.low_fraction)

    def hold(self, forge: str, account: str | None, urgent: bool = False) -> float:
        """Seconds until the installation's window resets when its quota is nearly spent, else 0: an
        evaluation started now would spend what the ones already running need (GitHub's next answer
        would be a 403). ``urgent`` work (a command, a config push) may use most of the reserve."""
        seen = self.quota.get(f"{forge}:{account}")
        if seen is None:
            return 0.0
        remaining, limit, reset = seen
        now = time.time()
        if not reset or reset <= now:
            return 0.0
        reserve = max(RESERVE, limit * RESERVE_FRACTION) * (URGENT_SHARE if urgent else 1.0)
        return reset - now if remaining <= reserve else 0.0
