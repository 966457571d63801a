"""One store interface, two implementations: the same promises checked on the SQLite file and on a
real Redis server."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import pytest_asyncio

from bot.service.store_redis import RedisStore
from bot.service.store_sqlite import SqliteStore
from tests.redis_server import RedisServer


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def store(request, tmp_path):
    """A factory: store(name) -> a store; two names on Redis are two processes sharing it."""
    made = []
    server = await RedisServer(tmp_path / "redis").start() if request.param == "redis" else None

    def make(name: str = "one", lease: float = 30.0):
        s = (RedisStore(server.url, name, lease_seconds=lease) if server
             else SqliteStore(str(tmp_path / "bot.sqlite3")))
        made.append(s)
        return s

    make.kind = request.param
    yield make
    for s in made:
        await s.close()
    if server:
        await server.stop(signal.SIGKILL)


async def test_a_delivery_is_accepted_once_claimed_and_finished(store):
    s = store()
    assert await s.accept("github", "github", "d1", {"x-github-event": "pull_request"}, b'{"a": 1}') is True
    assert await s.accept("github", "github", "d1", {}, b"{}") is False  # a redelivery
    assert await s.recover() == 0
    (d,) = await s.claim()
    assert (d.id, d.body, d.headers, d.attempts) == ("github:github:d1", b'{"a": 1}', {"x-github-event": "pull_request"}, 1)
    assert (await s.counts()).get("working") == 1
    await s.finish(d.id, "dod passed")
    assert await s.outcome("github", "github", "d1") == ("done", "dod passed")
    assert await s.claim() == []
    assert (await s.counts()) == {"done": 1}


async def test_work_put_back_is_due_later_and_counted_again(store):
    s = store()
    await s.accept("github", "github", "d1", {}, b"{}")
    (d,) = await s.claim()
    await s.retry(d.id, 0.3, "retry: 502")
    assert await s.claim() == []
    due = await s.next_due()
    assert due is not None and due > time.time()
    await asyncio.sleep(0.35)
    (again,) = await s.claim()
    assert again.attempts == 2
    await s.release([again.id])  # handed back untouched: the attempt does not count
    (third,) = await s.claim()
    assert third.attempts == 2


async def test_scheduled_work_is_once_per_id(store):
    s = store()
    assert await s.schedule("forgejo", "default", "recheck:1", {"x-nexus-event": "recheck"}, b"{}", 0.2) is True
    assert await s.schedule("forgejo", "default", "recheck:1", {}, b"{}", 0.2) is False
    assert await s.claim() == []
    await asyncio.sleep(0.25)
    (d,) = await s.claim()
    assert d.headers == {"x-nexus-event": "recheck"}


async def test_marks_and_kept_values(store):
    s = store()
    await s.mark("github", "o/r", 1, "label", {"team:a", "nexus"})
    await s.mark("github", "o/r", 1, "label", {"nexus"}, present=False)
    assert await s.marks("github", "o/r", 1, "label") == {"team:a"}
    assert await s.marks("github", "o/r", 2, "label") == set()
    await s.remember("org-config:github:acme", "v1")
    assert await s.recall("org-config:github:acme") == "v1" and await s.recall("nothing") is None
    await s.remember("board-session:abc", "{}")
    await s.forget("board-session:abc")
    await s.forget("nothing")  # forgetting what is not there is no error
    assert await s.recall("board-session:abc") is None and await s.recall("org-config:github:acme") == "v1"


async def test_a_value_kept_for_a_while_is_gone_by_itself(store):
    s = store()
    await s.remember("board-session:short", "{}", 0.2)
    await s.remember("board-session:long", "{}", 60)
    assert await s.recall("board-session:short") == "{}"
    await asyncio.sleep(0.3)
    await s.purge(3600)  # SQLite drops it here; Redis has already forgotten it
    assert await s.recall("board-session:short") is None and await s.recall("board-session:long") == "{}"
    await s.forget("board-session:long")
    assert await s.recall("board-session:long") is None


async def test_history_records_keep_the_newest_value_per_key(store):
    a, b = store("a"), store("b")
    await a.keep_records("history:github:org:items", [("o/r#1", 10.0, "v10"), ("o/r#2", 5.0, "w5")])
    await b.keep_records("history:github:org:items", [("o/r#1", 9.0, "v9"), ("o/r#2", 6.0, "w6")])  # one older, one newer
    await a.keep_records("history:github:other:items", [("o/r#1", 1.0, "x")])
    assert sorted(await b.records("history:github:org:items")) == ["v10", "w6"]
    assert sorted(await a.records("history:github:org:items")) == ["v10", "w6"]  # the same store, seen from both
    assert await a.records("nothing") == []
    assert await b.record("history:github:org:items", "o/r#2") == "w6" and await b.record("history:github:org:items", "x") is None


async def test_the_write_budget_is_shared_and_says_how_long_to_wait(store):
    a, b = store("a"), store("b")
    shared = store.kind == "redis"  # SQLite is one host, one process: its budget is the process's
    assert [await a.take_write("github:1", 3, window=0.5) for _ in range(2)] == [0.0, 0.0]
    assert await (b if shared else a).take_write("github:1", 3, window=0.5) == 0.0
    wait = await a.take_write("github:1", 3, window=0.5)
    assert 0 < wait <= 0.5
    assert await a.take_write("github:2", 3, window=0.5) == 0.0  # another installation's budget
    await asyncio.sleep(wait + 0.01)
    assert await a.take_write("github:1", 3, window=0.5) == 0.0
    await a.share_quota("github:1", 120, 5000, 1e10)
    assert (await (b if shared else a).quotas())["github:1"] == (120, 5000, 1e10)


async def test_one_lock_holder_at_a_time_renewed_by_its_owner(store):
    if store.kind == "sqlite":
        pytest.skip("one host, one worker: SQLite needs no lock between processes")
    a, b = store("a"), store("b")
    assert await a.lock("github:o/r:1", "a", 0.3) is True
    assert await b.lock("github:o/r:1", "b", 0.3) is False
    assert await a.lock("github:o/r:1", "a", 0.3) is True  # renewed
    await b.unlock("github:o/r:1", "b")  # not b's: nothing happens
    assert await b.lock("github:o/r:1", "b", 0.3) is False
    await a.unlock("github:o/r:1", "a")
    assert await b.lock("github:o/r:1", "b", 0.3) is True
    await asyncio.sleep(0.35)  # b died: its lease expires
    assert await a.lock("github:o/r:1", "a", 0.3) is True


async def test_claimed_work_not_renewed_is_taken_over_after_its_lease(store):
    if store.kind == "sqlite":
        pytest.skip("SQLite: the restart of the one process recovers it (tests/test_faults.py)")
    a, b = store("a", lease=0.4), store("b", lease=0.4)
    await a.accept("github", "github", "d1", {}, b"{}")
    await a.accept("github", "github", "d2", {}, b"{}")
    first = await a.claim()
    assert len(first) == 2 and await b.claim() == []
    await asyncio.sleep(0.25)
    await a.touch([first[0].id])  # a still works on d1, and stopped on d2 (killed, say)
    await asyncio.sleep(0.25)
    (taken,) = await b.claim()
    assert taken.id == "github:github:d2" and taken.attempts == 2
    await b.finish(taken.id, "dod passed")
    await a.finish(first[0].id, "dod passed")
    assert (await a.counts()) == {"done": 2}


async def test_redis_unreachable_is_an_outage_not_a_failure(redis_server):
    s = RedisStore(redis_server.url, "a")
    await redis_server.stop()
    with pytest.raises(Exception) as raised:
        await s.accept("github", "github", "d1", {}, b"{}")
    assert s.is_outage(raised.value)
    await s.close()
