"""Facts: what the rules ask of a pull request, computed once per evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Mapping

from ..model import PullRequest, Waiver
from .ownership import TeamOwnership, team_ownership
from .paths import PathSet
from .text import Text

if TYPE_CHECKING:
    from ..config import Config


@dataclass(frozen=True)
class Context:
    """What the worker looked up for the rules: nothing here is fetched by the rules themselves."""

    members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # team key -> logins
    waivers: Mapping[str, Waiver] = field(default_factory=dict)  # item id -> waiver
    linked_ready: Mapping[str, bool | None] = field(default_factory=dict)  # "repo#n" -> ready? None: unreachable


@dataclass
class Facts:
    pr: PullRequest
    config: "Config"
    context: Context
    paths: PathSet
    labels: frozenset[str]
    ownership: TeamOwnership
    body: Text  # the description, read once

    @classmethod
    def of(cls, pr: PullRequest, config: "Config", context: Context | None = None) -> "Facts":
        paths = PathSet([f.path for f in pr.files] + [f.previous_path for f in pr.files if f.previous_path])
        return cls(
            pr=pr,
            config=config,
            context=context or Context(),
            paths=paths,
            labels=frozenset(label.casefold() for label in pr.labels),  # forges ignore case
            ownership=team_ownership(paths, config, pr.codeowners),
            body=Text(pr.body),
        )

    def given(self, context: Context) -> "Facts":
        """The same facts with what the worker looked up (paths and ownership are not redone)."""
        return replace(self, context=context)

    def relabelled(self, labels: tuple[str, ...]) -> "Facts":
        """The same facts as if the pull request carried ``labels`` (labels touch no path)."""
        return replace(self, pr=replace(self.pr, labels=labels),
                       labels=frozenset(label.casefold() for label in labels))

    @property
    def teams(self) -> list[str]:
        return self.ownership.touched

    @property
    def cross_team(self) -> bool:
        return len(self.teams) >= 2 or self.config.labels.cross_team.casefold() in self.labels
