"""Loading the config: YAML with line numbers, the repository file merged over the organisation's,
validation with errors that name the file, the line and the field (the people who edit these files
are the NIT, not the bot's developers)."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .base import ConfigError
from .dod import Config
from .layers import tighten

MAX_CONFIG_BYTES = 512 * 1024
MAX_CONFIG_NODES = 100_000  # the embedded config has about 2,000
ORGANISATION_ONLY = (("review", "membership_ttl_seconds"),)  # one cache serves every repository
# The embedded organisation config ships inside the package (a wheel install has it too); the
# checkout's config/dod.yml is a link to it, where people look for it.
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "dod.yml"


Path_ = tuple[Any, ...]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def parse_yaml(text: str, filename: str) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    tree, where = _parse_cached(text, filename)
    return copy.deepcopy(tree), dict(where)


@lru_cache(maxsize=64)
def _parse_cached(text: str, filename: str) -> tuple[Any, dict[Path_, tuple[str, int]]]:
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
    budget = [MAX_CONFIG_NODES]

    def walk(node: Any, path: Path_) -> None:
        budget[0] -= 1
        if budget[0] < 0:  # YAML aliases can expand a few hundred bytes into billions of nodes
            raise ConfigError(filename, None, None,
                              f"the file expands to more than {MAX_CONFIG_NODES} values (YAML aliases?)")
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
    index = {item.get("id"): i for i, item in enumerate(out) if isinstance(item, dict) and isinstance(item.get("id"), str)}
    for j, item in enumerate(override):
        item_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
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
    """The first error, carrying every error of the file in ``errors`` (``config check`` shows all)."""
    unique: dict[str, ConfigError] = {}
    for err in exc.errors():
        error = _one_error(err, where, default_file, data)
        unique.setdefault(str(error), error)
    first, *_ = unique.values()
    first.errors = list(unique.values())
    return first


def _one_error(err: Any, where: dict, default_file: str, data: Any) -> ConfigError:
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
    """The config of ``(filename, text)`` layers: the organisation's first, then a repository's,
    which may tighten it but never weaken it (``layers.py``); what it was refused is carried by the
    config as notices. Raises ConfigError, naming file, line and field, for a file that cannot be used."""
    data: Any = {}
    where: dict[Path_, tuple[str, int]] = {}
    config: Config | None = None
    for n, (filename, text) in enumerate(sources):
        tree, tree_where = parse_yaml(text, filename)
        for path in ORGANISATION_ONLY if n else ():
            if path in tree_where:
                raise ConfigError(filename, tree_where[path][1], ".".join(path),
                                  "this is set for the whole organisation (config/dod.yml), not per repository")
        if not n:
            data, where = tree, dict(tree_where)
        else:
            data = _merge(data, tree, (), where, tree_where, ())
        layer = _validated(data, where, filename)
        config = layer if config is None else tighten(config, layer, tree, tree_where, filename)
    if config is None:
        raise ConfigError("config", None, None, "no config given")
    return config


def _validated(data: Any, where: dict, default_file: str) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where, default_file, data) from None
    problem = _inconsistency(config)
    if problem:
        path, message = problem
        file, line = where.get(path, (default_file, None))
        field = f"items[{config.items[path[1]].id}].{'.'.join(map(str, path[2:]))}".rstrip(".")
        raise ConfigError(file, line, field, message)
    return config


def _inconsistency(config: Config) -> tuple[Path_, str] | None:
    """Cross-references pydantic cannot see: ids, categories and teams named by items."""
    seen: set[str] = set()
    for n, item in enumerate(config.items):
        if item.id in seen:
            return ("items", n, "id"), f"the id {item.id!r} is used by two items"
        seen.add(item.id)
        if item.category not in config.categories:
            return ("items", n, "category"), f"{item.category!r} is not a category; valid: {', '.join(config.categories)}"
        conditions = [(("items", n, "when"), item.when)]
        conditions += [(("items", n, "evidence", k, "when"), ev.when) for k, ev in enumerate(item.evidence)]
        for path, cond in conditions:
            for team in (cond.teams_any or []) if cond else []:
                if team not in config.teams:
                    return path + ("teams_any",), f"{team!r} is not a team; valid: {', '.join(config.teams)}"
    return None


def default_config_text() -> tuple[str, str]:
    """The embedded organisation config (``config/dod.yml``)."""
    return ("config/dod.yml", DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
