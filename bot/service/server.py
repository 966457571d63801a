"""``nexus-bot serve``: the web layer and the workers in one process, on the embedded defaults."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from ..app.cached_reads import CachedReads
from ..app.org_config import Location
from ..app.ports import Services
from ..config import ConfigError, default_config_text
from ..markers import Signer
from ..forges.registry import ForgejoCredentials, Forges, GitHubCredentials
from ..forges.traffic import NoTraffic, Traffic
from .budget import Budget
from .limits import bound_connections, give_memory_back, runner
from .logs import setup_logging  # noqa: F401 - the CLI's
from .metrics import Metrics
from .board_store import StoreBoard
from .history_store import StoreHistory
from .recheck import Rechecks
from .settings import Settings
from .store import Store
from .store_sqlite import SqliteStore, start_checkpointer
from .web import METRICS, SERVICES, WORKER, make_app, probes_app
from .worker import Worker

log = logging.getLogger("nexus")


def process_name() -> str:
    """This process among the replicas (its name in locks and in the queue's consumer group)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def open_store(settings: Settings, name: str, *, web: bool = False) -> Store:
    """Redis with REDIS_URL (shared by the replicas), else the SQLite file. ``web``: the web layer's
    own connection (it runs on a thread and event loop of its own)."""
    if settings.redis_url:
        from .store_redis import RedisStore

        return RedisStore(settings.redis_url, f"{name}:web" if web else name, lease_seconds=settings.lease_seconds,
                          ttl_seconds=settings.delivery_ttl_hours * 3600)
    return SqliteStore(settings.database_path, checkpoints=not web)


def where_state_lives(settings: Settings) -> str:
    if settings.redis_url:
        from redis.connection import parse_url

        found = parse_url(settings.redis_url)
        return f"Redis at {found.get('host', found.get('path', '?'))}:{found.get('port', 6379)}/{found.get('db', 0)}"
    return f"database {settings.database_path}"


def org_config_source(settings: Settings) -> tuple[str, str]:
    if settings.config_path:
        path = Path(settings.config_path)
        try:
            return (str(path), path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(str(path), None, None, f"cannot read the file ({exc.strerror})") from None
    return default_config_text()


def forges_of(settings: Settings, traffic: Traffic = NoTraffic()) -> Forges:
    """The forge adapters, with the credentials of the settings (``traffic``: the rate-limit budget)."""
    github = GitHubCredentials(app_id=settings.app_id, private_key=settings.private_key, token=settings.github_token,
                               api_url=settings.github_api_url, app_slug=settings.app_slug)
    return Forges(github, tuple(ForgejoCredentials(i.name, i.url, i.token) for i in settings.forgejo), traffic)


def build(settings: Settings, store: Store | None = None, name: str | None = None
          ) -> tuple[web.Application, Worker, Forges, Store]:
    """Compose the service (the tests and benchmarks start it the same way). ``store``: the web
    layer's own connection to the store, when it runs on a thread of its own."""
    source = org_config_source(settings)
    name = name or process_name()
    work_store = open_store(settings, name)
    metrics = Metrics()
    reads = CachedReads(source, settings.config_ttl_seconds, missing_ttl=settings.config_missing_ttl_seconds,
                        memory=work_store, org_ttl=settings.org_config_ttl_seconds,
                        org_location=Location(settings.org_config_repo, settings.org_config_path),
                        org_locations={i.name: Location(i.org_config_repo, i.org_config_path) for i in settings.forgejo})
    reads.orgs.observe = metrics
    metrics.watch_caches(reads)
    services = Services(memory=work_store, rechecks=Rechecks(work_store), reads=reads,
                        history=StoreHistory(work_store), board=StoreBoard(work_store),
                        signer=Signer(settings.marker_keys), observe=metrics,
                        details_url=settings.verdict_link, recheck_seconds=settings.forgejo_recheck_seconds)
    budget = Budget(work_store, metrics, writes_per_minute=settings.writes_per_minute)
    worker = Worker(services, work_store, forges_of(settings, budget), settings, owner=name)
    worker.budget, worker.metrics = budget, metrics
    forges = worker.forges
    app = make_app(settings, store or work_store, metrics)
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

    def __init__(self, app: web.Application, settings: Settings, closing: Store | None = None):
        self.app, self.settings, self.closing = app, settings, closing
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
        if self.closing is not None:  # its store: connections belong to this thread's loop
            self.loop.run_until_complete(self.closing.close())
        self.loop.close()

    async def stop(self) -> None:
        """Stop accepting (in-flight requests finish), then end the thread."""
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.site.stop(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.thread.join, 30)


async def serve(settings: Settings, role: str = "all") -> None:
    """``all``: web layer and workers in one process (the web layer on its own thread).
    ``web`` / ``worker``: one of them, sharing the store with processes of the other role (the
    SQLite file on one host, or Redis anywhere). A worker binds no web port; with METRICS_PORT it
    serves /metrics, /healthz and /readyz there."""
    loop = asyncio.get_running_loop()
    name = process_name()
    web_store = open_store(settings, name, web=True) if role in ("all", "web") else None
    sqlite = not settings.redis_url
    checkpointer = start_checkpointer(settings.database_path) if role == "web" and sqlite else None
    app, worker, forges, store = build(settings, web_store, name)
    if role == "all":
        sys.setswitchinterval(0.0002)  # the web thread gets the GIL back within 0.2 ms
        if sqlite:
            web_store.on_new_work = lambda: loop.call_soon_threadsafe(store.new_work.set)
    if role != "web":
        await worker.start(poll_seconds=1.0 if role == "all" or not sqlite else 0.1)
    gc.collect()
    gc.freeze()  # the start-up heap (models, templates, config) is never garbage: collections skip it
    give_memory_back()
    front = None
    if role != "worker":
        front = WebThread(app, settings, closing=web_store)
        front.start()
    elif settings.metrics_port:
        front = WebThread(probes_app(store, app[METRICS], worker), replace(settings, port=settings.metrics_port))
        front.start()
    if not settings.webhook_secret and role != "worker":
        log.warning("WEBHOOK_SECRET is not set: every GitHub delivery will be refused (401)")
    if role != "web":
        await say_what_is_served(forges)
    where = f"listening on {settings.host}:{settings.port}" if role != "worker" else (
        f"metrics on {settings.host}:{settings.metrics_port}" if settings.metrics_port else "no HTTP port")
    log.info("nexus-bot (%s) %s (%s)", role, where, where_state_lives(settings))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: no new deliveries, finishing the work in flight")
    if front is not None:
        await front.stop()
    if role != "web":
        await worker.stop()
    await forges.aclose()
    await store.close()
    if checkpointer is not None:
        checkpointer.set()
    log.info("stopped")
