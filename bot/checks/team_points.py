"""How an item splits its story points between teams: "Teams: Backend (3 pts), Frontend (2 pts)" /
"Équipes : Backend (3 points), Frontend (2)". Read from the same "Teams:" line as Ready's teams; a
team named without a number has no share. Pure."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .issue_body import Body
from .ready_rules import matches, rules
from .text import fold

if TYPE_CHECKING:
    from ..config import Config

_SHARE = re.compile(r"\s*[(:\-–—]?\s*(\d{1,3})\b")  # right after the team's name: "(3 pts)", ": 3", "- 3"


def team_points(body: Body, config: "Config") -> tuple[tuple[str, int], ...]:
    """(team key, points) in the order written; each team once (its first share)."""
    pattern = rules(config).teams_field
    found: list[tuple[int, int, int, str, int]] = []  # (line, value, position, team, points)
    for f in body.fields:
        if not matches(pattern, f.label):
            continue
        for v, value in enumerate(f.values):
            folded = fold(value)
            for key, team in rules(config).teams:
                for m in team.finditer(folded):
                    share = _SHARE.match(folded, m.end())
                    if share:
                        found.append((f.line, v, m.start(), key, int(share.group(1))))
    shares: dict[str, int] = {}
    for *_, key, points in sorted(found):
        shares.setdefault(key, points)
    return tuple(shares.items())
