"""The store in SQLite, the embedded default: the durable work queue, delivery ids (dedupe), what the
bot did, and what must outlive a restart. One host: the web layer and the workers share the file.

Accepted deliveries are written before the 202 is sent. Writes arriving in the same event-loop turn
share one transaction (group commit), so durability costs one WAL append per batch, not per request.
WAL with ``synchronous=NORMAL`` survives a killed process (kill -9); only an OS crash can lose the
last commits. The methods are coroutines, as the store's interface is (``store.py``); SQLite answers
at once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sqlite3
import threading
import time
from typing import Callable

import orjson

from .store import OUTCOME_CHARS, Delivery, pack, storable, unpack

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,              -- forge:instance:delivery id
    forge TEXT NOT NULL,
    instance TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',   -- queued | working | done | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    outcome TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, not_before);
CREATE TABLE IF NOT EXISTS marks (           -- what the bot did, so it can undo only its own doing
    forge TEXT NOT NULL, repo TEXT NOT NULL, number INTEGER NOT NULL,
    kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (forge, repo, number, kind, value)
);
CREATE TABLE IF NOT EXISTS kept (            -- what must outlive a restart, e.g. the last good org config
    key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS expiring (        -- kept for a while: the board's sessions
    key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS records (         -- the history the Nexus metrics are computed from
    space TEXT NOT NULL, key TEXT NOT NULL, updated REAL NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (space, key)
);
"""


def start_checkpointer(path: str, every: float = 1.0) -> threading.Event:
    """Copy the WAL into the database from a thread of its own, for a process whose only connection
    must not pause for it (the web role); returns the event that stops it."""
    stop = threading.Event()

    def run() -> None:
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        while not stop.wait(every):
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # busy: the next round does it
        db.close()

    threading.Thread(target=run, name="nexus-checkpoint", daemon=True).start()
    return stop


class SqliteStore:
    def __init__(self, path: str, checkpoints: bool = True):
        """``checkpoints=False``: this connection never copies the WAL into the database (the web
        layer's, so that accepting never waits for a checkpoint); another connection does it."""
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        if not checkpoints:
            self.db.execute("PRAGMA wal_autocheckpoint=0")
        self.db.executescript(SCHEMA)
        self._pending: list[tuple[tuple, asyncio.Future]] = []
        self._flush_scheduled = False
        self._finished: list[tuple] = []
        self.new_work = asyncio.Event()
        self.on_new_work: Callable[[], None] | None = None  # another thread's worker to wake
        self._writes: dict[str, collections.deque] = {}  # one host: the budget is this process's
        self._quotas: dict[str, tuple[int, int, float]] = {}

    async def close(self) -> None:
        self.flush_finished()
        self.db.close()

    async def wait_for_work(self, timeout: float) -> None:
        """Until a delivery arrives (this process's web layer wakes it) or ``timeout`` passes."""
        self.new_work.clear()
        due = await self.next_due()
        if due is not None:
            timeout = min(timeout, max(0.01, due - time.time()))
        try:
            await asyncio.wait_for(self.new_work.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def is_outage(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError)  # locked, disk full, I/O error

    async def ping(self) -> bool:
        self.db.execute("SELECT 1").fetchone()
        return True

    async def take_write(self, account: str, per_minute: int, window: float = 60.0) -> float:
        now = time.monotonic()
        taken = self._writes.setdefault(account, collections.deque())
        while taken and taken[0] <= now - window:
            taken.popleft()
        if len(taken) < per_minute:
            taken.append(now)
            return 0.0
        return taken[0] + window - now

    async def share_quota(self, account: str, remaining: int, limit: int, reset: float) -> None:
        self._quotas[account] = (remaining, limit, reset)

    async def quotas(self) -> dict[str, tuple[int, int, float]]:
        return dict(self._quotas)

    async def lock(self, key: str, owner: str, seconds: float) -> bool:
        """One host, one worker: batches of one entity are already run one at a time."""
        return True

    async def unlock(self, key: str, owner: str) -> None:
        return None

    async def touch(self, delivery_ids: list[str]) -> None:
        """Claimed work is this process's until it finishes or the process restarts."""
        return None

    # ---- accepting ---------------------------------------------------------------------------

    async def accept(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        """Persist a delivery; False when this delivery id was already accepted (a redelivery)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        row = (f"{forge}:{instance}:{delivery_id}", forge, instance, orjson.dumps(headers).decode(), pack(body), time.time())
        self._pending.append((row, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        batch, self._pending, self._flush_scheduled = self._pending, [], False
        results = []
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for row, _ in batch:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO deliveries (id, forge, instance, headers, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
                results.append(cur.rowcount == 1)
            self.db.execute("COMMIT")
        except Exception as exc:  # never leave the transaction open: every later write would fail
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), new in zip(batch, results):
            if not fut.done():
                fut.set_result(new)
        if any(results):
            self.new_work.set()
            if self.on_new_work:
                self.on_new_work()

    async def schedule(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes,
                 after: float) -> bool:
        """Queue the bot's own work (a recheck) to be done ``after`` seconds from now, once per id."""
        now = time.time()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (id, forge, instance, headers, body, received_at, not_before)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f"{forge}:{instance}:{delivery_id}", forge, instance, json.dumps(headers), body, now, now + after),
        )
        self.new_work.set()
        return cur.rowcount == 1

    # ---- working -----------------------------------------------------------------------------

    async def recover(self) -> int:
        """Work that was in flight when the process died goes back to the queue."""
        return self.db.execute("UPDATE deliveries SET state='queued' WHERE state='working'").rowcount

    async def claim(self, limit: int = 100) -> list[Delivery]:
        """Take up to ``limit`` due deliveries, oldest first, in one statement."""
        rows = self.db.execute(
            "UPDATE deliveries SET state='working', attempts=attempts+1 WHERE id IN ("
            " SELECT id FROM deliveries WHERE state='queued' AND not_before <= ? ORDER BY received_at LIMIT ?)"
            " RETURNING id, forge, instance, headers, body, attempts, received_at",
            (time.time(), limit),
        ).fetchall()
        rows.sort(key=lambda r: r[6])
        return [Delivery(r[0], r[1], r[2], json.loads(r[3]), unpack(bytes(r[4])), r[5], r[6]) for r in rows]

    async def finish(self, delivery_id: str, outcome: str, state: str = "done") -> None:
        """Record the outcome; rows finished in one event-loop turn share one transaction."""
        self._finished.append((state, storable(outcome[:OUTCOME_CHARS]), time.time(), delivery_id))
        if len(self._finished) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush_finished)
            except RuntimeError:  # no event loop (a script): write now
                self.flush_finished()

    def flush_finished(self) -> None:
        """Write pending outcomes. A crash before this runs only means the work is redone after the
        restart, and every write the bot makes converges, so redoing it has no second effect."""
        rows, self._finished = self._finished, []
        if rows:
            self.db.execute("BEGIN")
            try:
                self.db.executemany("UPDATE deliveries SET state=?, outcome=?, finished_at=?, body=x'' WHERE id=?", rows)
            except BaseException:  # never leave the transaction open: every later write would fail
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    async def retry(self, delivery_id: str, delay: float, outcome: str) -> None:
        self.flush_finished()
        self.new_work.set()  # the loop may be sleeping longer than this delay
        self.db.execute(
            "UPDATE deliveries SET state='queued', not_before=?, outcome=? WHERE id=?",
            (time.time() + delay, storable(outcome[:OUTCOME_CHARS]), delivery_id),
        )

    async def release(self, delivery_ids: list[str]) -> None:
        """Hand claimed work back untouched (shutdown before it started)."""
        self.db.executemany(
            "UPDATE deliveries SET state='queued', attempts=max(attempts-1, 0) WHERE id=? AND state='working'",
            [(d,) for d in delivery_ids],
        )

    async def next_due(self) -> float | None:
        row = self.db.execute("SELECT min(not_before) FROM deliveries WHERE state='queued'").fetchone()
        return row[0]

    async def purge(self, ttl_seconds: float) -> int:
        self.db.execute("DELETE FROM expiring WHERE expires <= ?", (time.time(),))
        return self.db.execute(
            "DELETE FROM deliveries WHERE state IN ('done','failed') AND finished_at < ?",
            (time.time() - ttl_seconds,),
        ).rowcount

    async def oldest_age(self) -> float:
        """Seconds the oldest queued delivery has waited (0: none)."""
        row = self.db.execute("SELECT min(received_at) FROM deliveries WHERE state IN ('queued', 'working')").fetchone()
        return max(0.0, time.time() - row[0]) if row and row[0] else 0.0

    async def counts(self) -> dict[str, int]:
        self.flush_finished()
        return dict(self.db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())

    async def outcome(self, forge: str, instance: str, delivery_id: str) -> tuple[str, str | None] | None:
        self.flush_finished()
        row = self.db.execute(
            "SELECT state, outcome FROM deliveries WHERE id=?", (f"{forge}:{instance}:{delivery_id}",)
        ).fetchone()
        return (row[0], row[1]) if row else None

    # ---- what the bot did --------------------------------------------------------------------

    async def marks(self, forge: str, repo: str, number: int, kind: str) -> set[str]:
        rows = self.db.execute(
            "SELECT value FROM marks WHERE forge=? AND repo=? AND number=? AND kind=?", (forge, repo, number, kind)
        ).fetchall()
        return {r[0] for r in rows}

    async def mark(self, forge: str, repo: str, number: int, kind: str, values: set[str], present: bool = True) -> None:
        sql = (
            "INSERT OR IGNORE INTO marks VALUES (?, ?, ?, ?, ?)"
            if present
            else "DELETE FROM marks WHERE forge=? AND repo=? AND number=? AND kind=? AND value=?"
        )
        self.db.executemany(sql, [(forge, repo, number, kind, v) for v in values])

    async def remember(self, key: str, value: str, seconds: float | None = None) -> None:
        if seconds is None:
            self.db.execute("INSERT OR REPLACE INTO kept VALUES (?, ?, ?)", (key, storable(value), time.time()))
        else:
            self.db.execute("INSERT OR REPLACE INTO expiring VALUES (?, ?, ?)",
                            (key, storable(value), time.time() + seconds))

    async def recall(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kept WHERE key=?", (key,)).fetchone() or self.db.execute(
            "SELECT value FROM expiring WHERE key=? AND expires > ?", (key, time.time())).fetchone()
        return row[0] if row else None

    async def forget(self, key: str) -> None:
        self.db.execute("DELETE FROM kept WHERE key=?", (key,))
        self.db.execute("DELETE FROM expiring WHERE key=?", (key,))

    async def shared_get(self, key: str) -> bytes | None:
        return None  # one process reads the forge: nothing to share

    async def shared_set(self, key: str, value: bytes, seconds: float) -> None:
        return None

    async def keep_records(self, space: str, records: list[tuple[str, float, str]]) -> None:
        self.db.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?) ON CONFLICT (space, key) DO UPDATE SET"
            " updated=excluded.updated, value=excluded.value WHERE excluded.updated >= records.updated",
            [(space, key, updated, value) for key, updated, value in records],
        )

    async def records(self, space: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT value FROM records WHERE space=?", (space,))]

    async def record(self, space: str, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM records WHERE space=? AND key=?", (space, key)).fetchone()
        return row[0] if row else None
