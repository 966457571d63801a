"""When each item was last judged from fresh state, shared by the replicas: a batch whose events all
arrived before another evaluation of the same item began reading the forge needs no evaluation of
its own (that one saw what they changed). This is the coalescing of events that reached different
replicas, or that waited while their item was being judged.

Only batches that merely ask for a verdict qualify (``app.router.coverable``): commands are always
answered, config pushes always applied, rechecks always done at their time. The evaluation must have
begun a margin after the last arrival (a quarter of the coalescing window: the clocks of two hosts,
and the forge's own lag between a change and its API), and have judged the head commit the events
name, if they name one; an evaluation that failed is not remembered (its events are retried).
"""

from __future__ import annotations

import logging
import struct
from collections import OrderedDict

from .store import Store

log = logging.getLogger("nexus.coverage")

MARGIN = 0.05  # the least margin, in seconds, between the last arrival and the evaluation's start
KEEP_SECONDS = 3600.0  # how long another replica may still find an evaluation
KEEP_LOCAL = 20_000  # items remembered in this process


class Evaluations:
    def __init__(self, store: Store, window: float = 0.0):
        self.store = store
        self.margin = max(MARGIN, window / 4)
        self.local: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def began(self, key: str) -> tuple[float, str] | None:
        """When the last successful evaluation of ``key`` began (this process's or another's), and the
        head commit it judged ("" for an issue)."""
        mine = self.local.get(key)
        try:
            shared = await self.store.shared_get(f"evaluated:{key}")
        except Exception as exc:  # not knowing only costs an evaluation
            log.warning("could not read when %s was judged: %s", key, str(exc)[:200])
            shared = None
        theirs = (struct.unpack("!d", shared[:8])[0], shared[8:].decode()) if shared and len(shared) >= 8 else None
        return max((t for t in (mine, theirs) if t is not None), default=None)

    async def note(self, key: str, began: float, head_sha: str = "") -> None:
        if self.local.get(key, (0.0, ""))[0] < began:
            self.local[key] = (began, head_sha)
            self.local.move_to_end(key)
            while len(self.local) > KEEP_LOCAL:
                self.local.popitem(last=False)
        try:  # the item's lock is held: no other evaluation of it can be noted meanwhile
            await self.store.shared_set(f"evaluated:{key}", struct.pack("!d", began) + head_sha.encode(),
                                        KEEP_SECONDS)
        except Exception as exc:
            log.warning("could not share when %s was judged: %s", key, str(exc)[:200])

    async def covers(self, key: str, arrived: float, head_shas: set[str]) -> bool:
        """Whether an evaluation that began after ``arrived`` (the batch's last arrival), on the head
        commit the batch's events name (if any), judged ``key``."""
        found = await self.began(key)
        if found is None:
            return False
        began, judged = found
        return began > arrived + self.margin and all(sha == judged for sha in head_shas)
