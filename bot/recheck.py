"""Re-checking a pending verdict when the forge will not say that CI finished.

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


def schedule(store: Store, where: str, repo: str, number: int, sha: str, after: float, round_: int = 1) -> None:
    if after <= 0 or round_ > MAX_ROUNDS:
        return
    body = json.dumps({"repository": repo, "number": number, "sha": sha, "round": round_}).encode()
    store.schedule("forgejo", where, f"recheck:{repo}#{number}@{sha}:{round_}", {HEADER: "recheck"}, body, after)


def parse(headers: dict, body: bytes, instance: str) -> Event | None:
    """The recheck event of a scheduled delivery, or None when the delivery is a forge's."""
    if headers.get(HEADER) != "recheck":
        return None
    data = json.loads(body)
    return Event(forge="forgejo", delivery_id=f"recheck-{data['round']}", name="pull_request", action="recheck",
                 repo=data["repository"], number=data["number"], is_pull_request=True, head_sha=data["sha"],
                 instance=instance, extra={"round": data["round"]})
