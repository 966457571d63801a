"""The bot's own scheduled deliveries: re-checking a verdict when no forge event will announce what
changed.

Two causes: Forgejo sends no webhook when CI finishes, and no forge re-announces a pull request
when the backlog item it closes becomes Ready (the bot itself changes that label).

A recheck is an ordinary delivery in the durable queue, due ``after`` seconds from now: one per
cause and round (the delivery id dedupes repeats), at most ``MAX_ROUNDS`` in a row, so rechecks
survive restarts and are coalesced with real events. The use cases ask for them through
``app.ports.Rechecks``; this module is how they are written to and read from the queue.
"""

from __future__ import annotations

import json

from ..model import Event
from .store import Store

HEADER = "x-nexus-event"
MAX_ROUNDS = 60


class Rechecks:
    def __init__(self, store: Store):
        self.store = store

    async def schedule(self, forge: str, where: str, repo: str, number: int, cause: str, after: float,
                 round_: int = 1, installation_id: int | None = None) -> None:
        """Queue a recheck of ``repo#number`` in ``after`` seconds; once per (commit or cause, round)."""
        if after < 0 or round_ > MAX_ROUNDS:
            return
        body = json.dumps({"repository": repo, "number": number, "sha": cause, "round": round_,
                           "installation": installation_id}).encode()
        await self.store.schedule(forge, where, f"recheck:{repo}#{number}@{cause}:{round_}", {HEADER: "recheck"}, body, after)


def parse(headers: dict, body: bytes, instance: str, forge: str) -> Event | None:
    """The recheck event of a scheduled delivery, or None when the delivery is a forge's."""
    if headers.get(HEADER) != "recheck":
        return None
    data = json.loads(body)
    return Event(forge=forge, delivery_id=f"recheck-{data['round']}", name="pull_request", action="recheck",
                 repo=data["repository"], number=data["number"], is_pull_request=True,
                 installation_id=data.get("installation"),
                 instance=None if instance == forge else instance, extra={"round": data["round"]})
