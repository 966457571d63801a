"""The Nexus metrics' history (``app.ports.History``) kept in the work store, SQLite or Redis: one
space of records per forge instance, owner and kind, as JSON (``bot/history.py``'s codecs)."""

from __future__ import annotations

import asyncio

from ..history import (IntegrationEvidence, ItemRecord, evidence_from_json, evidence_key, evidence_to_json,
                       item_from_json, item_key, item_to_json)
from ..model import ItemRef
from .store import Store


def _space(where: str, owner: str, kind: str) -> str:
    return f"history:{where}:{owner.lower()}:{kind}"


class StoreHistory:
    def __init__(self, store: Store, keep_decoded: bool = False):
        """``keep_decoded``: remember each loaded record by its text, for a reader that loads the same
        history again and again (the board); others keep nothing between loads."""
        self.store = store
        self.keep_decoded = keep_decoded
        self._decoded: dict[str, dict[str, object]] = {}  # space -> record text -> its record, as last loaded

    async def item(self, where: str, owner: str, ref: ItemRef) -> ItemRecord | None:
        text = await self.store.record(_space(where, owner, "items"), item_key(ref))
        return item_from_json(text) if text else None

    async def keep_items(self, where: str, owner: str, records: list[ItemRecord]) -> None:
        await self.store.keep_records(_space(where, owner, "items"),
                                      [(item_key(r.ref), r.updated_at.timestamp(), item_to_json(r)) for r in records])

    async def keep_evidence(self, where: str, owner: str, evidence: list[IntegrationEvidence]) -> None:
        # the first sighting of a piece of evidence is the one that counts: older wins
        await self.store.keep_records(_space(where, owner, "evidence"),
                                      [(evidence_key(e), -e.at.timestamp(), evidence_to_json(e)) for e in evidence])

    async def load(self, where: str, owner: str) -> tuple[list[ItemRecord], list[IntegrationEvidence]]:
        """Every record of the owner; a record whose text has not changed since the last load is not
        decoded again (the board reads a year of history every half minute)."""
        return (await self._load(_space(where, owner, "items"), item_from_json),
                await self._load(_space(where, owner, "evidence"), evidence_from_json))

    async def _load(self, space: str, decode) -> list:
        texts = await self.store.records(space)
        before = self._decoded.get(space, {})
        # off the loop that accepts webhooks: a year of history is ~140,000 records to decode at first
        now = await asyncio.to_thread(lambda: {t: before.get(t) or decode(t) for t in texts})
        if self.keep_decoded:
            self._decoded[space] = now
        return list(now.values())
