"""The Nexus metrics' history (``app.ports.History``) kept in the work store, SQLite or Redis: one
space of records per forge instance, owner and kind, as JSON (``bot/history.py``'s codecs)."""

from __future__ import annotations

from ..history import (IntegrationEvidence, ItemRecord, evidence_from_json, evidence_key, evidence_to_json,
                       item_from_json, item_key, item_to_json)
from ..model import ItemRef
from .store import Store


def _space(where: str, owner: str, kind: str) -> str:
    return f"history:{where}:{owner.lower()}:{kind}"


class StoreHistory:
    def __init__(self, store: Store):
        self.store = store

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
        items = [item_from_json(t) for t in await self.store.records(_space(where, owner, "items"))]
        evidence = [evidence_from_json(t) for t in await self.store.records(_space(where, owner, "evidence"))]
        return items, evidence
