"""``nexus-bot serve``: the web layer and the workers in one process, on the embedded defaults."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import threading
from pathlib import Path

from aiohttp import web

from ..app.cached_reads import CachedReads
from ..app.org_config import Location
from ..app.ports import Services
from ..config import ConfigError, default_config_text
from ..markers import Signer
from ..forges.registry import ForgejoCredentials, Forges, GitHubCredentials
from .limits import bound_connections, give_memory_back, runner
from .recheck import Rechecks
from .settings import Settings
from .store import Store, start_checkpointer
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


def forges_of(settings: Settings) -> Forges:
    """The forge adapters, with the credentials of the settings."""
    github = GitHubCredentials(app_id=settings.app_id, private_key=settings.private_key, token=settings.github_token,
                               api_url=settings.github_api_url, app_slug=settings.app_slug)
    return Forges(github, tuple(ForgejoCredentials(i.name, i.url, i.token) for i in settings.forgejo))


def build(settings: Settings, store: Store | None = None) -> tuple[web.Application, Worker, Forges, Store]:
    """Compose the service (the tests and benchmarks start it the same way). ``store``: the web
    layer's own connection to the database, when it runs on a thread of its own."""
    source = org_config_source(settings)
    work_store = Store(settings.database_path)
    reads = CachedReads(source, memory=work_store, org_ttl=settings.org_config_ttl_seconds,
                        org_location=Location(settings.org_config_repo, settings.org_config_path),
                        org_locations={i.name: Location(i.org_config_repo, i.org_config_path) for i in settings.forgejo})
    services = Services(memory=work_store, rechecks=Rechecks(work_store), reads=reads,
                        signer=Signer(settings.marker_keys),
                        details_url=settings.details_url, recheck_seconds=settings.forgejo_recheck_seconds)
    worker = Worker(services, work_store, forges_of(settings), settings)
    forges = worker.forges
    app = make_app(settings, store or work_store)
    app[WORKER] = worker
    app[SERVICES] = services
    return app, worker, forges, work_store


async def say_what_is_served(forges: Forges) -> None:
    """Credentials checked at start: each forge the bot can serve, and why it cannot serve the others."""
    found = await forges.check()
    for readiness in found:
        (log.info if readiness.ok else log.error)("%s: %s", "serving" if readiness.ok else "cannot serve",
                                                  readiness.message)
    if not found:
        log.warning("no forge is configured: set APP_ID and PRIVATE_KEY, GITHUB_TOKEN, or FORGEJO_URL and FORGEJO_TOKEN")


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): on one core it accepts ~20 % more deliveries,
    with a p99 of 7-9 ms instead of 11-12 ms."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main) -> None:
    """Run the process's main coroutine on the same kind of loop as the web thread."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        runner.run(main)


class WebThread:
    """The web layer on a thread of its own, with its own event loop and SQLite connection: accepting
    a delivery never waits behind an evaluation running on the main loop. (One process, two cores.)"""

    def __init__(self, app: web.Application, settings: Settings):
        self.app, self.settings = app, settings
        self.host, self.port = settings.host, settings.port
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="nexus-web", daemon=True)
        self.thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error

    def _run(self) -> None:
        self.loop = _new_loop()
        asyncio.set_event_loop(self.loop)
        self.runner = runner(self.app, header_timeout=self.settings.header_timeout_seconds, handle_signals=False)
        try:
            self.loop.run_until_complete(self.runner.setup())
            bound_connections(self.runner, self.settings.max_connections)
            self.site = web.TCPSite(self.runner, self.host, self.port)
            self.loop.run_until_complete(self.site.start())
        except BaseException as exc:  # e.g. the port is taken: the main thread reports it
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    async def stop(self) -> None:
        """Stop accepting (in-flight requests finish), then end the thread."""
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.site.stop(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.thread.join, 30)


async def serve(settings: Settings, role: str = "all") -> None:
    """``all``: web layer and workers in one process (the web layer on its own thread).
    ``web`` / ``worker``: one of them, sharing the SQLite file with a process of the other role on
    the same host (a worker then polls the queue)."""
    loop = asyncio.get_running_loop()
    web_store = Store(settings.database_path, checkpoints=False) if role in ("all", "web") else None
    checkpointer = start_checkpointer(settings.database_path) if role == "web" else None
    app, worker, forges, store = build(settings, web_store)
    if role == "all":
        web_store.on_new_work = lambda: loop.call_soon_threadsafe(store.new_work.set)
        sys.setswitchinterval(0.0002)  # the web thread gets the GIL back within 0.2 ms
    if role != "web":
        worker.start(poll_seconds=1.0 if role == "all" else 0.1)
    gc.collect()
    gc.freeze()  # the start-up heap (models, templates, config) is never garbage: collections skip it
    give_memory_back()
    front = WebThread(app, settings)
    front.start()
    if not settings.webhook_secret:
        log.warning("WEBHOOK_SECRET is not set: every GitHub delivery will be refused (401)")
    if role != "web":
        await say_what_is_served(forges)
    log.info("nexus-bot (%s) listening on %s:%s (database %s)", role, settings.host, settings.port, settings.database_path)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: no new deliveries, finishing the work in flight")
    await front.stop()
    if role != "web":
        await worker.stop()
    await forges.aclose()
    store.close()
    if web_store is not None:
        web_store.close()
    if checkpointer is not None:
        checkpointer.set()
    log.info("stopped")
