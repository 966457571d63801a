"""Forty concurrent unsigned 25 MB requests against ``nexus-bot serve`` (a child process): answers,
and the process's resident memory before, at its peak, and after the burst.

Before the bounds of bot/service/limits.py, the same burst took the process to 1.58 GB and left it
at 1.46 GB. Not a test: nothing here asserts a figure.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.process import BotProcess  # noqa: E402

REQUESTS, SIZE = 40, 25 * 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main() -> None:
    bot = BotProcess(Path(tempfile.mkdtemp()), WEBHOOK_SECRET="bench-secret", LOG_LEVEL="warning")
    await bot.start()
    pid = bot.proc.pid
    before = rss_mb(pid)
    peak = before
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.02)

    chunk = b"x" * (1024 * 1024)

    async def body():
        for _ in range(SIZE // len(chunk)):
            yield chunk

    async def one(session: aiohttp.ClientSession) -> int:
        headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=00",
                   "Content-Type": "application/json", "Content-Length": str(SIZE)}
        try:
            async with session.post(bot.url + "/webhooks/github", data=body(), headers=headers) as r:
                return r.status
        except aiohttp.ClientError:
            return 0  # the server closed the connection (a refused body is not read)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(one(session) for _ in range(REQUESTS)))
    seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    after = rss_mb(pid)
    stop.set()
    await watcher
    health = (await bot.health())[0]
    await bot.close()
    result = {"requests": REQUESTS, "size_mb": SIZE // 2**20, "statuses": dict(Counter(statuses)),
              "seconds": round(seconds, 2), "rss_mb": {"before": round(before), "peak": round(peak),
                                                       "after_2s": round(after)}, "healthz_after": health}
    print(f"{REQUESTS} unsigned {SIZE // 2**20} MB requests in {seconds:.1f} s: {dict(Counter(statuses))} "
          f"(0: connection closed by the server); RSS {before:.0f} MB before, {peak:.0f} MB peak, "
          f"{after:.0f} MB 2 s after; /healthz {health}")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
