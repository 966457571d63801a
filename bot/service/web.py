"""The web layer: verify, deduplicate, persist, answer. Nothing else happens before the 202.

The body is only checked to be JSON (orjson, microseconds); fields are read by the workers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import orjson
import simdjson
from aiohttp import web

from ..forges.base import Webhooks
from ..forges.forgejo_webhooks import WEBHOOKS as FORGEJO
from ..forges.github_webhooks import WEBHOOKS as GITHUB
from . import board_web, setup, signin
from .latency import Latencies
from .limits import NoRoom, TooSlow, UnverifiedBytes, read_body
from .metrics import Metrics
from .settings import Settings
from .store import Store

log = logging.getLogger("nexus.web")

KEPT_HEADERS = ("content-type", "user-agent")
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"  # the text format every Prometheus 2.x and 3.x scrapes

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
ACCEPTING = web.AppKey("accepting", object)
WORKER = web.AppKey("worker", object)
SERVICES = web.AppKey("services", object)
BUDGET = web.AppKey("budget", UnverifiedBytes)
METRICS = web.AppKey("metrics", Metrics)
OUTCOME = web.RequestKey("outcome", str)  # a delivery's outcome when its status does not say it (ignored)


def _first_name(request: web.Request, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in request.headers), None)


def _first(request: web.Request, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = request.headers.get(name)
        if value is not None:
            return value
    return None


_parsers = threading.local()


def is_json_object(body: bytes) -> bool:
    """Whether ``body`` is one valid JSON object (UTF-8 and structure checked in full). simdjson
    validates a 23 KB payload in ~14 µs without building Python objects (orjson: ~63 µs); the
    workers parse it later. A parser holds one document at a time, so each thread has its own."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = simdjson.Parser()
    doc = parser.parse(body)
    try:
        return isinstance(doc, simdjson.Object)
    finally:
        del doc  # the parser can take the next document


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Accepting:
    """Latency of accepting, for /metrics (p50/p95/p99 of the last 10,000 deliveries)."""

    def __init__(self) -> None:
        self.latencies = Latencies()
        self.counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "ignored": 0}

    def percentiles(self) -> dict[str, float]:
        return {f"p{q}_ms": ms for q, ms in self.latencies.percentiles(3).items()}


def _closing(response: web.Response) -> web.Response:
    response.force_close()  # the rest of the body is not wanted
    return response


async def receive(request: web.Request, edge: Webhooks, secret: bytes | None, instance: str) -> web.Response:
    started = time.perf_counter()
    response = await _receive(request, edge, secret, instance)
    event = _first(request, edge.event_headers)
    outcome = request.get(OUTCOME) or {202: "accepted", 200: "duplicate"}.get(response.status, "rejected")
    request.app[ACCEPTING].counts[outcome] += 1  # the one count of outcomes, for /metrics.json too
    metrics: Metrics = request.app[METRICS]
    metrics.deliveries.labels(edge.forge, event if event in edge.events else "other", outcome).inc()
    metrics.accept_seconds.observe(time.perf_counter() - started)
    return response


async def _receive(request: web.Request, edge: Webhooks, secret: bytes | None, instance: str) -> web.Response:
    app = request.app
    started = time.perf_counter()
    stats: Accepting = app[ACCEPTING]
    settings: Settings = app[SETTINGS]
    foreign = _first_name(request, edge.foreign_headers)
    if foreign:  # the right door: another forge's delivery is never acted on here
        return _closing(_error(400, f"{foreign} says this delivery is not {edge.forge}'s: "
                                    f"send it to the {'GitHub' if edge.forge != 'github' else 'Forgejo'} endpoint"))
    limit = settings.max_body_bytes
    try:
        body = await read_body(request, app[BUDGET], limit, settings.body_timeout_seconds)
    except web.HTTPRequestEntityTooLarge:
        return _closing(_error(413, f"body larger than {limit} bytes"))
    except TooSlow:
        return _closing(_error(408, f"the body did not arrive within {settings.body_timeout_seconds:g} s"))
    except NoRoom:
        response = _closing(_error(503, "too many unchecked bodies at once; retry later"))
        response.headers["Retry-After"] = "5"
        return response
    signature = _first(request, edge.signature_headers)
    if not secret or not edge.verify(secret, body, signature):
        return _error(401, "invalid or missing signature")
    event = _first(request, edge.event_headers)
    if not event:
        return _error(400, f"missing {edge.event_headers[0]} header")
    if event not in edge.events:  # signed, well formed, and of no use to the bot: a success, not a failed delivery
        request[OUTCOME] = "ignored"
        return _json({"ignored": f"nexus-bot does not handle {event[:60]!r} events; you may unsubscribe them"}, 200)
    delivery = _first(request, edge.delivery_headers)
    if not delivery:
        return _error(400, f"missing {edge.delivery_headers[0]} header")
    if len(delivery) > 200 or not delivery.isascii() or not delivery.isprintable():
        # not signed, and the key of the queue: undecodable bytes here could not even be stored
        return _error(400, f"{edge.delivery_headers[0]} must be printable ASCII, at most 200 characters")
    ctype = request.headers.get("Content-Type", "")
    if not ctype.startswith("application/json"):
        return _error(415, "content type must be application/json (set it in the webhook settings)")
    try:
        if not is_json_object(body):
            raise ValueError("not an object")
    except (ValueError, RuntimeError) as exc:
        return _error(400, f"body is not a JSON object: {str(exc)[:120]}")
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-") or k.lower() in KEPT_HEADERS}
    try:
        new = await app[STORE].accept(edge.forge, instance, delivery, headers, body)
    except Exception:
        log.exception("could not persist delivery %s", delivery)
        return _error(503, "the bot could not store the delivery; retry later")
    stats.latencies.add((time.perf_counter() - started) * 1000)
    if not new:
        return _json({"duplicate": delivery}, 200)
    return _json({"accepted": delivery}, 202)


def _json(data: dict, status: int) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def github(request: web.Request) -> web.Response:
    secret = request.app[SETTINGS].webhook_secret
    return await receive(request, GITHUB, secret.encode() if secret else None, GITHUB.forge)


async def forgejo(request: web.Request) -> web.Response:
    name = request.match_info.get("instance", "default")
    instance = request.app[SETTINGS].forgejo_instance(name)
    # an unknown instance answers as a bad signature does: instance names cannot be probed
    secret = instance.webhook_secret.encode() if instance is not None else None
    return await receive(request, FORGEJO, secret, name if instance is not None else "unknown")


async def _queue(store: Store) -> dict:
    return await asyncio.wait_for(store.counts(), 2.0)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers. The queue's counts are shown when the store answers too."""
    try:
        return web.json_response({"status": "ok", "queue": await _queue(request.app[STORE])})
    except Exception as exc:  # a store outage is for /readyz to report: restarting the process would not help
        return web.json_response({"status": "ok", "queue": None, "store": f"unreachable: {str(exc)[:200]}"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store answers (a delivery would be stored) and the config is loaded."""
    try:
        await asyncio.wait_for(request.app[STORE].ping(), 2.0)
    except Exception as exc:
        return web.json_response({"status": "not ready", "store": f"unreachable: {str(exc)[:200]}"}, status=503)
    return web.json_response({"status": "ready", "store": "ok", "config": "loaded"})


async def prometheus(request: web.Request) -> web.Response:
    """The Prometheus scrape: the counters, and the queue's state read now."""
    metrics: Metrics = request.app[METRICS]
    store: Store = request.app[STORE]
    try:
        counts = await _queue(store)
        for state in ("queued", "working", "done", "failed"):
            metrics.queue_depth.labels(state).set(counts.get(state, 0))
        metrics.queue_oldest.set(await asyncio.wait_for(store.oldest_age(), 2.0))
    except Exception as exc:  # the rest is still worth scraping
        log.warning("queue state unavailable for /metrics: %s", str(exc)[:200])
    return web.Response(body=metrics.text(), headers={"Content-Type": PROMETHEUS_TEXT})


async def metrics_json(request: web.Request) -> web.Response:
    """The figures of the benchmarks: accept latency percentiles, queue, work."""
    stats: Accepting = request.app[ACCEPTING]
    worker = request.app.get(WORKER)
    return web.json_response(
        {
            "accept": {**stats.counts, **stats.percentiles()},
            "queue": await _queue(request.app[STORE]),
            "work": worker.stats() if worker else {},
        }
    )


def probes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/metrics.json", metrics_json)


def make_app(settings: Settings, store: Store, metrics: Metrics | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[BUDGET] = UnverifiedBytes(settings.max_unverified_bytes)
    app[STORE] = store
    app[METRICS] = metrics or Metrics()
    app[ACCEPTING] = Accepting()
    app.router.add_post("/webhooks/github", github)
    app.router.add_post("/webhooks/forgejo", forgejo)
    app.router.add_post("/webhooks/forgejo/{instance}", forgejo)
    probes(app)
    setup.add_routes(app, settings)
    signin.add_routes(app, settings, store)
    board_web.add_routes(app, settings, store)
    return app


def probes_app(store: Store, metrics: Metrics, worker) -> web.Application:
    """A worker's own small server (METRICS_PORT): probes and metrics, no webhooks."""
    app = web.Application()
    app[STORE] = store
    app[METRICS] = metrics
    app[ACCEPTING] = Accepting()
    app[WORKER] = worker
    probes(app)
    return app
