"""The board's records (``app.ports.BoardRecords``) kept in the work store, SQLite or Redis: one
space for the pull requests' latest verdicts (keyed ``where:owner/repo#number``), one for the
organisation configs they were judged under (keyed ``where:owner``). Newest wins in both."""

from __future__ import annotations

import json

from .store import Store

PULLS = "board:pulls"
CONFIGS = "board:configs"
REWRITE_SECONDS = 300.0


class StoreBoard:
    def __init__(self, store: Store):
        self.store = store
        self._kept_configs: dict[tuple[str, str], tuple[tuple[str, str], float]] = {}  # this process's last write

    async def keep_pull(self, key: str, at: float, record: str) -> None:
        await self.store.keep_records(PULLS, [(key, at, record)])

    async def pulls(self) -> list[str]:
        return await self.store.records(PULLS)

    async def pull(self, key: str) -> str | None:
        return await self.store.record(PULLS, key)

    async def keep_org_config(self, where: str, owner: str, at: float, source: tuple[str, str]) -> None:
        """Written when it changed from what this process last wrote, or that is older than
        ``REWRITE_SECONDS`` (another replica may have written another since), not at every evaluation."""
        key = (where, owner.lower())
        last = self._kept_configs.get(key)
        if last is not None and last[0] == source and at - last[1] < REWRITE_SECONDS:
            return
        value = json.dumps({"where": where, "owner": owner.lower(), "source": list(source)})
        await self.store.keep_records(CONFIGS, [(f"{where}:{owner.lower()}", at, value)])
        self._kept_configs[key] = (source, at)

    async def org_configs(self) -> dict[tuple[str, str], tuple[str, str]]:
        found = {}
        for text in await self.store.records(CONFIGS):
            d = json.loads(text)
            found[(d["where"], d["owner"])] = (d["source"][0], d["source"][1])
        return found
