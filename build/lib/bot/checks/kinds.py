"""The evidence kinds, in one list: adding a kind is one module of ``bot/checks/`` and one line here.

The config schema (``bot/config/dod.py``) builds its union of evidence models from this list, the
engine its table of judges, and the filter of events that cannot change a verdict its ``reads``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import approvals, check, checkbox, files, labels, linked_ready, metric, section
from .kind import Kind, Reads

if TYPE_CHECKING:
    from ..config import Config

KINDS: tuple[Kind, ...] = (
    check.KIND,
    metric.KIND,
    files.KIND,
    approvals.KIND,
    labels.KIND,
    checkbox.KIND,
    section.KIND,
    linked_ready.KIND,
)
BY_NAME = {kind.name: kind for kind in KINDS}


def reads(config: "Config") -> Reads:
    """Everything the enabled items of ``config`` look at: their evidence, the labels of their
    conditions, and the cross-team label (it makes a change cross-team)."""
    found = Reads(labels=frozenset({config.labels.cross_team}))
    for item in config.enabled_items():
        for cond in [item.when, *(e.when for e in item.evidence)]:
            if cond:
                found |= Reads(labels=frozenset([*(cond.labels_any or ()), *(cond.labels_none or ())]))
        for ev in item.evidence:
            found |= BY_NAME[ev.kind].reads(ev)
    return found
