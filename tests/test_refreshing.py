"""The board's cache: served while refreshed, computed once at a time, a failed refresh keeps the value."""

from __future__ import annotations

import asyncio

from bot.app.refreshing import Refreshing


async def test_a_stale_value_is_served_at_once_and_refreshed_in_the_background():
    calls, gate = [], asyncio.Event()

    async def compute():
        calls.append(len(calls))
        if len(calls) > 1:
            await gate.wait()
        return len(calls)

    cache = Refreshing(seconds=0.0)
    assert await cache.get("k", compute) == 1  # never computed: the caller waits
    assert await cache.get("k", compute) == 1  # stale: served at once, a refresh starts
    await asyncio.sleep(0)
    assert await cache.get("k", compute) == 1  # the refresh still runs: not started twice
    assert len(calls) == 2
    gate.set()
    await asyncio.sleep(0.01)
    assert await cache.get("k", compute) == 2  # the refreshed value (and a next refresh starts)


async def test_callers_of_a_key_never_computed_share_one_computation():
    calls = []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.02)
        return "v"

    cache = Refreshing(seconds=60)
    assert await asyncio.gather(*(cache.get("k", compute) for _ in range(5))) == ["v"] * 5
    assert len(calls) == 1


async def test_a_failed_refresh_keeps_the_value_and_is_tried_again(caplog):
    state = {"fail": False, "n": 0}

    async def compute():
        state["n"] += 1
        if state["fail"]:
            raise RuntimeError("store down")
        return state["n"]

    cache = Refreshing(seconds=0.0)
    assert await cache.get("k", compute) == 1
    state["fail"] = True
    assert await cache.get("k", compute) == 1
    await asyncio.sleep(0.01)
    assert "could not refresh" in caplog.text
    state["fail"] = False
    assert await cache.get("k", compute) == 1  # still the last good value; a refresh is tried again
    await asyncio.sleep(0.01)
    assert await cache.get("k", compute) == 3


async def test_closing_stops_the_refreshes_under_way():
    gate = asyncio.Event()
    calls = []

    async def compute():
        calls.append(1)
        if len(calls) > 1:
            await gate.wait()
        return len(calls)

    cache = Refreshing(seconds=0.0)
    assert await cache.get("k", compute) == 1
    assert await cache.get("k", compute) == 1  # a refresh starts, and waits
    await asyncio.sleep(0)
    task = next(iter(cache._running.values()))
    await cache.close()
    assert task.cancelled() and not cache._running
