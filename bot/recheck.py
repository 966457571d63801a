"""Re-checking a verdict when no forge event will announce what changed.

Two causes: Forgejo sends no webhook when CI finishes, and no forge re-announces a pull request
when the backlog item it closes becomes Ready (the bot itself changes that label).

Forgejo (v12) sends no webhook when a commit status changes, so a verdict waiting for CI would stay
pending until the next event on the pull request. After such a verdict the bot schedules its own
"recheck" delivery in the durable queue: one per interval and head commit (the delivery id dedupes
repeats), at most ``MAX_ROUNDS`` in a row, stopping as soon as the verdict is no longer pending.
Being ordinary queued work, rechecks survive restarts and are coalesced with real events.
"""

from __future__ import annotations

import json

from .events import Event
from .model import State, Verdict
from .store import Store

HEADER = "x-nexus-event"
MAX_ROUNDS = 60


def waits_for_ci(verdict: Verdict) -> bool:
    return verdict.state is State.PENDING and any(
        i.required and i.state is State.PENDING and "ci" in i.waiting_for for i in verdict.items
    )


def schedule(store: Store, where: str, repo: str, number: int, sha: str, after: float, round_: int = 1,
             forge: str = "forgejo", installation_id: int | None = None) -> None:
    """Queue a recheck of ``repo#number`` in ``after`` seconds; once per (commit or cause, round)."""
    if after < 0 or round_ > MAX_ROUNDS:
        return
    body = json.dumps({"repository": repo, "number": number, "sha": sha, "round": round_,
                       "installation": installation_id}).encode()
    store.schedule(forge, where, f"recheck:{repo}#{number}@{sha}:{round_}", {HEADER: "recheck"}, body, after)


def parse(headers: dict, body: bytes, instance: str, forge: str = "forgejo") -> Event | None:
    """The recheck event of a scheduled delivery, or None when the delivery is a forge's."""
    if headers.get(HEADER) != "recheck":
        return None
    data = json.loads(body)
    return Event(forge=forge, delivery_id=f"recheck-{data['round']}", name="pull_request", action="recheck",
                 repo=data["repository"], number=data["number"], is_pull_request=True,
                 installation_id=data.get("installation"),
                 instance=None if forge == "github" else instance, extra={"round": data["round"]})
