"""TeamOwnership: which teams a change touches, from config paths or the repository's CODEOWNERS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from codeowners import CodeOwners

from ..config import Config
from .paths import PathSet


@dataclass(frozen=True)
class TeamOwnership:
    teams: dict[str, list[str]]  # team key -> a few of the paths that make it touched
    source: str  # "config" | "codeowners" | "codeowners+config"

    @property
    def touched(self) -> list[str]:
        return list(self.teams)


@lru_cache(maxsize=64)
def _codeowners(text: str) -> CodeOwners:
    return CodeOwners(text)


class ForgejoCodeOwners:
    """Forgejo's CODEOWNERS: each pattern is a regular expression matched against the whole path
    (``^pattern$``), a leading ``!`` excludes, and every matching line applies (not only the last)."""

    def __init__(self, text: str):
        self.rules: list[tuple[bool, re.Pattern[str], list[str]]] = []
        for line in text.splitlines():
            parts = line.split("#", 1)[0].split()
            if len(parts) < 2:
                continue
            negated, pattern = parts[0].startswith("!"), parts[0].lstrip("!")
            try:
                self.rules.append((negated, re.compile(f"^{pattern}$"), parts[1:]))
            except re.error:
                continue  # Forgejo skips a line it cannot read; so does the bot

    def of(self, path: str) -> list[tuple[str, str]]:
        owners: list[tuple[str, str]] = []
        for negated, regex, handles in self.rules:
            if regex.match(path):
                for handle in handles:
                    if negated and ("TEAM", handle) in owners:
                        owners.remove(("TEAM", handle))
                    elif not negated and ("TEAM", handle) not in owners:
                        owners.append(("TEAM", handle))
        return owners


@lru_cache(maxsize=64)
def _forgejo_codeowners(text: str) -> ForgejoCodeOwners:
    return ForgejoCodeOwners(text)


def _handle_to_team(config: Config) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for key, team in config.teams.items():
        for handle in team.codeowners:
            mapping[handle.lower()] = key
    return mapping


def _from_codeowners(paths: PathSet, text: str, config: Config, forge: str) -> tuple[dict[str, list[str]], list[str]]:
    """Teams per CODEOWNERS (in the forge's own syntax), and the paths it gives no configured team."""
    owners = _forgejo_codeowners(text) if forge == "forgejo" else _codeowners(text)
    handles = _handle_to_team(config)
    teams: dict[str, list[str]] = {}
    unowned: list[str] = []
    for path in paths.paths:
        keys = {handles[h.lower()] for _kind, h in owners.of(path) if h.lower() in handles}
        if not keys:
            unowned.append(path)
        for key in keys:
            teams.setdefault(key, []).append(path)
    return teams, unowned


def _from_config(paths: PathSet, config: Config) -> dict[str, list[str]]:
    teams: dict[str, list[str]] = {}
    for key, team in config.teams.items():
        found = paths.matching(team.paths, limit=5) if team.paths else []
        if found:
            teams[key] = found
    return teams


def team_ownership(paths: PathSet, config: Config, codeowners: str | None, forge: str = "github") -> TeamOwnership:
    """Teams touched. With ``ownership_source: codeowners`` (the default) CODEOWNERS decides where
    it names a configured team; paths it leaves to nobody fall back to the config's team paths."""
    if codeowners and config.review.ownership_source == "codeowners":
        teams, unowned = _from_codeowners(paths, codeowners, config, forge)
        if unowned:
            for key, found in _from_config(PathSet(unowned), config).items():
                teams.setdefault(key, []).extend(found)
        source = "codeowners+config" if unowned else "codeowners"
    else:
        teams, source = _from_config(paths, config), "config"
    ordered = {k: teams[k][:5] for k in config.teams if k in teams}  # config order, stable output
    return TeamOwnership(ordered, source)
