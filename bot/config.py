"""The organisation's rules as data: ``config/dod.yml``, optionally extended per repository.

Validated with pydantic; every error names the file, the line and the field, because the people who
edit these files are the NIT, not the bot's developers.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MAX_CONFIG_BYTES = 512 * 1024
REPO_CONFIG_PATHS = (".github/nexus.yml", ".forgejo/nexus.yml", ".gitea/nexus.yml", ".nexus.yml")
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "dod.yml"


class ConfigError(ValueError):
    """A config file that cannot be used; ``str()`` is the message shown to people."""

    def __init__(self, file: str, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


# ----- conditions ---------------------------------------------------------------------------

class Condition(_Strict):
    """When an item (or one piece of evidence) applies. Every condition given must hold."""

    paths: list[str] | None = None  # a changed file matches one of these (gitignore patterns)
    labels_any: list[str] | None = None
    labels_none: list[str] | None = None
    teams_any: list[str] | None = None  # one of these teams' code is touched
    cross_team: bool | None = None  # the change is (or is not) cross-team
    base_branches: list[str] | None = None  # glob patterns on the base branch name


# ----- evidence kinds -----------------------------------------------------------------------

class _Evidence(_Strict):
    when: Condition | None = None


class CheckEvidence(_Evidence):
    """CI checks or commit statuses, by name (glob patterns), that must have succeeded."""

    kind: Literal["check"]
    names: list[str] = Field(min_length=1)
    require: Literal["any", "all"] = "any"  # any: one matching check is enough; all: every pattern
    missing: Literal["pending", "fail"] = "pending"  # no such check reported (yet)


class MetricEvidence(_Evidence):
    """A number read from a check's output or a status description, compared with a threshold."""

    kind: Literal["metric"]
    names: list[str] = Field(min_length=1)
    pattern: str | None = None  # a regex whose first group is the number; default: the first number
    op: Literal[">", ">=", "<", "<="]
    threshold: float
    unit: str = ""
    missing: Literal["pending", "fail"] = "pending"

    _pattern_ok = field_validator("pattern")(_check_regex)


class FilesEvidence(_Evidence):
    """A file matching one of these patterns is changed by the pull request."""

    kind: Literal["files"]
    patterns: list[str] = Field(min_length=1)


class ApprovalsEvidence(_Evidence):
    """Approving reviews: a minimum count, and (cross-team) one per touched team."""

    kind: Literal["approvals"]
    min: int | None = Field(default=None, ge=0)  # default: the review policy's minimum
    per_team: bool = True


class LabelEvidence(_Evidence):
    kind: Literal["label"]
    present: list[str] = []  # one of these labels is set
    absent: list[str] = []  # none of these labels is set

    @model_validator(mode="after")
    def _one_given(self) -> "LabelEvidence":
        if not self.present and not self.absent:
            raise ValueError("give 'present' or 'absent' labels")
        return self


class CheckboxEvidence(_Evidence):
    """A ticked checkbox in the PR description whose text matches ``text`` (a regex)."""

    kind: Literal["checkbox"]
    text: str

    _text_ok = field_validator("text")(_check_regex)


class SectionEvidence(_Evidence):
    """A non-empty section of the PR description under a heading matching ``heading`` (a regex)."""

    kind: Literal["section"]
    heading: str
    min_chars: int = Field(default=1, ge=1)

    _heading_ok = field_validator("heading")(_check_regex)


class LinkedReadyEvidence(_Evidence):
    """The backlog items the PR closes are Ready (labelled with the ready label)."""

    kind: Literal["linked_ready"]


Evidence = Annotated[
    Union[
        CheckEvidence,
        MetricEvidence,
        FilesEvidence,
        ApprovalsEvidence,
        LabelEvidence,
        CheckboxEvidence,
        SectionEvidence,
        LinkedReadyEvidence,
    ],
    Field(discriminator="kind"),
]


class DodItem(_Strict):
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

class Team(_Strict):
    name: str | None = None  # display name, default the key capitalised
    label: str | None = None  # default "team:<key>"
    paths: list[str] = []  # gitignore patterns
    codeowners: list[str] = []  # CODEOWNERS handles that mean this team, e.g. "@org/backend"
    forge_team: str | None = None  # the forge team slug (membership, review requests); default the key
    members: list[str] = []  # for organisations that do not use forge teams


class Labels(_Strict):
    cross_team: str = "nexus"
    ready: str = "ready"
    needs_refinement: str = "needs-refinement"
    blocked: str = "blocked"
    priorities: list[str] = ["P0", "P1", "P2", "P3"]
    types: list[str] = ["feature", "bug", "refactor", "docs", "test"]
    milestones: list[str] = [f"milestone:{n}" for n in range(1, 7)]
    points_prefix: str = "points:"
    colors: dict[str, str] = {}  # label (or family: "team:*") -> hex colour, used when creating labels


class ReviewPolicy(_Strict):
    min_approvals: int = Field(default=1, ge=0)
    cross_team_min_approvals: int = Field(default=2, ge=0)
    dismiss_stale: bool = False  # approvals of older commits no longer count
    request_reviews: bool = True  # ask each touched team without an approval for a review, once
    ownership_source: Literal["codeowners", "config"] = "codeowners"
    membership_ttl_seconds: int = Field(default=600, ge=0)


class WaiverPolicy(_Strict):
    teams: list[str] = ["nit"]  # members of these teams may waive
    users: list[str] = []
    permissions: list[str] = ["admin"]  # repository permissions that may waive


class Reporting(_Strict):
    check_name: str = "Nexus DoD"
    status_context: str = "nexus/dod"
    sticky_comment_github: bool = False
    details_url: str | None = None  # e.g. https://nexus.example.org/report/{repo}/{number}


class Config(_Strict):
    version: Literal[1] = 1
    categories: dict[str, str]  # id -> title, in display order
    teams: dict[str, Team] = {}
    labels: Labels = Labels()
    review: ReviewPolicy = ReviewPolicy()
    waivers: WaiverPolicy = WaiverPolicy()
    reporting: Reporting = Reporting()
    command_prefix: str = "/nexus"
    items: list[DodItem] = Field(min_length=1)
    ready: dict[str, Any] = {}  # Ready criteria wording, see bot/checks/ready.py

    @model_validator(mode="after")
    def _consistent(self) -> "Config":
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} is used twice")
            seen.add(item.id)
            if item.category not in self.categories:
                raise ValueError(
                    f"item {item.id!r} has category {item.category!r}, not one of {sorted(self.categories)}"
                )
            for cond in [item.when, *(e.when for e in item.evidence)]:
                for team in (cond.teams_any or []) if cond else []:
                    if team not in self.teams:
                        raise ValueError(f"item {item.id!r} names team {team!r}, not one of {sorted(self.teams)}")
        return self

    def team_label(self, key: str) -> str:
        return self.teams[key].label or f"team:{key}"

    def team_name(self, key: str) -> str:
        return self.teams[key].name or key.capitalize()

    def team_slug(self, key: str) -> str:
        return self.teams[key].forge_team or key

    def enabled_items(self) -> list[DodItem]:
        return [i for i in self.items if i.enabled]


# ----- loading with line numbers --------------------------------------------------------------

Path_ = tuple[Any, ...]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _parse(text: str, filename: str) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise ConfigError(filename, None, None, f"the file is larger than {MAX_CONFIG_BYTES // 1024} KB")
    try:
        tree = _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(filename, mark.line + 1 if mark else None, None, f"not valid YAML: {problem}") from None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        raise ConfigError(filename, None, None, f"not valid YAML: {exc}") from None
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ConfigError(filename, 1, None, "the file must be a mapping of settings (key: value)")
    where: dict[Path_, tuple[str, int]] = {}

    def walk(node: Any, path: Path_) -> None:
        if isinstance(node, dict):
            for key in node:
                try:
                    where[path + (key,)] = (filename, node.lc.key(key)[0] + 1)
                except Exception:
                    pass
                walk(node[key], path + (key,))
        elif isinstance(node, list):
            for idx, value in enumerate(node):
                try:
                    where[path + (idx,)] = (filename, node.lc.item(idx)[0] + 1)
                except Exception:
                    pass
                walk(value, path + (idx,))

    walk(tree, ())
    return _plain(tree), where


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _merge(base: Any, override: Any, path: Path_, where: dict, over_where: dict, over_path: Path_) -> Any:
    """Deep-merge ``override`` into ``base``; items are merged by id. ``where`` learns the new paths."""
    def remap(src: Path_, dst: Path_) -> None:
        for p, pos in over_where.items():
            if p[: len(src)] == src:
                where[dst + p[len(src):]] = pos

    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            if path == () and key == "items" and isinstance(value, list) and isinstance(base.get("items"), list):
                out[key] = _merge_items(base["items"], value, where, over_where)
                if ("items",) in over_where:
                    where[("items",)] = over_where[("items",)]
            elif key in base:
                out[key] = _merge(base[key], value, path + (key,), where, over_where, over_path + (key,))
                if over_path + (key,) in over_where:
                    where[path + (key,)] = over_where[over_path + (key,)]
            else:
                out[key] = value
                remap(over_path + (key,), path + (key,))
        return out
    remap(over_path, path)
    return override


def _merge_items(base: list, override: list, where: dict, over_where: dict) -> list:
    out = list(base)
    index = {item.get("id"): i for i, item in enumerate(out) if isinstance(item, dict)}
    for j, item in enumerate(override):
        item_id = item.get("id") if isinstance(item, dict) else None
        if item_id in index:
            k = index[item_id]
            out[k] = _merge(out[k], item, ("items", k), where, over_where, ("items", j))
        else:
            k = len(out)
            out.append(item)
            for p, pos in over_where.items():
                if p[:2] == ("items", j):
                    where[("items", k) + p[2:]] = pos
        if ("items", j) in over_where:
            where[("items", k)] = over_where[("items", j)]
    return out


def _validation_error(exc: ValidationError, where: dict, default_file: str, data: Any) -> ConfigError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    # pydantic puts the union tag in the loc (items.3.evidence.0.metric.threshold): drop it
    clean: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            clean.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            clean.append(part)
            node = node[part]
        elif isinstance(node, dict) and (part == 0 or part == node.get("kind")):
            continue  # a single evidence given as a mapping, or the union's tag
        else:
            clean.append(part)
            node = None
    file, line = default_file, None
    for n in range(len(clean), 0, -1):
        if tuple(clean[:n]) in where:
            file, line = where[tuple(clean[:n])]
            break
    names: list[str] = []
    node = data
    for part in clean:
        child = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        if isinstance(part, int) and isinstance(child, dict) and child.get("id"):
            names[-1] += f"[{child['id']}]"  # items[coverage] reads better than items.2
        else:
            names.append(str(part))
        node = child
    field = ".".join(names) or None
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown setting (check its spelling)"
    elif err["type"] == "missing":
        message = "this setting is required"
    return ConfigError(file, line, field, message)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


def load_config(*sources: tuple[str, str]) -> Config:
    """Load and validate the merged config from ``(filename, text)`` pairs, later ones overriding."""
    data: Any = {}
    where: dict[Path_, tuple[str, int]] = {}
    first = sources[0][0] if sources else "config"
    for filename, text in sources:
        tree, tree_where = _parse(text, filename)
        if not data:
            data, where = tree, dict(tree_where)
        else:
            data = _merge(data, tree, (), where, tree_where, ())
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where, sources[-1][0] if len(sources) > 1 else first, data) from None


def default_config_text() -> tuple[str, str]:
    """The embedded organisation config (``config/dod.yml``)."""
    return ("config/dod.yml", DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def load_file(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, None, f"cannot read the file ({exc})") from None
    return load_config((str(path), text))
