"""When each item was last judged from fresh state, shared by the replicas: a batch whose events all
arrived before another evaluation of the same item began reading the forge needs no evaluation of
its own (that one saw what they changed). This is the coalescing of events that reached different
replicas, or that waited while their item was being judged.

Only batches that merely ask for a verdict qualify (``app.router.coverable``): commands are always
answered, config pushes always applied, rechecks always done at their time. The margin covers the
clocks of two hosts; an evaluation that failed is not remembered (its events are retried).
"""

from __future__ import annotations

import logging
import struct
from collections import OrderedDict

from .store import Store

log = logging.getLogger("nexus.coverage")

MARGIN = 0.05  # seconds an evaluation must have begun after the last event's arrival (hosts' clocks)
KEEP_SECONDS = 3600.0  # how long another replica may still find an evaluation
KEEP_LOCAL = 20_000  # items remembered in this process


class Evaluations:
    def __init__(self, store: Store):
        self.store = store
        self.local: OrderedDict[str, float] = OrderedDict()

    async def began(self, key: str) -> float | None:
        """When the last successful evaluation of ``key`` began (this process's or another's)."""
        mine = self.local.get(key)
        try:
            shared = await self.store.shared_get(f"evaluated:{key}")
        except Exception as exc:  # not knowing only costs an evaluation
            log.warning("could not read when %s was judged: %s", key, str(exc)[:200])
            shared = None
        theirs = struct.unpack("!d", shared)[0] if shared and len(shared) == 8 else None
        return max((t for t in (mine, theirs) if t is not None), default=None)

    async def note(self, key: str, began: float) -> None:
        if self.local.get(key, 0.0) < began:
            self.local[key] = began
            self.local.move_to_end(key)
            while len(self.local) > KEEP_LOCAL:
                self.local.popitem(last=False)
        try:  # the item's lock is held: no other evaluation of it can be noted meanwhile
            await self.store.shared_set(f"evaluated:{key}", struct.pack("!d", began), KEEP_SECONDS)
        except Exception as exc:
            log.warning("could not share when %s was judged: %s", key, str(exc)[:200])

    async def covers(self, key: str, arrived: float) -> bool:
        """Whether an evaluation that began after ``arrived`` (the batch's last arrival) judged ``key``."""
        began = await self.began(key)
        return began is not None and began > arrived + MARGIN
