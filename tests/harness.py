"""The bot under test: the real service (web layer, durable queue, workers) on a real socket,
pointed at the fake forges. Webhooks go through HTTP exactly as a forge sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.service.limits import bound_connections, runner
from bot.service.server import build
from bot.service.settings import Settings

from .http_client import WebhookClient


class RunningBot(WebhookClient):
    def __init__(self, settings: Settings, routes: Callable[[web.Application], None] | None = None, port: int = 0):
        """``routes``: adds a test's own routes to the bot's app before it serves. ``port``: 0 for any
        free one; a test that must know the address before the bot starts (its ``BOARD_URL``, which a
        real browser is sent back to) picks one with ``tests.process.free_port``."""
        self.settings = settings
        self._routes = routes
        self._port = port
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> "RunningBot":
        self.app, self.worker, self.forges, self.store = build(self.settings)
        if self._routes is not None:
            self._routes(self.app)
        await self.worker.start()
        self._runner = runner(self.app, header_timeout=self.settings.header_timeout_seconds)
        await self._runner.setup()
        bound_connections(self._runner, self.settings.max_connections)
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session:
            await self._session.close()
        await self.worker.stop(timeout=5)
        if self._runner:
            await self._runner.cleanup()
        await self.forges.aclose()
        await self.store.close()

    async def settle(self, timeout: float = 20) -> None:
        """Wait until every accepted delivery has been processed."""
        await asyncio.wait_for(self.worker.idle(), timeout)


def settings_for(tmp_path: Path, *, github=None, forgejo=None, **extra) -> Settings:
    env = {
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "COALESCE_SECONDS": "0.05",
        "RETRY_BASE_SECONDS": "0.05",
        "RETRY_MAX_SECONDS": "0.5",
        "LOG_LEVEL": "debug",
        "BACKFILL_SPRINTS": "0",  # no backfill at first sight unless a test asks for it
    }
    if github is not None:
        env.update(
            APP_ID=str(github.app_id),
            PRIVATE_KEY=github.private_key,
            WEBHOOK_SECRET=github.webhook_secret.decode(),
            GITHUB_API_URL=github.url,
        )
    if forgejo is not None:
        env.update(
            FORGEJO_URL=forgejo.url,
            FORGEJO_TOKEN=forgejo.token,
            FORGEJO_WEBHOOK_SECRET=forgejo.webhook_secret.decode()
            if isinstance(forgejo.webhook_secret, bytes) else forgejo.webhook_secret,
        )
    env.update({k: str(v) for k, v in extra.items()})
    return Settings.from_env(env)
