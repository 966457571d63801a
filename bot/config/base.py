"""What every part of the config schema shares: strict models, regex checks, conditions, and the
error that names a file, a line and a field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

import re2
from pydantic import BaseModel, ConfigDict, field_validator

from ..msg import join


class ConfigError(ValueError):
    """A config file that cannot be used; ``str()`` is the message shown to people."""

    def __init__(self, file: str, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        self.errors: list[ConfigError] = [self]  # every error found in the file, this one first
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


@dataclass(frozen=True)
class ConfigNotice:
    """Something people must know about the config in force, at a place in a file: a repository's
    change refused (the organisation's rule applies), or a broken organisation file."""

    file: str
    line: int | None
    field: str | None
    message: str
    lead: str = ""  # a sentence before the place, e.g. "The organisation's config is broken: "

    def __str__(self) -> str:
        return str(self.text())

    def text(self) -> str:
        """The notice as people read it: a Msg when its lead or message are (``bot/msg.py``)."""
        place = f"{self.file}:{self.line}" if self.line else self.file
        return join([self.lead, f"{place}: {self.field + ': ' if self.field else ''}", self.message], "")


class Strict(BaseModel):
    """A config model: unknown settings are errors (a misspelt key must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_regex(value: str | None) -> str | None:
    """A regular expression a config supplies: RE2 must run it, so that it runs in linear time
    whatever the text (``bot/checks/patterns.py``); look-arounds and back-references are refused."""
    if value is not None:
        options = re2.Options()
        options.log_errors = False
        try:
            re2.compile(value, options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"not a valid regular expression for the linear-time engine (RE2): {reason}") from None
    return value


def check_regexes(values: list[str]) -> list[str]:
    for value in values:
        check_regex(value)
    return values


class Patterns(Strict):
    """A model whose list settings are all regular expressions."""

    @field_validator("*")
    @classmethod
    def _regexes(cls, value: Any) -> Any:
        return check_regexes(value) if isinstance(value, list) else value


class Condition(Strict):
    """When an item (or one piece of evidence) applies. Every condition given must hold."""

    paths: list[str] | None = None  # a changed file matches one of these (gitignore patterns)
    labels_any: list[str] | None = None
    labels_none: list[str] | None = None
    teams_any: list[str] | None = None  # one of these teams' code is touched
    cross_team: bool | None = None  # the change is (or is not) cross-team
    base_branches: list[str] | None = None  # glob patterns on the base branch name


class EvidenceBase(Strict):
    """What every evidence kind's config model has (each kind adds ``kind: Literal[...]`` and its
    parameters, in its own module of ``bot/checks/``)."""

    when: Condition | None = None


T = TypeVar("T")


class PerConfig(Generic[T]):
    """What is compiled from a config (regexes, phrase tables), built once per config object and kept
    while the bot still uses that object (the 16 most recent)."""

    def __init__(self, build: Callable[[Any], T], size: int = 16):
        self._build, self._size = build, size
        self._cache: dict[int, tuple[Any, T]] = {}

    def __call__(self, config: Any) -> T:
        hit = self._cache.get(id(config))
        if hit is None or hit[0] is not config:  # an id can be reused once its object is gone
            if len(self._cache) >= self._size:
                self._cache.clear()
            hit = self._cache[id(config)] = (config, self._build(config))
        return hit[1]
