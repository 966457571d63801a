"""The rules: pure functions from a forge-neutral snapshot and the config to a verdict.

One module per evidence kind (``check``, ``metric``, ``files``, ``approvals``, ``labels``,
``checkbox``, ``section``, ``linked_ready``); ``engine.evaluate`` runs the DoD; ``ready`` judges
backlog items.
"""

from .engine import evaluate, judge
from .facts import Context, Facts

__all__ = ["evaluate", "judge", "Context", "Facts"]
