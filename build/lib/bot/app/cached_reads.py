"""The cached reads the rules need but must not do themselves: the organisation's config, the
repository's config over it, its CODEOWNERS, team members, the PRs of a commit. Caches are
``cachetools`` TTL caches, kept per forge instance, and concurrent misses for one key share one
request; a push that changes a config file empties its entries at once (``forget``)."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from cachetools import TTLCache

from ..config import Config, ConfigError, load_config
from ..forges.base import Forge
from ..model import CodeOwners
from .org_config import Location, OrgConfig, OrgConfigs
from .ports import Memory

T = TypeVar("T")


class CachedReads:
    def __init__(self, org_config: tuple[str, str], files_ttl: float = 60.0, membership_ttl: float | None = None,
                 missing_ttl: float = 3600.0,
                 *, memory: Memory | None = None, org_ttl: float = 300.0, org_locations: dict[str, Location] | None = None,
                 org_from_repositories: bool = True, org_location: Location = Location()):
        self.orgs = OrgConfigs(org_config, memory, org_ttl, org_locations, org_from_repositories, org_location)
        self.org = self.orgs.default  # the default organisation config (embedded or NEXUS_CONFIG)
        self._files: TTLCache = TTLCache(maxsize=4096, ttl=files_ttl)
        ttl = self.org.review.membership_ttl_seconds if membership_ttl is None else membership_ttl
        self._members: TTLCache = TTLCache(maxsize=4096, ttl=max(ttl, 0.001))
        self._commits: TTLCache = TTLCache(maxsize=4096, ttl=120)
        self._configs: TTLCache = TTLCache(maxsize=1024, ttl=files_ttl)
        # a file that is not there: GitHub charges its 404 (a file that is there is re-read for free, a
        # 304), so its absence is kept longer; a push that adds it drops this at once (``forget``)
        self._missing: TTLCache = TTLCache(maxsize=16384, ttl=max(missing_ttl, files_ttl, 0.001))
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._names = {id(self._files): "files", id(self._members): "members", id(self._commits): "commits",
                       id(self._configs): "configs"}
        self.by_cache: dict[str, list[int]] = {name: [0, 0] for name in self._names.values()}  # [hits, misses]
        self.by_cache["missing"] = [0, 0]  # reads of a file known to be missing, saved
        self.hits = 0
        self.misses = 0

    async def _cached(self, cache: TTLCache, key: tuple, fetch: Callable[[], Awaitable[T]]) -> T:
        counts = self.by_cache.setdefault(self._names.get(id(cache), "other"), [0, 0])
        if key in cache:
            self.hits += 1
            counts[0] += 1
            return cache[key]
        if key in self._inflight:
            self.hits += 1
            counts[0] += 1
            return await asyncio.shield(self._inflight[key])
        self.misses += 1
        counts[1] += 1
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
            present = await forge.files_present(repo, ref, paths)
            for path in paths if present is None else [p for p in paths if p in present]:
                if (where, repo, ref, path) in self._missing:
                    self.by_cache["missing"][0] += 1
                    continue
                text = await forge.file_at(repo, path, ref)
                if text is not None:
                    return path, text
                self._missing[(where, repo, ref, path)] = True
            return None

        return await self._cached(self._files, (where, repo, ref, paths), fetch)

    async def org_for(self, forge: Forge, where: str, repo: str) -> OrgConfig:
        """The organisation config of ``repo``'s owner."""
        return await self.orgs.read(forge, where, repo.split("/", 1)[0])

    async def repo_file(self, forge: Forge, where: str, repo: str, ref: str) -> tuple[str, str] | None:
        """(path, text) of the repository's own config file on ``ref``, the first in the forge's order."""
        return await self._first_file(forge, where, repo, ref, forge.config_paths)

    async def config_for(self, forge: Forge, where: str, repo: str, ref: str) -> Config:
        """The organisation config, tightened by the repository's file on ``ref`` (the base branch,
        never the PR head). Raises ConfigError naming the file, line and field."""
        org = await self.org_for(forge, where, repo)
        found = await self._first_file(forge, where, repo, ref, forge.config_paths)
        return self.layered(org, found)

    def layered(self, org: OrgConfig, found: tuple[str, str] | None) -> Config:
        """``org`` in force with a repository file ``(path, text)`` over it (None: no file)."""
        if found is None:
            return org.in_force()
        org.in_force()  # no good organisation config: nothing to layer on
        key = (org.source[1], found)
        if key not in self._configs:
            try:
                self._configs[key] = load_config(org.source, found).noting(*self.orgs.notice(org.error))
            except ConfigError as exc:
                self._configs[key] = exc
                self.orgs.observe.config_error("repository")
        value = self._configs[key]
        if isinstance(value, ConfigError):
            raise value
        return value

    async def org_rules(self, forge: Forge, where: str, repo: str) -> Config:
        """The organisation's rules for ``repo`` (what applies when the repository's own file cannot
        be used); the default config when the owner's file has never been good."""
        return (await self.org_for(forge, where, repo)).config or self.org

    def cached_config(self, forge: Forge, where: str, repo: str, ref: str) -> Config | None:
        """The config for ``repo`` at ``ref`` if it is in the cache, without any forge call."""
        key = (where, repo, ref, forge.config_paths)
        org = self.orgs.cached(where, repo.split("/", 1)[0])
        if key not in self._files or org is None or org.config is None:
            return None
        try:
            return self.layered(org, self._files[key]) if self._files[key] is None or (
                org.source[1], self._files[key]) in self._configs else None
        except ConfigError:
            return None

    def forget(self, where: str, repo: str) -> None:
        """A push changed config files of ``repo``: its cached files (every ref) and, when it is the
        owner's config repository, the organisation config are read again at the next use."""
        owner = repo.split("/", 1)[0]
        if self.orgs.is_config_repo(where, repo):
            self.orgs.forget(where, owner)
        for cache in (self._files, self._missing):
            for key in [k for k in list(cache.keys()) if k[0] == where and k[1] == repo]:
                cache.pop(key, None)

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
