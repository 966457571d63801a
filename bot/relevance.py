"""Which events can change a DoD verdict: the others are acknowledged and cost no API call.

Decided from the event and the config alone (never a forge call): a label no rule reads, a review
that only comments, an edit of the title, a CI job no item looks at. When the repository's config is
not in the cache, the event is taken as relevant: skipping must never make a verdict stale.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .config import Config
from .events import Event


def labels_read(config: Config) -> set[str]:
    """Every label a rule looks at."""
    names = {config.labels.cross_team}
    for item in config.enabled_items():
        for cond in [item.when, *(e.when for e in item.evidence)]:
            if cond:
                names.update(cond.labels_any or ())
                names.update(cond.labels_none or ())
        for ev in item.evidence:
            if ev.kind == "label":
                names.update(ev.present)
                names.update(ev.absent)
    return names


def checks_read(config: Config) -> list[str]:
    """Every CI name pattern a rule looks at (lower case)."""
    return [n.lower() for item in config.enabled_items() for ev in item.evidence
            if ev.kind in ("check", "metric") for n in ev.names]


def may_change_verdict(event: Event, config: Config | None) -> bool:
    if event.name == "pull_request_review" and event.review_state == "commented":
        return False  # a comment review is neither an approval nor a request for changes
    if event.name == "pull_request" and event.action == "edited" and event.extra.get("changes") == ["title"]:
        return False  # no rule reads the title
    if config is None:
        return True
    if event.name == "pull_request" and event.action in ("labeled", "unlabeled"):
        label = event.extra.get("label")
        return label is None or label.casefold() in {name.casefold() for name in labels_read(config)}
    if event.name == "check" and event.action == "completed":
        name = (event.extra.get("check_name") or "").lower()
        return not name or any(fnmatchcase(name, p) for p in checks_read(config))
    return True
