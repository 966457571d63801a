"""The schema of the organisation's DoD (``config/dod.yml``): its items, teams, labels, review
and waiver policies, reporting. The evidence of an item is one of the kinds of ``bot/checks/``,
each of which brings its own model (``kinds.KINDS``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, PrivateAttr, field_validator

from ..checks.kinds import KINDS
from ..locales import DEFAULT_LANGUAGE, LANGUAGES
from .base import Condition, ConfigNotice, Strict
from .nexus import NexusConfig
from .ready import ReadyConfig

Evidence = Annotated[Union[tuple(kind.evidence for kind in KINDS)], Field(discriminator="kind")]


class DodItem(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    number: int | None = None  # its number in the organisation's DoD (1..23), for people
    title: str
    category: str
    severity: Literal["required", "advisory"] = "required"
    evidence: list[Evidence] = Field(min_length=1)  # every applicable piece must pass
    when: Condition | None = None
    waivable: bool = True
    enabled: bool = True
    help: str = ""  # what to do when it fails

    @field_validator("evidence", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @property
    def required(self) -> bool:
        return self.severity == "required"


# ----- organisation ---------------------------------------------------------------------------

_HEX_COLOR = re.compile(r"#?[0-9a-fA-F]{6}")
MAX_LABEL_DESCRIPTION = 100  # GitHub refuses a longer label description


class Team(Strict):
    name: str | None = None  # display name, default the key capitalised
    label: str | None = None  # default "team:<key>"
    paths: list[str] = []  # gitignore patterns
    codeowners: list[str] = []  # CODEOWNERS handles that mean this team, e.g. "@org/backend"
    forge_team: str | None = None  # the forge team slug (membership, review requests); default the key
    members: list[str] = []  # for organisations that do not use forge teams


class Labels(Strict):
    cross_team: str = "nexus"
    ready: str = "ready"
    needs_refinement: str = "needs-refinement"
    blocked: str = "blocked"
    priorities: list[str] = ["P0", "P1", "P2", "P3"]
    types: list[str] = ["feature", "bug", "refactor", "docs", "test"]
    milestones: list[str] = [f"milestone:{n}" for n in range(1, 7)]
    points_prefix: str = "points:"
    # How the bot creates a label a repository does not have yet, per label or family ("team:*"):
    colors: dict[str, str] = {}  # -> hex colour, e.g. "1d76db"
    descriptions: dict[str, str] = {}  # -> a short text; "{value}" is what follows a family's prefix

    @field_validator("colors")
    @classmethod
    def _hex_colors(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{label}: {color!r}" for label, color in value.items() if not _HEX_COLOR.fullmatch(color)]
        if bad:
            raise ValueError(f"a colour is six hexadecimal digits, e.g. 1d76db ({'; '.join(bad)})")
        return value

    @field_validator("descriptions")
    @classmethod
    def _short_descriptions(cls, value: dict[str, str]) -> dict[str, str]:
        long = [f"{label}: {len(text)}" for label, text in value.items() if len(text) > MAX_LABEL_DESCRIPTION]
        if long:
            raise ValueError(f"a label description may have {MAX_LABEL_DESCRIPTION} characters at most, GitHub's "
                             f"limit ({'; '.join(long)} characters)")
        return value


class ReviewPolicy(Strict):
    min_approvals: int = Field(default=1, ge=0)
    cross_team_min_approvals: int = Field(default=2, ge=0)
    dismiss_stale: bool = False  # approvals of older commits no longer count
    request_reviews: bool = True  # ask each touched team without an approval for a review, once
    ownership_source: Literal["codeowners", "config"] = "codeowners"
    membership_ttl_seconds: int = Field(default=600, ge=0)


class WaiverPolicy(Strict):
    teams: list[str] = ["nit"]  # members of these teams may waive
    users: list[str] = []
    permissions: list[Literal["admin", "maintain", "write", "triage", "read"]] = ["admin"]  # repository permissions that may waive


class Reporting(Strict):
    check_name: str = "Nexus DoD"
    status_context: str = "nexus/dod"
    sticky_comment_github: bool = False
    details_url: str | None = None  # e.g. https://nexus.example.org/report/{repo}/{number}
    config_check_name: str = "Nexus config"  # the check of a pull request that changes a config file
    config_status_context: str = "nexus/config"


class DependencyPolicy(Strict):
    # write each dependency an item's text declares ("Depends on #44", "Blocks #45") as the forge's own
    # link (GitHub's "blocked by", Forgejo's dependencies), so the forge's UI shows it; the bot adds
    # such links, it never removes one
    mirror_written_links: bool = False


class MayRelax(Strict):
    items: list[str] = []  # item ids ("*": every item) a repository may disable, make advisory or loosen
    settings: list[str] = []  # settings a repository may loosen, e.g. "review.min_approvals", "waivers"


class RepositoryPolicy(Strict):
    """What a repository's own file may change beyond tightening. Everything else it may only make
    stricter: add items, make an advisory item required, raise thresholds and approval counts, make
    items apply more often."""

    may_relax: MayRelax = MayRelax()


class Config(Strict):
    version: Literal[1] = 1
    categories: dict[str, str]  # id -> title, in display order
    teams: dict[str, Team] = {}
    labels: Labels = Labels()
    review: ReviewPolicy = ReviewPolicy()
    waivers: WaiverPolicy = WaiverPolicy()
    reporting: Reporting = Reporting()
    command_prefix: str = "/nexus"
    # The language of reports, comments and replies (a catalog of bot/locales); a repository may
    # choose its own. Unset: English, and the Ready comment follows the language of each issue.
    language: str | None = None
    repositories: RepositoryPolicy = RepositoryPolicy()  # organisation only: what repositories may relax
    items: list[DodItem] = Field(min_length=1)
    dependencies: DependencyPolicy = DependencyPolicy()
    ready: ReadyConfig = Field(default_factory=ReadyConfig)  # Ready criteria and triage, see bot/checks/ready.py
    nexus: NexusConfig = NexusConfig()  # organisation only: sprints and metric thresholds, see bot/config/nexus.py
    # What a repository's file asked that the organisation's rules refused ("file:line: field: why"),
    # and problems of the organisation's own file while its last good version stays in force.
    _notices: tuple[ConfigNotice, ...] = PrivateAttr(default=())

    @field_validator("language")
    @classmethod
    def _language_known(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"no catalog for the language {value!r}; available: {', '.join(LANGUAGES)}")
        return value

    @property
    def lang(self) -> str:
        """The language texts are written in: ``language``, English when it is not set."""
        return self.language or DEFAULT_LANGUAGE

    @property
    def notices(self) -> tuple[ConfigNotice, ...]:
        return self._notices

    def noting(self, *notices: ConfigNotice) -> "Config":
        """The same config, carrying ``notices`` (shown in every report it judges)."""
        copy = self.model_copy()
        copy._notices = (*self._notices, *notices)
        return copy

    def team_label(self, key: str) -> str:
        return self.teams[key].label or f"team:{key}"

    def team_name(self, key: str) -> str:
        return self.teams[key].name or key.capitalize()

    def team_slug(self, key: str) -> str:
        return self.teams[key].forge_team or key

    def enabled_items(self) -> list[DodItem]:
        return [i for i in self.items if i.enabled]
