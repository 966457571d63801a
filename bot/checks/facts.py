"""Facts: what the rules ask of a pull request, computed once per evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Mapping

from ..model import PullRequest, Waiver
from .ownership import TeamOwnership, labelled_teams, team_ownership
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
    # When the forge did not list every changed file: the teams the PR's team labels name (they count
    # as touched too, since the files of the others may be among those not listed). Else empty.
    label_teams: tuple[str, ...] = ()

    @classmethod
    def of(cls, pr: PullRequest, config: "Config", context: Context | None = None) -> "Facts":
        paths = PathSet([f.path for f in pr.files] + [f.previous_path for f in pr.files if f.previous_path])
        labels = frozenset(label.casefold() for label in pr.labels)  # forges ignore case
        return cls(
            pr=pr,
            config=config,
            context=context or Context(),
            paths=paths,
            labels=labels,
            ownership=team_ownership(paths, config, pr.codeowners),
            body=Text(pr.body),
            label_teams=labelled_teams(labels, config) if pr.files_truncated else (),
        )

    def given(self, context: Context) -> "Facts":
        """The same facts with what the worker looked up (paths and ownership are not redone)."""
        return replace(self, context=context)

    def relabelled(self, labels: tuple[str, ...]) -> "Facts":
        """The same facts as if the pull request carried ``labels`` (labels touch no path)."""
        folded = frozenset(label.casefold() for label in labels)
        return replace(self, pr=replace(self.pr, labels=labels), labels=folded,
                       label_teams=labelled_teams(folded, self.config) if self.pr.files_truncated else ())

    @property
    def teams(self) -> list[str]:
        """The teams the change touches: those of the changed files (paths, CODEOWNERS), and when the
        file list is cut, those of the PR's team labels too."""
        if not self.label_teams:
            return self.ownership.touched
        return [key for key in self.config.teams if key in self.ownership.teams or key in self.label_teams]

    @property
    def cross_team(self) -> bool:
        return len(self.teams) >= 2 or self.config.labels.cross_team.casefold() in self.labels
