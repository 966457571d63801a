"""The dependency graph behind ``/nexus deps``: who depends on whom, and who is blocked.

Pure. Items are read through one async callback, ``fetch(ref) -> ItemInfo | None`` (None: the item
is deleted or out of reach), so the walk runs the same against a forge or an in-memory dict. Links
arrive already extracted (``ItemInfo.links``, e.g. from ``bot.checks.links.extract_links``).

Edges are found in both directions: an item's own "Depends on #12" / "Blocks #45", the links the
forge records natively (GitHub's "blocked by" / "blocking", Forgejo's and Gitea's dependencies), the
links other items of the graph hold about it, and the items the forge says mention it
(``referenced_by``), which are fetched so their links are read too. Each edge remembers where it was
seen (``SOURCES``: the forge, the text, or both). Sub-issues are walked and shown (``hierarchy``) but
block nobody: a parent waits for its parts by design. The walk stops at a depth and at a number of items;
cycles are found and reported, never looped on.

An open item is blocked when it depends on an item that is not done and is owned by a team it does
not share. ``DepGraph.label_changes()`` says which items should get or lose the ``blocked`` label.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from ..model import ItemRef, LabelChange

if TYPE_CHECKING:
    from ..config import Config

DEFAULT_DEPTH = 2
MAX_DEPTH = 5
MAX_ITEMS = 50
IN_PROGRESS_LABELS = frozenset({"in progress", "in-progress"})
FORGE, TEXT = "forge", "text"  # where an edge was seen: a link the forge records, a link written in text


class Status(str, enum.Enum):
    BACKLOG = "Backlog"
    READY = "Ready"
    IN_PROGRESS = "In progress"
    IN_REVIEW = "In review"
    DONE = "Done"


class LinkLike(Protocol):
    """A dependency written in an item's text: "Depends on org/repo#12" is (depends_on, org/repo, 12)."""

    kind: str  # depends_on | blocks
    repo: str | None  # None: the repository of the item that holds the link
    number: int


@dataclass(frozen=True)
class ItemInfo:
    ref: ItemRef
    title: str
    labels: frozenset[str] = frozenset()
    state: str = "open"  # open | closed
    is_pull_request: bool = False
    merged: bool = False
    assignees: tuple[str, ...] = ()
    open_pull_requests: tuple[ItemRef, ...] = ()  # open pull requests linked to (closing) this item
    links: tuple[LinkLike, ...] = ()  # written in its body and comments
    native_links: tuple[LinkLike, ...] = ()  # recorded by the forge (kinds: depends_on, blocks, parent, sub_issue)
    referenced_by: tuple[ItemRef, ...] = ()  # items whose text mentions this one (forge cross-references)
    url: str = ""


FetchItem = Callable[[ItemRef], Awaitable["ItemInfo | None"]]


@dataclass
class Node:
    ref: ItemRef
    info: ItemInfo | None  # None: deleted or unreachable
    explored: bool = False  # every item it links to or is referenced by is in the graph
    teams: tuple[str, ...] = ()  # owner team keys, from its team labels
    status: Status | None = None
    blocked_by: tuple[ItemRef, ...] | None = None  # None: unknown (unreachable, or links beyond the depth)

    @property
    def blocked(self) -> bool | None:
        return None if self.blocked_by is None else bool(self.blocked_by)


@dataclass
class DepGraph:
    root: ItemRef
    depth: int
    blocked_label: str
    nodes: dict[ItemRef, Node] = field(default_factory=dict)  # in walk order, the root first
    edges: set[tuple[ItemRef, ItemRef]] = field(default_factory=set)  # (dependent, dependency)
    sources: dict[tuple[ItemRef, ItemRef], set[str]] = field(default_factory=dict)  # edge -> {FORGE, TEXT}
    hierarchy: set[tuple[ItemRef, ItemRef]] = field(default_factory=set)  # (parent, sub-issue), forge-recorded
    cycles: list[tuple[ItemRef, ...]] = field(default_factory=list)  # each once, from its smallest ref

    @property
    def truncated(self) -> bool:
        """Some item has links the walk did not follow (depth or item limit)."""
        return any(n.info is not None and not n.explored for n in self.nodes.values())

    def dependencies(self, ref: ItemRef) -> list[ItemRef]:
        return sorted(b for a, b in self.edges if a == ref)

    def sub_issues(self, ref: ItemRef) -> list[ItemRef]:
        return sorted(b for a, b in self.hierarchy if a == ref)

    def is_ring(self, cycle: tuple[ItemRef, ...]) -> bool:
        """The cycle is one ring a → b → … → a (not a tangle of several)."""
        return all((a, cycle[(i + 1) % len(cycle)]) in self.edges for i, a in enumerate(cycle))

    def label_changes(self) -> list[LabelChange]:
        """Converge the blocked label: only items whose blockage is known and differs from their labels."""
        changes = []
        for node in self.nodes.values():
            if node.info is None or node.blocked is None:
                continue
            has = self.blocked_label in node.info.labels
            if node.blocked and not has:
                changes.append(LabelChange(node.ref, add=frozenset({self.blocked_label})))
            elif has and not node.blocked:
                changes.append(LabelChange(node.ref, remove=frozenset({self.blocked_label})))
        return changes


async def build_graph(
    root: ItemRef, fetch: FetchItem, config: "Config", depth: int = DEFAULT_DEPTH, max_items: int = MAX_ITEMS
) -> DepGraph:
    """Walk the links around ``root`` breadth-first, ``depth`` links away at most."""
    graph = DepGraph(root=root, depth=depth, blocked_label=config.labels.blocked)
    level, queued = [root], {root}
    for distance in range(depth + 1):
        infos = await asyncio.gather(*(fetch(ref) for ref in level))
        for ref, info in zip(level, infos):
            graph.nodes[ref] = Node(ref, info)
        if distance == depth:
            break
        next_level = []
        for info in infos:
            for ref in neighbours(info):
                if ref not in queued and len(queued) < max_items:
                    queued.add(ref)
                    next_level.append(ref)
        if not next_level:
            break
        level = next_level
    _connect(graph)
    _describe(graph, config)
    graph.cycles = _cycles(graph)
    return graph


def neighbours(info: ItemInfo | None) -> list[ItemRef]:
    """The items ``info`` links to, then the items that mention it."""
    if info is None:
        return []
    linked = [_target(link, info.ref) for link in (*info.links, *info.native_links)
              if link.kind in ("depends_on", "blocks", "parent", "sub_issue")]
    return [ref for ref in dict.fromkeys([*linked, *info.referenced_by]) if ref != info.ref]


def item_status(info: ItemInfo, ready_label: str) -> Status:
    labels = {label.lower() for label in info.labels}
    if info.state == "closed" or info.merged:
        return Status.DONE
    if info.is_pull_request or info.open_pull_requests:
        return Status.IN_REVIEW
    if labels & IN_PROGRESS_LABELS or info.assignees:
        return Status.IN_PROGRESS
    if ready_label.lower() in labels:
        return Status.READY
    return Status.BACKLOG


def owner_teams(info: ItemInfo, config: "Config") -> tuple[str, ...]:
    labels = {label.lower() for label in info.labels}
    return tuple(key for key in config.teams if config.team_label(key).lower() in labels)


def _target(link: LinkLike, holder: ItemRef) -> ItemRef:
    return ItemRef(holder.forge, link.repo or holder.repo, link.number)


def _connect(graph: DepGraph) -> None:
    for node in graph.nodes.values():
        if node.info is None:
            continue
        for source, links in ((TEXT, node.info.links), (FORGE, node.info.native_links)):
            for link in links:
                other = _target(link, node.ref)
                if other == node.ref or other not in graph.nodes:
                    continue
                if link.kind in ("parent", "sub_issue"):
                    graph.hierarchy.add((other, node.ref) if link.kind == "parent" else (node.ref, other))
                    continue
                edge = (node.ref, other) if link.kind == "depends_on" else (other, node.ref) if link.kind == "blocks" else None
                if edge is not None:
                    graph.edges.add(edge)
                    graph.sources.setdefault(edge, set()).add(source)


def _describe(graph: DepGraph, config: "Config") -> None:
    for node in graph.nodes.values():
        if node.info is not None:
            node.teams = owner_teams(node.info, config)
            node.status = item_status(node.info, config.labels.ready)
            node.explored = all(ref in graph.nodes for ref in neighbours(node.info))
    for node in graph.nodes.values():
        if node.info is None:
            continue
        if node.status is Status.DONE:
            node.blocked_by = ()
            continue
        blockers = tuple(ref for ref in graph.dependencies(node.ref) if _blocks(graph.nodes[ref], node))
        # more links could only add blockers: a known blocker settles it, its absence does not
        node.blocked_by = blockers if blockers or node.explored else None


def _blocks(dependency: Node, dependent: Node) -> bool:
    """An item not done, owned by a team the dependent item does not share. A deleted or unreachable
    item blocks nobody: it cannot be finished."""
    return (
        dependency.info is not None
        and dependency.status is not Status.DONE
        and not set(dependency.teams) <= set(dependent.teams)
    )


def _cycles(graph: DepGraph) -> list[tuple[ItemRef, ...]]:
    successors: dict[ItemRef, set[ItemRef]] = {ref: set() for ref in graph.nodes}
    for a, b in graph.edges:
        successors[a].add(b)
    reach = {ref: _reachable(ref, successors) for ref in graph.nodes}
    cycles, seen = [], set()
    for ref in sorted(graph.nodes):
        if ref in seen or ref not in reach[ref]:
            continue
        members = {other for other in reach[ref] if ref in reach[other]}
        seen |= members
        cycles.append(_walk_order(ref, members, successors))
    return cycles


def _reachable(start: ItemRef, successors: dict[ItemRef, set[ItemRef]]) -> set[ItemRef]:
    """Items reachable from ``start`` in one step or more (``start`` itself only through a cycle)."""
    found: set[ItemRef] = set()
    stack = list(successors[start])
    while stack:
        ref = stack.pop()
        if ref not in found:
            found.add(ref)
            stack.extend(successors[ref])
    return found


def _walk_order(start: ItemRef, members: set[ItemRef], successors: dict[ItemRef, set[ItemRef]]) -> tuple[ItemRef, ...]:
    """The members from ``start`` following edges while possible, then the rest in order."""
    order = [start]
    while nexts := sorted((successors[order[-1]] & members) - set(order)):
        order.append(nexts[0])
    return (*order, *sorted(members - set(order)))
