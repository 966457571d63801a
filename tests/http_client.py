"""Posting webhooks to a running bot, the same for the in-process and the child-process harness."""

from __future__ import annotations

import aiohttp


class WebhookClient:
    url: str
    _session: aiohttp.ClientSession | None

    async def post(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        async with self._session.post(self.url + path, data=body, headers=headers) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = {"text": await resp.text()}
            return resp.status, data

    async def deliver(self, delivery: tuple[dict, bytes], path: str = "/webhooks/github") -> tuple[int, dict]:
        headers, body = delivery
        return await self.post(path, headers, body)

    async def health(self) -> tuple[int, dict]:
        async with self._session.get(self.url + "/healthz") as resp:
            return resp.status, await resp.json(content_type=None)
