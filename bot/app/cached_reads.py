"""The cached reads the rules need but must not do themselves: the repository's config, its
CODEOWNERS, team members, the PRs of a commit. Caches are ``cachetools`` TTL caches, kept per forge
instance, and concurrent misses for one key share one request."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from cachetools import TTLCache

from ..config import Config, ConfigError, load_config
from ..forges.base import Forge
from ..model import CodeOwners

T = TypeVar("T")


class CachedReads:
    def __init__(self, org_config: tuple[str, str], files_ttl: float = 60.0, membership_ttl: float | None = None):
        self.org_source = org_config  # (filename, text) of the organisation config
        self.org = load_config(org_config)
        self._files: TTLCache = TTLCache(maxsize=4096, ttl=files_ttl)
        ttl = self.org.review.membership_ttl_seconds if membership_ttl is None else membership_ttl
        self._members: TTLCache = TTLCache(maxsize=4096, ttl=max(ttl, 0.001))
        self._commits: TTLCache = TTLCache(maxsize=4096, ttl=120)
        self._configs: TTLCache = TTLCache(maxsize=1024, ttl=files_ttl)
        self._inflight: dict[tuple, asyncio.Future] = {}
        self.hits = 0
        self.misses = 0

    async def _cached(self, cache: TTLCache, key: tuple, fetch: Callable[[], Awaitable[T]]) -> T:
        if key in cache:
            self.hits += 1
            return cache[key]
        if key in self._inflight:
            self.hits += 1
            return await asyncio.shield(self._inflight[key])
        self.misses += 1
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            value = await fetch()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._inflight.pop(key, None)
        cache[key] = value
        if not fut.done():
            fut.set_result(value)
        return value

    async def _first_file(self, forge: Forge, where: str, repo: str, ref: str, paths: tuple[str, ...]) -> tuple[str, str] | None:
        async def fetch() -> tuple[str, str] | None:
            for path in paths:
                text = await forge.file_at(repo, path, ref)
                if text is not None:
                    return path, text
            return None

        return await self._cached(self._files, (where, repo, ref, paths), fetch)

    async def config_for(self, forge: Forge, where: str, repo: str, ref: str) -> Config:
        """The organisation config extended by the repository's file on ``ref`` (the base branch,
        never the PR head). Raises ConfigError naming the file, line and field."""
        found = await self._first_file(forge, where, repo, ref, forge.config_paths)
        if found is None:
            return self.org
        key = (self.org_source[1], found)
        if key not in self._configs:
            try:
                self._configs[key] = load_config(self.org_source, found)
            except ConfigError as exc:
                self._configs[key] = exc
        value = self._configs[key]
        if isinstance(value, ConfigError):
            raise value
        return value

    def cached_config(self, forge: Forge, where: str, repo: str, ref: str) -> Config | None:
        """The config for ``repo`` at ``ref`` if it is in the cache, without any forge call."""
        key = (where, repo, ref, forge.config_paths)
        if key not in self._files:
            return None
        found = self._files[key]
        if found is None:
            return self.org
        value = self._configs.get((self.org_source[1], found))
        return value if isinstance(value, Config) else None

    async def codeowners(self, forge: Forge, where: str, repo: str, ref: str) -> CodeOwners | None:
        """The repository's CODEOWNERS on ``ref``, read in the forge's syntax."""
        found = await self._first_file(forge, where, repo, ref, forge.codeowners_paths)
        return forge.read_codeowners(found[1]) if found else None

    async def members(self, forge: Forge, where: str, org: str, team: str) -> frozenset[str]:
        return await self._cached(self._members, (where, org, team), lambda: forge.team_members(org, team))

    async def pulls_for_commit(self, forge: Forge, where: str, repo: str, sha: str) -> list[int]:
        return await self._cached(self._commits, (where, repo, sha), lambda: forge.pulls_for_commit(repo, sha))

    def stats(self) -> dict[str, int]:
        return {"cache_hits": self.hits, "cache_misses": self.misses}
