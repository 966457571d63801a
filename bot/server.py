"""``nexus-bot serve``: the web layer and the workers in one process, on the embedded defaults."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web

from .config import ConfigError, default_config_text
from .forges.registry import Forges
from .handlers import Services
from .lookups import Lookups
from .settings import Settings
from .store import Store
from .web import SERVICES, WORKER, make_app
from .worker import Worker

log = logging.getLogger("nexus")


def setup_logging(level: str) -> None:
    levels = {"warn": "WARNING", "trace": "DEBUG", "fatal": "CRITICAL"}
    logging.basicConfig(
        level=levels.get(level, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("httpx", "httpcore", "hishel", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def org_config_source(settings: Settings) -> tuple[str, str]:
    if settings.config_path:
        path = Path(settings.config_path)
        try:
            return (str(path), path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(str(path), None, None, f"cannot read the file ({exc.strerror})") from None
    return default_config_text()


def build(settings: Settings) -> tuple[web.Application, Worker, Forges, Store]:
    """Compose the service (the tests and benchmarks start it the same way)."""
    from .commands_wiring import handle_comment
    from .readiness import run_ready

    source = org_config_source(settings)
    store = Store(settings.database_path)
    lookups = Lookups(source)
    forges = Forges(settings)
    services = Services(settings, store, lookups, commands=handle_comment, ready=run_ready)
    worker = Worker(services, forges)
    app = make_app(settings, store)
    app[WORKER] = worker
    app[SERVICES] = services
    return app, worker, forges, store


async def serve(settings: Settings, role: str = "all") -> None:
    """``all``: web layer and workers in one process. ``web`` / ``worker``: one of them, sharing the
    SQLite file with a process of the other role on the same host (a worker then polls the queue)."""
    app, worker, forges, store = build(settings)
    if role != "web":
        worker.start(poll_seconds=1.0 if role == "all" else 0.1)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    if not settings.webhook_secret:
        log.warning("WEBHOOK_SECRET is not set: every GitHub delivery will be refused (401)")
    log.info("nexus-bot (%s) listening on %s:%s (database %s)", role, settings.host, settings.port, settings.database_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: no new deliveries, finishing the work in flight")
    await site.stop()
    if role != "web":
        await worker.stop()
    await runner.cleanup()
    await forges.aclose()
    store.close()
    log.info("stopped")
