"""Forgejo's CODEOWNERS syntax, which is not GitHub's: each pattern is a regular expression matched
against the whole path (``^pattern$``), a leading ``!`` excludes, and every matching line applies
(not only the last)."""

from __future__ import annotations

import re


class ForgejoCodeOwners:
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
