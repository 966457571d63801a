"""The real server as a child process (``python -m bot serve``), pointed at a fake forge that runs in
the test's own event loop on a real socket.

What a test can do with it: post signed webhooks over HTTP, read /healthz, wait until the queue is
drained, read the bot's SQLite file, send it a signal (``kill -9``, ``SIGTERM``) and start it again
on the same database and port. Everything the process writes (stdout and stderr, so every log line
and the audit log) goes to one file that the test can read and grep.

Never block the event loop while the child runs: it needs the fake forge, which is served by this
loop. Every wait here is an ``asyncio.sleep`` poll.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from .http_client import WebhookClient

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess(WebhookClient):
    """``nexus-bot serve`` in a child process, with its database and its log in ``workdir``."""

    def __init__(self, workdir: Path, *, github=None, role: str = "all", **env: object):
        self.role = role
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = self.workdir / "bot.sqlite3"
        self.log_path = self.workdir / "bot.log"
        self.env = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_PATH": str(self.database),
            "LOG_LEVEL": "debug",
            "COALESCE_SECONDS": "0.1",
            "RETRY_BASE_SECONDS": "0.1",
            "RETRY_MAX_SECONDS": "0.5",
            "BACKFILL_SPRINTS": "0",  # the benchmarks and tests that want a backfill at first sight say so
        }
        if github is not None:
            self.env.update(
                APP_ID=str(github.app_id),
                PRIVATE_KEY=github.private_key,
                WEBHOOK_SECRET=github.webhook_secret.decode(),
                GITHUB_API_URL=github.url,
            )
        self.env.update({k: str(v) for k, v in env.items()})
        if role == "worker":  # no web port: its probes are on METRICS_PORT
            self.env.setdefault("METRICS_PORT", str(free_port()))
            self.url = f"http://127.0.0.1:{self.env['METRICS_PORT']}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._session: aiohttp.ClientSession | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self, timeout: float = 20.0) -> "BotProcess":
        """Start the process and wait until /healthz answers 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FORGEJO_"))}
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts + 1} ----\n".encode())
            log.flush()
            # cwd: the work directory, so no .env of the checkout is read
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--role", self.role], cwd=self.workdir, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        self.starts += 1
        if self._session is None:
            self._session = aiohttp.ClientSession()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.proc.returncode} at start:\n{self.log()[-3000:]}")
            try:
                async with self._session.get(self.url + "/healthz", timeout=aiohttp.ClientTimeout(total=1)) as r:
                    if r.status == 200:
                        return self
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not answer /healthz within {timeout}s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)

    async def restart(self, timeout: float = 20.0) -> "BotProcess":
        """Start again on the same database and port (after ``kill``)."""
        if self.running:
            await self.kill(signal.SIGTERM)
        return await self.start(timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the process to exit; returns its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return await self.wait(timeout)

    async def wait(self, timeout: float = 30.0) -> int:
        """Wait (without blocking the loop) until the process has exited."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"the bot did not exit within {timeout}s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.02)
        return self.proc.returncode

    async def close(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and the HTTP session."""
        if self.running:
            try:
                await self.kill(signal.SIGTERM, timeout=10)
            except RuntimeError:
                pass
        if self._session:
            await self._session.close()
            self._session = None

    # ---- HTTP ---------------------------------------------------------------------------------

    async def get(self, path: str) -> tuple[int, dict]:
        async with self._session.get(self.url + path) as resp:
            return resp.status, await resp.json(content_type=None)

    async def health(self) -> tuple[int, dict]:
        return await self.get("/healthz")

    async def settle(self, timeout: float = 20.0) -> dict[str, int]:
        """Wait until nothing is queued or in work (every accepted delivery is done or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.running, f"the bot died:\n{self.log()[-3000:]}"
            status, data = await self.health()
            queue = data.get("queue")  # None while the store does not answer
            if status == 200 and queue is not None and not queue.get("queued") and not queue.get("working"):
                return queue
            if time.monotonic() > deadline:
                raise TimeoutError(f"queue not drained within {timeout}s: {queue}\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)

    # ---- what the process left behind ---------------------------------------------------------

    def deliveries(self) -> dict[str, tuple[str, str | None, int]]:
        """delivery id (as the forge sent it) -> (state, outcome, attempts), read from the database."""
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute("SELECT id, state, outcome, attempts FROM deliveries").fetchall()
        finally:
            db.close()
        return {r[0].split(":", 2)[2]: (r[1], r[2], r[3]) for r in rows}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def audit(self) -> list[dict]:
        """The audit lines (logger ``nexus.audit``), parsed."""
        lines = []
        for line in self.log().splitlines():
            _, sep, payload = line.partition(" nexus.audit ")
            if sep:
                lines.append(json.loads(payload))
        return lines
