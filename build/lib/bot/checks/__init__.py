"""The rules: pure functions from a forge-neutral snapshot and the config to a verdict.

One self-describing module per evidence kind (``check``, ``metric``, ``files``, ``approvals``,
``labels``, ``checkbox``, ``section``, ``linked_ready``), listed in ``kinds``; ``engine.evaluate``
runs the DoD; ``ready`` and ``triage`` judge backlog items; ``links`` and ``deps`` read and walk
dependencies; ``text`` is the one reader of what people write.
"""

# The config schema first: it collects its evidence models from the kinds of this package.
from .. import config as _schema  # noqa: F401, I001  # isort: skip
from .engine import evaluate, judge
from .facts import Context, Facts

__all__ = ["evaluate", "judge", "Context", "Facts"]
