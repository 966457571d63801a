"""The ``blocked`` label of one backlog item, converged when a dependency the forge records is added
or removed: the item is blocked while it depends on an open item of a team it does not share (the
rule of ``/nexus deps``, read from the same graph, one link deep)."""

from __future__ import annotations

from ..checks.deps import build_graph
from ..config import Config
from ..forges.base import Forge
from ..model import ItemRef
from . import converge
from .items import fetch_item


async def converge_blocked(forge: Forge, config: Config, repo: str, number: int) -> str:
    """Add or remove the item's ``blocked`` label; other items are left to their own events."""
    root = ItemRef(forge.name, repo, number)
    graph = await build_graph(root, lambda ref: fetch_item(forge, ref), config, depth=1)
    for change in graph.label_changes():
        if change.ref == root:
            await converge.set_labels(forge, config, repo, number, change.add, change.remove)
            return "blocked" if change.add else "unblocked"
    return "blocked label unchanged"
