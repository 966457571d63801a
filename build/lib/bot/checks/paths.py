"""Matching changed paths against gitignore-style patterns, fast enough for GitHub's 3000 files.

pathspec (the library git tooling in Python uses) turns each pattern into a regex; a list of
patterns becomes one multi-line regex searched once over the newline-joined paths, so a check costs
one scan in C instead of one Python call per file and pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pathspec import GitIgnoreSpec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern


@lru_cache(maxsize=2048)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | GitIgnoreSpec:
    parts = []
    for pattern in patterns:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(pattern)
        if regex is None:
            continue  # blank or comment
        if not include:
            return GitIgnoreSpec.from_lines(patterns)  # negations need last-match-wins: per file
        parts.append(regex.replace("(?P<ps_d>", "(?:"))
    return re.compile("|".join(f"(?:{p})" for p in parts) or r"(?!)", re.MULTILINE)


class PathSet:
    """The paths a pull request changes, ready to be matched many times."""

    __slots__ = ("paths", "_blob")

    def __init__(self, paths: list[str] | tuple[str, ...]):
        self.paths = tuple(p for p in paths if "\n" not in p)
        self._blob = "\n".join(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def any_match(self, patterns: tuple[str, ...] | list[str]) -> bool:
        matcher = _compile(tuple(patterns))
        if isinstance(matcher, GitIgnoreSpec):
            return any(matcher.match_file(p) for p in self.paths)
        return matcher.search(self._blob) is not None

    def matching(self, patterns: tuple[str, ...] | list[str], limit: int | None = None) -> list[str]:
        """The matching paths in order, the first ``limit`` of them at most."""
        matcher = _compile(tuple(patterns))
        if isinstance(matcher, GitIgnoreSpec):
            return [p for p in self.paths if matcher.match_file(p)][:limit]
        found, seen = [], set()
        for m in matcher.finditer(self._blob):
            if limit is not None and len(found) >= limit:
                break
            start = self._blob.rfind("\n", 0, m.start()) + 1
            end = self._blob.find("\n", m.start())
            line = self._blob[start : end if end >= 0 else None]
            if line not in seen:
                seen.add(line)
                found.append(line)
        return found
