"""A cache whose values are served while they are refreshed: past ``seconds`` a value is still
answered at once, and computed again in the background (once at a time per key); only a key never
computed makes its caller wait. The board's history and figures are read and computed this way, so
that no page waits for a year of history to be decoded again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger("nexus.board")


class Refreshing:
    def __init__(self, seconds: float, maxsize: int = 64):
        self.seconds = seconds
        self.maxsize = maxsize
        self._values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Task] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        found = self._values.get(key)
        if found is None:  # wait for it, with any other caller of the same key
            return await asyncio.shield(self._running.get(key) or self._start(key, compute))
        at, value = found
        self._values.move_to_end(key)
        if time.monotonic() - at >= self.seconds and key not in self._running:
            self._start(key, compute)
        return value

    def _start(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> asyncio.Task:
        task = self._running[key] = asyncio.get_running_loop().create_task(self._compute(key, compute))
        task.add_done_callback(lambda t, k=key: self._done(k, t))
        return task

    def _done(self, key: Hashable, task: asyncio.Task) -> None:
        self._running.pop(key, None)
        if not task.cancelled() and task.exception() is not None and key in self._values:
            log.error("could not refresh %s: %s", key, task.exception())  # the stale value stays; tried again

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        value = await compute()
        self._values[key] = (time.monotonic(), value)
        self._values.move_to_end(key)
        while len(self._values) > self.maxsize:
            self._values.popitem(last=False)
        return value

    async def close(self) -> None:
        """Stop the refreshes under way (the process is stopping; the store may close next)."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
