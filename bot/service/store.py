"""The store: the durable work queue, delivery ids (dedupe), the bot's record of what it wrote, and
what must outlive a restart. One interface, two implementations, and the worker and the web layer
do not know which they have:

- ``store_sqlite.SqliteStore``, the embedded default: one file, one host;
- ``store_redis.RedisStore``, with ``REDIS_URL``: any number of replicas on any hosts share the
  queue (Redis Streams, with leases that another replica takes over), the ids, the marks, the
  scheduled rechecks and the history.

Guarantees both give: ``accept`` returns only once the delivery is stored (the web layer answers 202
after it, 503 when it fails); claimed work that a process never finishes is done again; a delivery
id accepted twice has one effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import lz4.block

LZ4 = b"\x04"  # tag of a body stored lz4-compressed (JSON never starts with this byte)


OUTCOME_CHARS = 500  # an outcome is kept this long


def storable(value: str) -> str:
    """``value`` storable as UTF-8 text (lone surrogates, from undecodable bytes, escaped)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def pack(body: bytes) -> bytes:
    """A webhook body as stored: lz4 makes a 23 KB payload ~4.5 KB in ~12 µs."""
    return LZ4 + lz4.block.compress(body)


def unpack(stored: bytes) -> bytes:
    return lz4.block.decompress(stored[1:]) if stored[:1] == LZ4 else stored


@dataclass(frozen=True)
class Delivery:
    id: str  # forge:instance:delivery id
    forge: str
    instance: str
    headers: dict[str, str]
    body: bytes
    attempts: int
    received_at: float


class Store(Protocol):
    async def accept(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        """Persist a delivery; False when its id was accepted already (a redelivery)."""

    async def schedule(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes,
                       after: float) -> bool:
        """The bot's own work (a recheck), due in ``after`` seconds, once per id."""

    async def recover(self) -> int:
        """At start: work this process's predecessor had claimed goes back to the queue."""

    async def claim(self, limit: int = 100) -> list[Delivery]:
        """Take up to ``limit`` due deliveries, oldest first (each attempt counted)."""

    async def wait_for_work(self, timeout: float) -> None:
        """Until work may be due, or ``timeout`` passes."""

    async def touch(self, delivery_ids: list[str]) -> None:
        """Claimed work still in hand: nobody else may take it over yet."""

    async def finish(self, delivery_id: str, outcome: str, state: str = "done") -> None: ...

    async def retry(self, delivery_id: str, delay: float, outcome: str) -> None:
        """Back to the queue, due in ``delay`` seconds."""

    async def release(self, delivery_ids: list[str]) -> None:
        """Hand claimed work back untouched (a stop before it started)."""

    async def lock(self, key: str, owner: str, seconds: float) -> bool:
        """One evaluation at a time per pull request or issue, across processes: a lease."""

    async def unlock(self, key: str, owner: str) -> None: ...

    async def next_due(self) -> float | None: ...

    async def purge(self, ttl_seconds: float) -> int: ...

    async def counts(self) -> dict[str, int]:
        """Deliveries by state: queued, working, done, failed."""

    async def oldest_age(self) -> float:
        """Seconds the oldest delivery not yet done has waited."""

    async def outcome(self, forge: str, instance: str, delivery_id: str) -> tuple[str, str | None] | None: ...

    async def marks(self, forge: str, repo: str, number: int, kind: str) -> set[str]: ...

    async def mark(self, forge: str, repo: str, number: int, kind: str, values: set[str], present: bool = True) -> None: ...

    async def remember(self, key: str, value: str, seconds: float | None = None) -> None:
        """Keep ``value`` (across restarts); with ``seconds``, only that long (a board session): then
        it is gone by itself, read or not."""

    async def recall(self, key: str) -> str | None: ...

    async def forget(self, key: str) -> None:
        """What was remembered under ``key`` is gone (a board session that ended)."""

    async def keep_records(self, space: str, records: list[tuple[str, float, str]]) -> None:
        """Keep each (key, updated, value) of ``space`` (e.g. "history:github:org:items"), unless the
        value kept under that key is newer: a webhook and a backfill seeing the same thing agree."""

    async def records(self, space: str) -> list[str]:
        """Every value kept in ``space``."""

    async def record(self, space: str, key: str) -> str | None:
        """The value kept under ``key`` in ``space``."""

    async def shared_get(self, key: str) -> bytes | None:
        """A value the processes share for a while (conditional reads); None: not shared (SQLite: one
        process serves the forge, its own cache is the whole cache)."""

    async def shared_set(self, key: str, value: bytes, seconds: float) -> None: ...

    async def take_write(self, account: str, per_minute: int, window: float = 60.0) -> float:
        """A place for one write of ``account`` in the current minute, shared by every process using
        this store: 0 when taken (the write is counted), else the seconds until one frees up."""

    async def share_quota(self, account: str, remaining: int, limit: int, reset: float) -> None:
        """The rate-limit quota ``account`` was last seen with."""

    async def quotas(self) -> dict[str, tuple[int, int, float]]:
        """Every account's last seen quota: (remaining, limit, reset time)."""

    def is_outage(self, error: BaseException) -> bool:
        """Whether ``error`` is the store being unreachable (the work is retried, not failed)."""

    async def ping(self) -> bool:
        """Whether the store answers (readiness)."""

    async def close(self) -> None: ...
