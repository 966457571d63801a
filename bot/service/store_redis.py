"""The store in Redis, with ``REDIS_URL``: any number of replicas, on any hosts, share it.

- a delivery is one hash ``nexus:d:<id>``, written with its queue entry by one script, so a 202 is
  sent only once both are in Redis, and an id seen before (a redelivery, or the same delivery sent to
  two replicas) is refused in the same step;
- the queue is a Redis Stream (``nexus:q``) read by one consumer group: each replica reads new
  entries with XREADGROUP; entries a replica claimed and stopped renewing (``touch``, from its
  heartbeat) for ``lease`` seconds are taken over by another with XAUTOCLAIM, so a replica killed
  with ``kill -9`` loses nothing;
- work due later (retries, the bot's own rechecks) waits in a sorted set and moves to the stream when
  due, by a script, so two replicas never move it twice;
- one evaluation at a time per pull request or issue, across replicas: a lease lock per entity
  (SET NX PX, renewed by its owner, released by compare-and-delete);
- what the bot wrote (owned labels, review requests) and what outlives restarts: sets and a hash.

Durability is Redis's: with ``appendonly yes`` and ``appendfsync everysec`` (the README's advice) a
crash of the Redis host can lose the last second of accepted deliveries; ``appendfsync always`` loses
none, at the cost of a disk write per delivery.
"""

from __future__ import annotations

import time

import orjson
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import BusyLoadingError, ConnectionError as RedisConnectionError, ResponseError, TimeoutError as RedisTimeoutError

from .store import OUTCOME_CHARS, Delivery, pack, storable, unpack

P = "nexus:"
QUEUE, GROUP, DELAYED, DONE, FAILED, KEPT = (P + k for k in ("q", "workers", "delayed", "done", "failed", "kept"))

# KEYS: delivery hash, queue, delayed set. ARGV: id, forge, instance, headers, body, now, ttl, due.
# Returns 0 when the id is known (one effect per delivery id, whichever replica it reaches).
ACCEPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'forge', ARGV[2], 'instance', ARGV[3], 'headers', ARGV[4], 'body', ARGV[5],
           'received_at', ARGV[6], 'state', 'queued', 'attempts', 0)
redis.call('EXPIRE', KEYS[1], ARGV[7])
if tonumber(ARGV[8]) > tonumber(ARGV[6]) then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
else
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
end
return 1
"""

# KEYS: delayed set, queue. ARGV: now, limit. Work that is due moves to the queue, once.
MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
"""

# KEYS: lock. ARGV: owner, milliseconds. Taken, or renewed by its owner.
LOCK = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: the account's window. ARGV: now, writes per window, a unique member, window. 0, or seconds to wait.
TAKE_WRITE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

KEEP_RECORDS = """
for i = 1, #ARGV, 3 do
  local kept = redis.call('HGET', KEYS[2], ARGV[i])
  if not kept or tonumber(kept) <= tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
return 1
"""

UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _key(delivery_id: str) -> str:
    return f"{P}d:{delivery_id}"


class RedisStore:
    def __init__(self, url: str, consumer: str, lease_seconds: float = 30.0, ttl_seconds: float = 24 * 3600,
                 timeout: float = 5.0):
        """``consumer``: this process's name in the consumer group (unique per process)."""
        self.url = url
        # a connection Redis closed (a restart, a failover) is replaced and the command sent again
        self.redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                          health_check_interval=30,
                                          retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
                                          retry_on_error=[RedisConnectionError, RedisTimeoutError])
        self.consumer = consumer
        self.lease_ms = int(lease_seconds * 1000)
        self.ttl = int(ttl_seconds)
        self._entries: dict[str, bytes] = {}  # delivery id -> its stream entry, while claimed here
        self._ready: list[tuple[bytes, dict]] = []  # entries read while waiting for work
        self._group = False
        self._accept = self.redis.register_script(ACCEPT)
        self._move_due = self.redis.register_script(MOVE_DUE)
        self._lock = self.redis.register_script(LOCK)
        self._unlock = self.redis.register_script(UNLOCK)
        self._take_write = self.redis.register_script(TAKE_WRITE)
        self._keep_records = self.redis.register_script(KEEP_RECORDS)
        self._writes = 0

    async def close(self) -> None:
        await self.redis.aclose()

    def is_outage(self, error: BaseException) -> bool:
        return isinstance(error, (RedisConnectionError, RedisTimeoutError, BusyLoadingError))

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def _ensure_group(self) -> None:
        if self._group:
            return
        try:
            await self.redis.xgroup_create(QUEUE, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group = True

    # ---- accepting ---------------------------------------------------------------------------

    async def accept(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes) -> bool:
        return await self._add(forge, instance, delivery_id, headers, pack(body), 0.0)

    async def schedule(self, forge: str, instance: str, delivery_id: str, headers: dict[str, str], body: bytes,
                       after: float) -> bool:
        return await self._add(forge, instance, delivery_id, headers, body, max(0.0, after))

    async def _add(self, forge, instance, delivery_id, headers, body, after) -> bool:
        did = f"{forge}:{instance}:{delivery_id}"
        now = time.time()
        # the id is remembered as long as the forge may redeliver, and work due later as long as it waits
        ttl = self.ttl + int(after) + 3600
        new = await self._accept(keys=[_key(did), QUEUE, DELAYED],
                                 args=[did, forge, instance, orjson.dumps(headers), body, repr(now), ttl,
                                       repr(now + after if after else 0)])
        return bool(new)

    # ---- working -----------------------------------------------------------------------------

    async def recover(self) -> int:
        """Nothing to do at start: a predecessor's claimed work is taken over when its lease expires."""
        await self._ensure_group()
        return 0

    async def claim(self, limit: int = 100) -> list[Delivery]:
        try:
            return await self._claim(limit)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis came back without its data: the group is made again
                self._group = False
            raise

    async def _claim(self, limit: int) -> list[Delivery]:
        await self._ensure_group()
        await self._move_due(keys=[DELAYED, QUEUE], args=[repr(time.time()), limit])
        entries, self._ready = self._ready[:limit], self._ready[limit:]
        if len(entries) < limit:  # a dead replica's work first: it is the oldest
            _, taken, _ = await self.redis.xautoclaim(QUEUE, GROUP, self.consumer, self.lease_ms, "0-0",
                                                      count=limit - len(entries))
            entries += [(e, f) for e, f in taken if f]
        if len(entries) < limit:
            read = await self.redis.xreadgroup(GROUP, self.consumer, {QUEUE: ">"}, count=limit - len(entries))
            entries += [(e, f) for _, stream in read for e, f in stream]
        return await self._deliveries(entries)

    async def _deliveries(self, entries: list[tuple[bytes, dict]]) -> list[Delivery]:
        found = []
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, fields in entries:
                key = _key(fields[b"id"].decode())
                pipe.hset(key, "state", "working")
                pipe.hincrby(key, "attempts", 1)
                pipe.hmget(key, "forge", "instance", "headers", "body", "received_at", "state")
            results = await pipe.execute()
        gone = []
        for i, (entry, fields) in enumerate(entries):
            attempts, (forge, instance, headers, body, received_at, _) = results[3 * i + 1], results[3 * i + 2]
            did = fields[b"id"].decode()
            if forge is None:  # expired meanwhile (older than the redelivery memory): nothing to do
                gone.append(entry)
                continue
            self._entries[did] = entry
            found.append(Delivery(did, forge.decode(), instance.decode(), orjson.loads(headers),
                                  unpack(body or b""), int(attempts), float(received_at)))
        if gone:
            await self._drop(gone)
        found.sort(key=lambda d: d.received_at)
        return found

    async def _drop(self, entries: list[bytes]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xack(QUEUE, GROUP, *entries)
            pipe.xdel(QUEUE, *entries)
            await pipe.execute()

    async def wait_for_work(self, timeout: float) -> None:
        """Block on the stream (any replica's new entry wakes it) until work or ``timeout``; what is
        read is this process's already, and the next ``claim`` returns it."""
        await self._ensure_group()
        due = await self.next_due()
        if due is not None:
            timeout = min(timeout, max(0.0, due - time.time()))
        if timeout <= 0.001 or self._ready:
            return
        try:
            read = await self.redis.xreadgroup(GROUP, self.consumer, {QUEUE: ">"}, count=50,
                                               block=max(1, int(timeout * 1000)))
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                self._group = False
            raise
        self._ready += [(e, f) for _, stream in read or () for e, f in stream]

    async def touch(self, delivery_ids: list[str]) -> None:
        """Renew the lease of claimed work (XCLAIM by its owner resets the idle time)."""
        entries = [self._entries[d] for d in delivery_ids if d in self._entries]
        for i in range(0, len(entries), 500):
            await self.redis.xclaim(QUEUE, GROUP, self.consumer, 0, entries[i:i + 500], justid=True)

    async def finish(self, delivery_id: str, outcome: str, state: str = "done") -> None:
        now = time.time()
        key = _key(delivery_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"state": state, "outcome": storable(outcome[:OUTCOME_CHARS]), "finished_at": repr(now)})
            pipe.hdel(key, "body")
            pipe.expire(key, self.ttl)
            pipe.zadd(DONE if state == "done" else FAILED, {delivery_id: now})
            entry = self._entries.pop(delivery_id, None)
            if entry is not None:
                pipe.xack(QUEUE, GROUP, entry)
                pipe.xdel(QUEUE, entry)
            await pipe.execute()

    async def retry(self, delivery_id: str, delay: float, outcome: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(_key(delivery_id), mapping={"state": "queued", "outcome": storable(outcome[:OUTCOME_CHARS])})
            pipe.zadd(DELAYED, {delivery_id: time.time() + delay})
            entry = self._entries.pop(delivery_id, None)
            if entry is not None:
                pipe.xack(QUEUE, GROUP, entry)
                pipe.xdel(QUEUE, entry)
            await pipe.execute()

    async def release(self, delivery_ids: list[str]) -> None:
        """Hand claimed work back untouched: back to the queue at once, the attempt not counted."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for did in delivery_ids:
                entry = self._entries.pop(did, None)
                if entry is None:
                    continue
                pipe.hset(_key(did), "state", "queued")
                pipe.hincrby(_key(did), "attempts", -1)
                pipe.xack(QUEUE, GROUP, entry)
                pipe.xdel(QUEUE, entry)
                pipe.xadd(QUEUE, {"id": did})
            await pipe.execute()

    async def take_write(self, account: str, per_minute: int, window: float = 60.0) -> float:
        self._writes += 1
        member = f"{self.consumer}:{self._writes}"
        wait = await self._take_write(keys=[f"{P}writes:{account}"],
                                      args=[repr(time.time()), per_minute, member, repr(window)])
        return float(wait)

    async def share_quota(self, account: str, remaining: int, limit: int, reset: float) -> None:
        await self.redis.hset(f"{P}quota", account, f"{remaining}:{limit}:{reset}")

    async def quotas(self) -> dict[str, tuple[int, int, float]]:
        found = {}
        for account, value in (await self.redis.hgetall(f"{P}quota")).items():
            remaining, limit, reset = value.decode().split(":")
            found[account.decode()] = (int(remaining), int(limit), float(reset))
        return found

    async def lock(self, key: str, owner: str, seconds: float) -> bool:
        return bool(await self._lock(keys=[f"{P}lock:{key}"], args=[owner, int(seconds * 1000)]))

    async def unlock(self, key: str, owner: str) -> None:
        await self._unlock(keys=[f"{P}lock:{key}"], args=[owner])

    async def next_due(self) -> float | None:
        """Now when the stream holds entries nobody took or that wait for a takeover; else the
        first delayed one's time."""
        await self._ensure_group()
        group = next((g for g in await self.redis.xinfo_groups(QUEUE) if g["name"] == GROUP.encode()), None)
        if self._ready or (group and (group.get("lag") or 0) > 0):
            return time.time()
        first = await self.redis.zrange(DELAYED, 0, 0, withscores=True)
        due = [first[0][1]] if first else []
        if group and group["pending"] > len(self._entries):  # another replica's, maybe dead: at its lease
            due.append(time.time() + self.lease_ms / 1000)
        return min(due, default=None)

    async def purge(self, ttl_seconds: float) -> int:
        """Delivery hashes expire by themselves; the finished-work indexes are trimmed here."""
        before = time.time() - ttl_seconds
        return sum([await self.redis.zremrangebyscore(k, "-inf", before) for k in (DONE, FAILED)])

    async def counts(self) -> dict[str, int]:
        await self._ensure_group()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(QUEUE)
            pipe.xpending(QUEUE, GROUP)
            pipe.zcard(DELAYED)
            pipe.zcard(DONE)
            pipe.zcard(FAILED)
            length, pending, delayed, done, failed = await pipe.execute()
        working = pending["pending"]
        found = {"queued": length - working + delayed, "working": working, "done": done, "failed": failed}
        return {k: v for k, v in found.items() if v}

    async def oldest_age(self) -> float:
        first = await self.redis.xrange(QUEUE, "-", "+", count=1)
        if not first:
            return 0.0
        received = await self.redis.hget(_key(first[0][1][b"id"].decode()), "received_at")
        return max(0.0, time.time() - float(received)) if received else 0.0

    async def outcome(self, forge: str, instance: str, delivery_id: str) -> tuple[str, str | None] | None:
        state, outcome = await self.redis.hmget(_key(f"{forge}:{instance}:{delivery_id}"), "state", "outcome")
        if state is None:
            return None
        return state.decode(), outcome.decode() if outcome is not None else None

    # ---- what the bot did --------------------------------------------------------------------

    @staticmethod
    def _marks_key(forge: str, repo: str, number: int, kind: str) -> str:
        return f"{P}marks:{forge}:{repo}#{number}:{kind}"

    async def marks(self, forge: str, repo: str, number: int, kind: str) -> set[str]:
        return {v.decode() for v in await self.redis.smembers(self._marks_key(forge, repo, number, kind))}

    async def mark(self, forge: str, repo: str, number: int, kind: str, values: set[str], present: bool = True) -> None:
        if values:
            key = self._marks_key(forge, repo, number, kind)
            await (self.redis.sadd(key, *values) if present else self.redis.srem(key, *values))

    async def remember(self, key: str, value: str, seconds: float | None = None) -> None:
        if seconds is None:
            await self.redis.hset(KEPT, key, value)
        else:  # a key of its own, which Redis forgets by itself
            await self.redis.set(f"{P}kept:{key}", value, px=max(1, int(seconds * 1000)))

    async def recall(self, key: str) -> str | None:
        value = await self.redis.hget(KEPT, key)
        if value is None:
            value = await self.redis.get(f"{P}kept:{key}")
        return value.decode() if value is not None else None

    async def forget(self, key: str) -> None:
        await self.redis.hdel(KEPT, key)
        await self.redis.delete(f"{P}kept:{key}")

    async def shared_get(self, key: str) -> bytes | None:
        return await self.redis.get(f"{P}shared:{key}")

    async def shared_set(self, key: str, value: bytes, seconds: float) -> None:
        await self.redis.set(f"{P}shared:{key}", value, ex=max(1, int(seconds)))

    async def keep_records(self, space: str, records: list[tuple[str, float, str]]) -> None:
        """One script per 500 records: each compares and sets atomically (value hash, updated hash)."""
        for start in range(0, len(records), 500):
            args = [part for key, updated, value in records[start:start + 500] for part in (key, repr(updated), value)]
            await self._keep_records(keys=[f"{P}rec:{space}", f"{P}rec-at:{space}"], args=args)

    async def records(self, space: str) -> list[str]:
        return [v.decode() for v in await self.redis.hvals(f"{P}rec:{space}")]

    async def record(self, space: str, key: str) -> str | None:
        value = await self.redis.hget(f"{P}rec:{space}", key)
        return value.decode() if value is not None else None

