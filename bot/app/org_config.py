"""The organisation's config, read from a repository the NIT owns: by default ``nexus.yml`` at the
root of the owner's ``.github`` repository, on its default branch. It applies to every repository of
that owner; without it, the embedded ``config/dod.yml`` (or ``NEXUS_CONFIG``) does.

It is read through the forge (a conditional read: an unchanged file costs no quota on GitHub), kept
for a while, and read again at once when a push changes it. A broken file never takes the bot down
and never weakens the DoD: the last good version (kept across restarts) stays in force and every
report says the organisation's file is broken, with its line; with no good version at all, the DoD
check fails with the error.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from cachetools import TTLCache

from ..config import Config, ConfigError, ConfigNotice, load_config
from ..forges.base import Forge, ForgeError
from ..msg import Msg
from .ports import Memory, NoObservations, Observations

log = logging.getLogger("nexus.config")


@dataclass(frozen=True)
class OrgConfig:
    config: Config | None  # in force; None when the owner's file is broken and no good version is known
    source: tuple[str, str]  # (filename, text) of the version in force
    error: ConfigError | None = None  # the owner's file cannot be used (then ``config`` is the last good one)

    def in_force(self) -> Config:
        """The config to judge by; raises the file's error when there is none."""
        if self.config is None:
            assert self.error is not None
            raise self.error
        return self.config


@dataclass(frozen=True)
class Location:
    repo: str = ".github"  # the repository of an owner that holds its config
    path: str = "nexus.yml"


class OrgConfigs:
    """One organisation config per (forge instance, owner)."""

    def __init__(self, default: tuple[str, str], memory: Memory | None = None, ttl: float = 300.0,
                 locations: dict[str, Location] | None = None, from_repositories: bool = True,
                 default_location: Location = Location()):
        self.default_source = default
        self.default = load_config(default)
        self.memory = memory
        self.locations = locations or {}  # per forge instance; others use ``default_location``
        self.default_location = default_location
        self.from_repositories = from_repositories  # False: ``default`` applies to every owner (a dry run's --config)
        self._cache: TTLCache = TTLCache(maxsize=1024, ttl=max(ttl, 0.001))
        self.observe: Observations = NoObservations()

    def location(self, where: str) -> Location:
        return self.locations.get(where, self.default_location)

    def is_config_repo(self, where: str, repo: str) -> bool:
        return repo.split("/", 1)[-1].lower() == self.location(where).repo.lower()

    def cached(self, where: str, owner: str) -> OrgConfig | None:
        return self._cache.get((where, owner.lower()))

    def forget(self, where: str, owner: str) -> None:
        self._cache.pop((where, owner.lower()), None)

    async def read(self, forge: Forge, where: str, owner: str) -> OrgConfig:
        key = (where, owner.lower())
        if key not in self._cache:
            self._cache[key] = await self._read(forge, where, owner)
        return self._cache[key]

    async def _read(self, forge: Forge, where: str, owner: str) -> OrgConfig:
        if not self.from_repositories:
            return OrgConfig(self.default, self.default_source)
        place = self.location(where)
        try:
            text = await forge.file_at(f"{owner}/{place.repo}", place.path, "")
        except ForgeError as exc:
            if not exc.out_of_reach:
                raise
            text = None  # no such repository, or the bot may not read it: the default applies
        if text is None:
            return OrgConfig(self.default, self.default_source)
        source = (f"{owner}/{place.repo}/{place.path}", text)
        memory_key = f"org-config:{where}:{owner.lower()}"
        try:
            config = load_config(source)
        except ConfigError as error:
            return await self._last_good(memory_key, source, error)
        if self.memory is not None:
            await self.memory.remember(memory_key, json.dumps(source))
        return OrgConfig(config, source)

    async def _last_good(self, memory_key: str, broken: tuple[str, str], error: ConfigError) -> OrgConfig:
        log.warning("the organisation config %s cannot be used: %s", broken[0], error)
        self.observe.config_error("organisation")
        kept = await self.memory.recall(memory_key) if self.memory is not None else None
        if kept is None:
            return OrgConfig(None, broken, error)
        source = tuple(json.loads(kept))
        return OrgConfig(load_config(source).noting(*self.notice(error)), source, error)  # type: ignore[arg-type]

    @staticmethod
    def notice(error: ConfigError | None) -> tuple[ConfigNotice, ...]:
        """What every config built on an organisation config with ``error`` must say about it."""
        if error is None:
            return ()
        return (ConfigNotice(error.file, error.line, error.field, error.message,
                             lead=Msg("The organisation's config is broken, its last good version applies: ")),)
