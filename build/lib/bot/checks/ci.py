"""Looking up CI signals (check runs and commit statuses) of the head commit by name."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..model import CheckResult
from .facts import Facts


def latest_checks(facts: Facts) -> dict[str, CheckResult]:
    """One signal per name: the newest check run (highest id), statuses already come one per context.
    The bot's own check is left out: it is not evidence."""
    own = facts.config.reporting.check_name.lower()
    own_status = facts.config.reporting.status_context.lower()
    by_name: dict[str, CheckResult] = {}
    for check in facts.pr.checks:
        key = check.name.lower()
        if key in (own, own_status):
            continue
        prev = by_name.get(key)
        if prev is None or (check.id or 0) >= (prev.id or 0):
            by_name[key] = check
    return by_name


def matching(facts: Facts, patterns: list[str]) -> list[CheckResult]:
    checks = facts.__dict__.get("_latest_checks")
    if checks is None:
        checks = facts.__dict__["_latest_checks"] = latest_checks(facts)
    lowered = [p.lower() for p in patterns]
    return [c for key, c in checks.items() if any(fnmatchcase(key, p) for p in lowered)]
