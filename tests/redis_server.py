"""A real Redis server (Debian's ``redis-server``) for the tests: started on a free port in a
temporary directory, with the AOF the README advises, stopped and started again on the same data."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from .process import free_port

SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def available() -> bool:
    return Path(SERVER).exists()


class RedisServer:
    def __init__(self, workdir: Path, fsync: str = "always"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.fsync = fsync
        self.proc: subprocess.Popen | None = None

    async def start(self, timeout: float = 10.0) -> "RedisServer":
        if not available():
            pytest.fail("redis-server is not installed: bin/setup installs it (apt-get install redis-server)")
        log = open(self.workdir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "yes", "--appendfsync", self.fsync, "--save", "", "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(self.workdir / 'redis.log').read_text()[-2000:]}")
                await asyncio.sleep(0.05)
        finally:
            client.close()

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGTERM: as an operator would; the AOF is on disk)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            while self.proc.poll() is None:
                await asyncio.sleep(0.02)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def deliveries(self) -> dict[str, tuple[str, str | None, int]]:
        """delivery id (as the forge sent it) -> (state, outcome, attempts), read from Redis."""
        found = {}
        with self.client() as r:
            for key in r.scan_iter("nexus:d:*"):
                state, outcome, attempts = r.hmget(key, "state", "outcome", "attempts")
                did = key.decode().removeprefix("nexus:d:").split(":", 2)[2]
                found[did] = (state.decode(), outcome.decode() if outcome else None, int(attempts or 0))
        return found
