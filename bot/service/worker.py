"""Workers: take accepted deliveries from the durable queue, coalesce them per pull request or issue,
and process each batch once, with the forge's latest state.

Guarantees: a delivery is marked done only after its effect is published; a forge failure puts it
back in the queue with exponential backoff and jitter; work in flight at a crash is redone after the
restart (``Store.recover``); an event arriving while its entity is being processed gets a later
evaluation, never a stale one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
import time
from dataclasses import dataclass, field, replace

from ..app.ports import Services
from ..app.backfill import announce, backfilled, ensure_backfilled, sprint_windows
from ..app.router import coverable, ignore_reason, is_evidence, process_batch, record_evidence_of
from ..forges.base import Forge, ForgeError, PayloadError
from ..forges.registry import Forges, NotConfigured
from ..model import Event
from . import audit, recheck
from .budget import Budget
from .coverage import Evaluations
from .latency import Latencies
from .metrics import Metrics
from .settings import Settings
from .store import Delivery, Store

log = logging.getLogger("nexus.worker")

MAX_FORGE_WAIT = 3600.0  # the longest Retry-After / rate-limit reset honoured before asking again
MAX_IN_MEMORY = 5000  # deliveries taken from the queue and not yet finished (a few KB each, bodies dropped)
MAX_HELD = 20_000  # more of them, while they wait for their installation's quota to reset
PERMANENT_ATTEMPTS = 3  # a refusal (404, 422, ...) is asked again this often (replication lag), then failed
_REPO = re.compile(r"[\w.-]+/[\w.-]+")


def _transient(error: Exception) -> bool:
    """Worth asking again later: the forge failing or limiting, not refusing this request."""
    return not isinstance(error, ForgeError) or error.transient


class TimedForge:
    """Counts the adapter calls made for one batch and the time spent waiting on the forge."""

    def __init__(self, forge: Forge):
        self._forge = forge
        self.calls = 0
        self.seconds = 0.0

    def __getattr__(self, name: str):
        attr = getattr(self._forge, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(attr):
            return attr

        async def timed(*args, **kwargs):
            started = time.perf_counter()
            self.calls += 1
            try:
                return await attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def _lock_key(key: tuple) -> str:
    """The name of an entity's lock: one evaluation at a time per PR or issue, across processes."""
    return ":".join(str(part) for part in key)


def _account(event: Event) -> str:
    """Whose quota an event's work spends: its installation (GitHub), its instance (Forgejo)."""
    if event.forge == "github":
        return str(event.installation_id) if event.installation_id is not None else "token"
    return event.instance or "default"


def _number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _linked(event: Event) -> list[tuple[tuple, Event]]:
    """A link between two items (a dependency the forge records) concerns the other item too, when it
    is of the same owner (another owner is another installation: its own delivery will come)."""
    linked = event.extra.get("linked")
    if not (isinstance(linked, list) and len(linked) == 2):
        return []
    repo, number = linked
    if not (isinstance(repo, str) and _REPO.fullmatch(repo) and _number(number)):
        return []
    if repo.split("/")[0].lower() != (event.repo or "").split("/")[0].lower():
        return []
    other = replace(event, repo=repo, number=number, labels=None, extra={})
    return [] if other.entity == event.entity else [(other.entity, other)]


def _checked(event: Event) -> Event:
    """The fields that name what to fetch and what to coalesce on, checked: they go into API paths
    and dictionary keys. A parser lets through what the payload says; a signed payload can still be wrong."""
    if not isinstance(event.action, str):
        raise PayloadError(f"action is not a string: {str(event.action)[:60]}")
    if event.repo is not None and not (isinstance(event.repo, str) and _REPO.fullmatch(event.repo)):
        raise PayloadError(f"repository is not owner/name: {str(event.repo)[:60]}")
    numbers = ([] if event.number is None else [event.number]) + list(event.pr_numbers or ())
    if not all(_number(n) for n in numbers):
        raise PayloadError(f"pull request or issue number is not a positive integer: {str(numbers)[:60]}")
    if numbers and event.repo is None:
        raise PayloadError("missing field 'repository.full_name'")
    if event.head_sha is not None and not isinstance(event.head_sha, str):
        raise PayloadError("head sha is not a string")
    return event


@dataclass
class Batch:
    key: tuple
    items: list[tuple[Event, Delivery]] = field(default_factory=list)
    due: bool = False  # the window has closed
    held: bool = False  # waiting for its installation's quota to reset


class Worker:
    def __init__(self, services: Services, store: Store, forges: Forges, settings: Settings, owner: str):
        """``owner``: this process's name among the replicas (``server.process_name``), in locks."""
        self.services = services
        self.store = store
        self.forges = forges
        self.settings = settings
        self.window = self.settings.coalesce_seconds
        self.judged = Evaluations(store, self.window)  # when each item was last judged, by any replica
        self.slots = asyncio.Semaphore(self.settings.workers)
        self.waiting: dict[tuple, Batch] = {}  # collecting events, or due and waiting for its entity
        self.running: dict[tuple, asyncio.Task] = {}
        self.shares: dict[str, int] = {}  # delivery id -> batches it is still part of
        self.failed_shares: dict[str, str] = {}
        self.stopping = False
        self.own_ms = Latencies()  # the bot's own time per batch, forge latency excluded
        self.processed = 0
        self.evaluations = 0
        self._task: asyncio.Task | None = None
        self._heart: asyncio.Task | None = None
        self.owner = owner
        self.budget: Budget | None = None  # the installations' quotas: a low one merges more events
        self.metrics: Metrics | None = None
        self.poll_seconds = 1.0
        self._room = asyncio.Event()  # set when deliveries in memory finish
        self._seen_owners: set[tuple[str, str]] = set()  # (forge instance, owner) whose history was seen to
        self._background: set[asyncio.Task] = set()  # first backfills running

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self, poll_seconds: float = 1.0) -> None:
        self.poll_seconds = poll_seconds
        try:
            recovered = await self.store.recover()
        except Exception as exc:  # the store is down: the loop keeps trying, and says so
            log.error("could not reach the store at start: %s", str(exc)[:200])
            recovered = 0
        if recovered:
            log.info("recovered %d deliveries that were in flight", recovered)
        self._task = asyncio.create_task(self._loop(), name="nexus-worker")
        self._heart = asyncio.create_task(self._heartbeat(), name="nexus-heartbeat")

    async def _heartbeat(self) -> None:
        """Work in hand stays this process's: its leases (claimed deliveries, entity locks) are renewed
        while it lives. A process that dies stops renewing, and another replica takes the work over."""
        while not self.stopping:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                await self.store.touch(list(self.shares))
                for key in list(self.running):
                    await self.store.lock(_lock_key(key), self.owner, self.settings.lease_seconds)
            except Exception:
                log.exception("could not renew the leases of the work in hand")

    async def stop(self, timeout: float = 25.0) -> None:
        """Stop taking work; finish what runs (up to ``timeout``); hand back the rest."""
        self.stopping = True
        self._room.set()
        for task in list(self._background):  # a backfill resumes after its last finished window
            task.cancel()
        if self._task:
            self._task.cancel()  # it only waits for work, or takes it in: what it took is handed back
            await asyncio.gather(self._task, return_exceptions=True)
        for batch in self.waiting.values():
            await self.store.release([d.id for _, d in batch.items])
        self.waiting.clear()
        if self.running:
            done, pending = await asyncio.wait(list(self.running.values()), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._heart:
            self._heart.cancel()
            await asyncio.gather(self._heart, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until the queue has nothing due and nothing runs (tests, benchmarks)."""
        while True:
            due = await self.store.next_due()
            if not self.waiting and not self.running and (due is None or due > time.time() + 0.05):
                if not (await self.store.counts()).get("working"):
                    return
            await asyncio.sleep(0.02)

    def stats(self) -> dict:
        own = self.own_ms.percentiles(2)
        return {
            "processed": self.processed,
            "evaluations": self.evaluations,
            "own_ms_p50": own.get(50),
            "own_ms_p95": own.get(95),
            "own_ms_p99": own.get(99),
            **self.services.reads.stats(),
        }

    # ---- taking work -------------------------------------------------------------------------

    async def _loop(self) -> None:
        purge_at = 0.0
        while not self.stopping:
            held = sum(len(b.items) for b in self.waiting.values() if b.held)  # other installations go on
            room = min(MAX_IN_MEMORY - (len(self.shares) - held), MAX_IN_MEMORY + MAX_HELD - len(self.shares))
            if room <= 0:  # enough taken in: the rest waits in the queue, where it is durable anyway
                self._room.clear()
                await self._room.wait()
                continue
            try:
                deliveries = await self.store.claim(min(200, room))
            except Exception as exc:
                log.error("could not read the queue: %s", str(exc)[:200])
                await asyncio.sleep(1)
                continue
            for i, delivery in enumerate(deliveries):
                if self.stopping:  # hand back the rest at once: a stop must not wait for them
                    await self.store.release([d.id for d in deliveries[i:]])
                    break
                try:
                    await self._ingest(delivery)
                except asyncio.CancelledError:
                    await asyncio.shield(self.store.release([d.id for d in deliveries[i:]]))
                    raise
                except Exception as exc:  # a bug must not stop the queue
                    log.exception("could not take delivery %s", delivery.id)
                    await self._finish(delivery, None, f"error: {type(exc).__name__}: {exc}", time.perf_counter(),
                                       state="failed")
            if self.budget is not None:
                try:
                    await self.budget.refresh()
                except Exception as exc:
                    log.warning("could not read the shared quotas: %s", str(exc)[:200])
            if time.time() > purge_at:
                try:
                    await self.store.purge(self.settings.delivery_ttl_hours * 3600)
                except Exception as exc:
                    log.error("could not purge old deliveries: %s", str(exc)[:200])
                purge_at = time.time() + 300
            if deliveries:
                await asyncio.sleep(0)
                continue
            try:
                await self.store.wait_for_work(self.poll_seconds)
            except Exception as exc:
                log.error("could not wait for work: %s", str(exc)[:200])
                await asyncio.sleep(1)

    async def _ingest(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        event, evidence = None, None
        try:
            event = recheck.parse(delivery.headers, delivery.body, delivery.instance, delivery.forge)
            if event is None:
                event = await self.forges.parse(delivery.forge, delivery.instance, delivery.headers, delivery.body)
            event = _checked(event)
            if is_evidence(event) and not event.from_this_bot:  # a fact for the Nexus metrics, whatever else it is
                evidence = await record_evidence_of(self.services, self.forges.for_event(event), event.where, event)
            reason = ignore_reason(event)
            if reason:
                await self._finish(delivery, event, evidence or reason, started)
                return
            forge = self.forges.for_event(event)
            await self._first_sight(forge, event)
            keys = await self._entities(event, forge)
        except NotConfigured as exc:  # kept until the configuration is fixed (within DELIVERY_TTL_HOURS)
            log.error("delivery %s waits: %s", delivery.id, exc)
            await self._retry(delivery, event, ForgeError(f"waiting for configuration: {exc}"), started=started)
            return
        except PayloadError as exc:
            await self._finish(delivery, event, f"rejected: {exc}", started, state="failed")
            return
        except ForgeError as exc:
            await self._retry(delivery, event, exc, started=started)
            return
        except Exception as exc:  # a bug must not stop the queue
            log.exception("could not take delivery %s", delivery.id)
            await self._finish(delivery, event, f"error: {type(exc).__name__}: {exc}", started, state="failed")
            return
        if not keys:
            await self._finish(delivery, event, evidence or "ignored: no open pull request for this commit", started)
            return
        self.shares[delivery.id] = len(keys)
        delivery = replace(delivery, body=b"")  # parsed: the 23 KB body need not wait in memory
        for key, ev in keys:
            batch = self.waiting.get(key)
            low = self.budget is not None and self.budget.low(ev.forge, _account(ev))
            if batch is None:  # a due batch still waiting for its entity takes late events too
                batch = self.waiting[key] = Batch(key)
                window = max(self.window, self.settings.low_quota_coalesce_seconds) if low else self.window
                asyncio.get_running_loop().call_later(window, self._close_window, key, batch)
            elif low and self.metrics is not None:
                self.metrics.merged_low.labels(ev.forge).inc()
            batch.items.append((ev, delivery))

    async def _first_sight(self, forge, event: Event) -> None:
        """The first event of an owner in this process: backfill its Nexus history in the background
        (once per owner across processes and restarts: ``app.backfill.ensure_backfilled``)."""
        owner = (event.repo or "").split("/", 1)[0]
        key = (event.where, owner.lower())
        if not owner or self.settings.backfill_sprints <= 0 or key in self._seen_owners:
            return
        self._seen_owners.add(key)
        if await backfilled(self.services, event.where, owner):
            return
        await announce(self.services, event.where, owner)  # this event's own work waits for the history
        task = asyncio.get_running_loop().create_task(self._backfill(forge, event.where, owner))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _backfill(self, forge, where: str, owner: str) -> None:
        try:
            config = await self.services.reads.org_rules(forge, where, f"{owner}/.github")
            await ensure_backfilled(self.services, forge, where, owner, config,
                                    sprint_windows(config, self.settings.backfill_sprints),
                                    config.nexus.integration.environment, holder=self.owner)
        except Exception as exc:  # tried again at this owner's next event
            log.error("backfill of %s failed: %s: %s", owner, type(exc).__name__, str(exc)[:200])
            self._seen_owners.discard((where, owner.lower()))

    async def _entities(self, event: Event, forge) -> list[tuple[tuple, Event]]:
        """The (entity key, event) pairs this event concerns; check events may name no PR."""

        if event.entity is not None:
            return [(event.entity, event), *_linked(event)]
        if event.name == "check" and event.repo and event.head_sha:
            numbers = list(event.pr_numbers) or await self.services.reads.pulls_for_commit(
                forge, event.where, event.repo, event.head_sha)
            events = [replace(event, number=n, is_pull_request=True) for n in numbers]
            return [(e.entity, e) for e in events]
        return []

    # ---- running batches ---------------------------------------------------------------------

    def _close_window(self, key: tuple, batch: Batch) -> None:
        if self.stopping or self.waiting.get(key) is not batch:
            batch.due = True
            return
        hold = self._quota_hold(batch)
        if hold > 0:  # the quota is nearly spent: wait for its reset, taking in the events that come
            self._hold(batch, hold)
            return
        batch.due, batch.held = True, False
        if key not in self.running:
            self._launch(key)

    def _quota_hold(self, batch: Batch) -> float:
        if self.budget is None:
            return 0.0
        first = batch.items[0][0]
        urgent = not coverable([e for e, _ in batch.items])
        wait = self.budget.hold(first.forge, _account(first), urgent=urgent)
        return min(wait, MAX_FORGE_WAIT) + random.uniform(0.0, min(5.0, wait * 0.05)) if wait > 0 else 0.0

    def _hold(self, batch: Batch, seconds: float) -> None:
        """Collecting until the quota's reset (a batch whose window closed, or one that got its slot
        too late), with the events that came meanwhile, if any."""
        if self.metrics is not None:
            self.metrics.quota_holds.labels(batch.items[0][0].forge).inc()
        newer = self.waiting.get(batch.key)
        if newer is not None and newer is not batch:  # its own window closes later, and checks the quota again
            newer.items[:0] = batch.items
            return
        batch.due, batch.held = False, True
        self.waiting[batch.key] = batch
        self._room.set()  # held work does not count against what may be taken in
        asyncio.get_running_loop().call_later(seconds, self._close_window, batch.key, batch)

    def _launch(self, key: tuple) -> None:
        batch = self.waiting.pop(key)
        self.running[key] = asyncio.create_task(self._run(batch), name=f"batch {key}")

    async def _run(self, batch: Batch) -> None:
        locked, held = False, 0.0
        try:
            # the item's lock first, then a slot: a batch waiting for another replica's evaluation of
            # its item must not hold a slot that batches of other items could use
            locked = await self._lock(batch.key)
            if not locked:  # stopping
                await self.store.release([d.id for _, d in batch.items])
                return
            async with self.slots:
                if self.stopping:  # stopping before it started: hand it back, do not start it now
                    await self.store.release([d.id for _, d in batch.items])
                    return
                held = self._quota_hold(batch)  # the quota may have been spent while it waited
                if not held:
                    await self._process(batch)
        except asyncio.CancelledError:  # also while waiting for a slot, where _process never ran
            await asyncio.shield(self.store.release([d.id for _, d in batch.items]))
            raise
        except Exception:  # the store failing under it: the work is not lost, only not this process's
            log.exception("batch %s could not run; its deliveries are handed back", batch.key)
            await self._abandon(batch)
        finally:
            if locked:
                try:
                    await self.store.unlock(_lock_key(batch.key), self.owner)
                except Exception as exc:  # the lease expires by itself
                    log.error("could not unlock %s: %s", batch.key, str(exc)[:200])
            self.running.pop(batch.key, None)
            if held and self.stopping:  # held, and the process stops: another takes it when the quota allows
                await self._abandon(batch)
            elif held:
                self._hold(batch, held)
            nxt = self.waiting.get(batch.key)
            if nxt is not None and nxt.due and not self.stopping:
                self._launch(batch.key)

    async def _abandon(self, batch: Batch) -> None:
        """Stop holding ``batch``'s deliveries: handed back when the store answers, else their leases
        lapse (no longer renewed) and any process takes them over, or the restart recovers them."""
        for _, delivery in batch.items:
            self.shares.pop(delivery.id, None)
            self.failed_shares.pop(delivery.id, None)
        self._room.set()
        try:
            await self.store.release([d.id for _, d in batch.items])
        except Exception as exc:
            log.error("could not hand back %d deliveries (%s): taken over when their lease expires",
                      len(batch.items), str(exc)[:200])

    async def _lock(self, key: tuple) -> bool:
        """The entity's lock, waiting while another process evaluates it: that evaluation read the state
        before these events, so this one must follow it, not run beside it. False when stopping."""
        name, pause = _lock_key(key), 0.02
        while not self.stopping:
            try:
                if await self.store.lock(name, self.owner, self.settings.lease_seconds):
                    return True
            except Exception as exc:  # the store is down: wait for it like for another process
                log.error("could not lock %s: %s", name, str(exc)[:200])
                pause = 0.5
            if self.metrics is not None:
                self.metrics.lock_waits.inc()
            await asyncio.sleep(pause)
            pause = min(0.5, pause * 2)
        return False

    async def _process(self, batch: Batch) -> None:
        events = [e for e, _ in batch.items]
        first = events[0]
        started = time.perf_counter()
        forge = TimedForge(self.forges.for_event(first))
        where = first.where
        key = _lock_key(batch.key)
        if coverable(events) and await self.judged.covers(key, max(d.received_at for _, d in batch.items),
                                                          {e.head_sha for e in events if e.head_sha}):
            if self.metrics is not None:
                self.metrics.covered.labels(first.forge).inc()
            for event, delivery in batch.items:
                await self._share_done(delivery, event, "covered: judged by an evaluation begun after these events",
                                       None, started, forge, len(events))
            return
        began = time.time()
        try:
            processed = await process_batch(self.services, forge, where, events)
            outcome = processed.outcome
            if processed.evaluated:
                await self.judged.note(key, began, processed.head_sha)
        except ForgeError as exc:
            for event, delivery in batch.items:
                await self._share_done(delivery, event, None, exc, started, forge, len(events))
            return
        except asyncio.CancelledError:
            await asyncio.shield(self.store.release([d.id for _, d in batch.items]))
            raise
        except Exception as exc:
            if self.store.is_outage(exc):  # not the work's fault: it is done again when the store is back
                log.error("batch %s: the store failed: %s", batch.key, str(exc)[:200])
                for event, delivery in batch.items:
                    await self._share_done(delivery, event, None, ForgeError(f"store unavailable: {exc}"), started,
                                           forge, len(events))
                return
            log.exception("batch %s failed", batch.key)
            outcome = f"error: {type(exc).__name__}: {exc}"
            for event, delivery in batch.items:
                self.failed_shares[delivery.id] = outcome
        self.evaluations += 1
        elapsed = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.processing_seconds.observe(elapsed)
        self.own_ms.add(max(0.0, elapsed - forge.seconds) * 1000)
        for event, delivery in batch.items:
            await self._share_done(delivery, event, outcome, None, started, forge, len(events))

    async def _share_done(self, delivery, event, outcome, error, started, forge, size) -> None:
        if error is not None:
            self.failed_shares[delivery.id] = f"retry: {error}"
        left = self.shares.get(delivery.id, 1) - 1
        if left > 0:
            self.shares[delivery.id] = left
            return
        self.shares.pop(delivery.id, None)
        self._room.set()
        failed = self.failed_shares.pop(delivery.id, None)
        if failed and failed.startswith("retry:"):
            await self._retry(delivery, event, error or ForgeError(failed), forge=forge, started=started)
            return
        state = "failed" if failed else "done"
        await self._finish(delivery, event, failed or outcome, started, state=state, forge=forge, batch=size)

    async def _finish(self, delivery, event, outcome, started, state="done", forge=None, batch=1) -> None:
        try:
            await self.store.finish(delivery.id, outcome, state)
        except Exception as exc:  # redone after its lease (or the restart): every write converges
            log.error("could not record that %s is %s (%s): it will be done again", delivery.id, state, str(exc)[:200])
            return
        if self.metrics is not None and state == "done" and outcome and "dod " in outcome:
            self.metrics.verdict_seconds.observe(max(0.0, time.time() - delivery.received_at))
        self.processed += 1
        audit.record(
            delivery.id.rsplit(":", 1)[-1], delivery.forge, event, outcome,
            api_calls=forge.calls if forge else 0,
            duration_ms=(time.perf_counter() - started) * 1000,
            forge_ms=forge.seconds * 1000 if forge else 0.0,
            batch=batch, attempts=delivery.attempts,
        )

    async def _retry(self, delivery, event, error, forge=None, started=None) -> None:
        """Back to the queue with backoff; failed when the forge refuses (after a few tries) or when
        the delivery is older than the redelivery memory (DELIVERY_TTL_HOURS): never retried forever."""
        refused = not _transient(error) and delivery.attempts >= PERMANENT_ATTEMPTS
        if refused or time.time() - delivery.received_at > self.settings.delivery_ttl_hours * 3600:
            why = "failed" if refused else f"gave up after {delivery.attempts} attempts"
            await self._finish(delivery, event, f"{why}: {error}", time.perf_counter() if started is None else started,
                               state="failed", forge=forge)
            return
        base, cap = self.settings.retry_base_seconds, self.settings.retry_max_seconds
        delay = min(cap, base * 2 ** min(delivery.attempts - 1, 20)) * random.uniform(0.5, 1.0)
        if isinstance(error, ForgeError) and error.retry_after:
            # never before the forge said (asking during a rate limit can get the app banned), even
            # when that is longer than RETRY_MAX_SECONDS; GitHub's primary limits reset hourly
            delay = max(delay, min(error.retry_after, MAX_FORGE_WAIT))
        try:
            await self.store.retry(delivery.id, delay, f"retry in {delay:.1f}s: {error}")
        except Exception as exc:
            log.error("could not put %s back in the queue (%s): taken over when its lease expires", delivery.id,
                      str(exc)[:200])
            return
        audit.record(delivery.id.rsplit(":", 1)[-1], delivery.forge, event, f"retry in {delay:.1f}s: {error}",
                     api_calls=forge.calls if forge else 0, attempts=delivery.attempts)
