"""What each event leads to. Routing is declarative: the table says which events trigger what.

A batch is every event of one pull request or issue that arrived within the coalescing window: the
commands in its comments are answered one by one, then the DoD and the Ready verdicts are computed
once, from the forge's latest state.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Awaitable, Callable

from . import recheck
from .dod import assess, publish
from .events import Event
from .forges.base import Forge
from .lookups import Lookups
from .relevance import may_change_verdict
from .settings import Settings
from .store import Store

log = logging.getLogger("nexus.handlers")

DOD, READY, COMMANDS = "dod", "ready", "commands"

ROUTES: dict[tuple[str, str], str] = {
    **{("pull_request", a): DOD for a in (
        "opened", "synchronize", "reopened", "edited", "labeled", "unlabeled", "ready_for_review",
        "review_requested", "recheck")},
    **{("pull_request_review", a): DOD for a in ("submitted", "edited", "dismissed")},
    **{("check", a): DOD for a in ("completed", "rerequested", "pending")},
    **{("issues", a): READY for a in ("opened", "edited", "labeled", "unlabeled", "reopened")},
    ("issue_comment", "created"): COMMANDS,
}


def route(event: Event) -> str | None:
    """What the event triggers, or None when it cannot change anything the bot owns."""
    if event.from_this_bot:
        return None
    what = ROUTES.get((event.name, event.action))
    if what == READY and event.is_pull_request:
        return None  # pull requests are not judged for Ready
    return what


def ignore_reason(event: Event) -> str | None:
    if event.from_this_bot:
        return "ignored: caused by the bot itself"
    if event.name in ("ping", "installation", "installation_repositories"):
        return f"ok: {event.name}"
    if route(event) is None:
        return f"ignored: {event.name}.{event.action} does not change a verdict"
    return None


class TimedForge:
    """Counts the adapter calls made for one batch and the time spent waiting on the forge."""

    def __init__(self, forge: Forge):
        self._forge = forge
        self.calls = 0
        self.seconds = 0.0

    def __getattr__(self, name: str):
        attr = getattr(self._forge, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        async def timed(*args, **kwargs):
            started = time.perf_counter()
            self.calls += 1
            try:
                return await attr(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


@dataclass
class Services:
    settings: Settings
    store: Store
    lookups: Lookups
    commands: Callable[..., Awaitable[bool]] | None = None  # (services, forge, where, event) -> DoD re-run wanted
    ready: Callable[..., Awaitable[None]] | None = None  # (services, forge, where, repo, number)


def _any_relevant(services: Services, forge: Forge, where: str, events: list[Event]) -> bool:
    """Whether one of the events routed to the DoD can change its verdict (cached config only)."""
    for event in events:
        base = event.extra.get("base_ref")
        config = services.lookups.cached_config(forge.name, where, event.repo, base) if base else None
        if may_change_verdict(event, config):
            return True
    return False


async def process_batch(services: Services, forge: Forge, where: str, events: list[Event]) -> str:
    """Handle one coalesced batch; returns a short outcome for the audit log."""
    first = events[0]
    done = []
    dod_events = [e for e in events if route(e) == DOD]
    want_dod = bool(dod_events) and _any_relevant(services, forge, where, dod_events)
    if dod_events and not want_dod:
        done.append("dod skipped: no event can change the verdict")
    want_ready = any(route(e) == READY for e in events)
    commands = [e for e in events if route(e) == COMMANDS]
    if commands and services.commands:
        for event in commands:
            if await services.commands(services, forge, where, event):
                want_dod, want_ready = want_dod or event.is_pull_request, want_ready or not event.is_pull_request
        done.append("commands")
    if want_dod and first.number is not None:
        a = await assess(forge, where, services.lookups, first.repo, first.number, details_url=services.settings.details_url)
        if a.pr.state == "open":
            if any(e.name == "check" and e.action == "rerequested" for e in dod_events):
                a.report = replace(a.report, always_write=True)
            await publish(forge, services.store, a)
            done.append(f"dod {a.verdict.state.value}")
            if forge.name == "forgejo" and recheck.waits_for_ci(a.verdict):
                rounds = [e.extra.get("round", 0) for e in dod_events if e.action == "recheck"]
                recheck.schedule(services.store, where, a.pr.repo, a.pr.number, a.pr.head_sha,
                                 services.settings.forgejo_recheck_seconds, max(rounds, default=0) + 1)
        else:
            done.append("dod skipped: pull request closed")
    if want_ready and services.ready and first.number is not None:
        await services.ready(services, forge, where, first.repo, first.number, first.installation_id)
        done.append("ready")
    return ", ".join(done) or "nothing to do"
