"""TeamOwnership: which teams a change touches, from config paths or the repository's CODEOWNERS
(read by the forge's adapter in that forge's own syntax)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import CodeOwners
from .paths import PathSet

if TYPE_CHECKING:
    from ..config import Config


@dataclass(frozen=True)
class TeamOwnership:
    teams: dict[str, list[str]]  # team key -> a few of the paths that make it touched
    source: str  # "config" | "codeowners" | "codeowners+config"

    @property
    def touched(self) -> list[str]:
        return list(self.teams)


def _handle_to_team(config: "Config") -> dict[str, str]:
    mapping: dict[str, str] = {}
    for key, team in config.teams.items():
        for handle in team.codeowners:
            mapping[handle.lower()] = key
    return mapping


def _from_codeowners(paths: PathSet, owners: CodeOwners, config: "Config") -> tuple[dict[str, list[str]], list[str]]:
    """Teams per CODEOWNERS, and the paths it gives no configured team."""
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


def _from_config(paths: PathSet, config: "Config") -> dict[str, list[str]]:
    teams: dict[str, list[str]] = {}
    for key, team in config.teams.items():
        found = paths.matching(team.paths, limit=5) if team.paths else []
        if found:
            teams[key] = found
    return teams


def labelled_teams(labels: frozenset[str], config: "Config") -> tuple[str, ...]:
    """The teams whose label (``team:<key>`` or its ``label:``) is among ``labels`` (casefolded)."""
    return tuple(key for key in config.teams if config.team_label(key).casefold() in labels)


def team_ownership(paths: PathSet, config: "Config", codeowners: CodeOwners | None) -> TeamOwnership:
    """Teams touched. With ``ownership_source: codeowners`` (the default) CODEOWNERS decides where
    it names a configured team; paths it leaves to nobody fall back to the config's team paths."""
    if codeowners is not None and config.review.ownership_source == "codeowners":
        teams, unowned = _from_codeowners(paths, codeowners, config)
        if unowned:
            for key, found in _from_config(PathSet(unowned), config).items():
                teams.setdefault(key, []).extend(found)
        source = "codeowners+config" if unowned else "codeowners"
    else:
        teams, source = _from_config(paths, config), "config"
    ordered = {k: teams[k][:5] for k in config.teams if k in teams}  # config order, stable output
    return TeamOwnership(ordered, source)
