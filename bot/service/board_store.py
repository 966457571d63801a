"""The board's records (``app.ports.BoardRecords``) kept in the work store, SQLite or Redis: one
space for the pull requests' latest verdicts (keyed ``where:owner/repo#number``), one for the
organisation configs they were judged under (keyed ``where:owner``). Newest wins in both."""

from __future__ import annotations

import json

from .store import Store

PULLS = "board:pulls"
CONFIGS = "board:configs"


class StoreBoard:
    def __init__(self, store: Store):
        self.store = store

    async def keep_pull(self, key: str, at: float, record: str) -> None:
        await self.store.keep_records(PULLS, [(key, at, record)])

    async def pulls(self) -> list[str]:
        return await self.store.records(PULLS)

    async def pull(self, key: str) -> str | None:
        return await self.store.record(PULLS, key)

    async def keep_org_config(self, where: str, owner: str, at: float, source: tuple[str, str]) -> None:
        value = json.dumps({"where": where, "owner": owner.lower(), "source": list(source)})
        await self.store.keep_records(CONFIGS, [(f"{where}:{owner.lower()}", at, value)])

    async def org_configs(self) -> dict[tuple[str, str], tuple[str, str]]:
        found = {}
        for text in await self.store.records(CONFIGS):
            d = json.loads(text)
            found[(d["where"], d["owner"])] = (d["source"][0], d["source"][1])
        return found
