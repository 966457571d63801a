"""``/nexus deps [depth]``: the sprint dependency table of this item, and a Mermaid diagram of it.

The graph comes from ``bot/checks/deps.py`` (links written in text and recorded by the forge, in both
directions, transitive up to ``depth``); the answer is the NIT's table (| Backlog item | Owner team |
Depends on | Status | Blocked? |), each dependency marked with where it was seen (forge, text),
the sub-issues, and a ``graph LR`` diagram. The ``blocked`` label changes the graph calls for are handed to the worker as
``Outcome.label_changes`` (they may concern other items and repositories).
"""

from __future__ import annotations

import re

from ..config import Config
from ..checks.deps import DEFAULT_DEPTH, FORGE, MAX_DEPTH, DepGraph, Node, Status
from ..model import ItemRef
from ..msg import Msg
from .context import CommandContext
from .parser import Invocation
from .registry import REGISTRY, Command, Outcome, refused
from .reply import listing, render

GRAMMAR = re.compile(r"(?:\d{1,3}|(?i:sprint))?")  # an optional depth, or "sprint"
STATUS_TEXT = {  # the Status column, in the reader's language
    Status.BACKLOG: Msg("Backlog"),
    Status.READY: Msg("Ready"),
    Status.IN_PROGRESS: Msg("In progress"),
    Status.IN_REVIEW: Msg("In review"),
    Status.DONE: Msg("Done"),
}
SOURCE_TEXT = {"forge": Msg("forge"), "text": Msg("text")}  # where a dependency was seen


async def handle(ctx: CommandContext, invocation: Invocation) -> Outcome:
    if invocation.args and invocation.args[0].lower() == "sprint":
        from . import deps_sprint  # here, not at the top: deps_sprint reads this module's STATUS_TEXT

        return await deps_sprint.answer(ctx)  # the sprint's cross-team table, from the recorded history
    depth = int(invocation.args[0]) if invocation.args else DEFAULT_DEPTH
    if not 1 <= depth <= MAX_DEPTH:
        return refused(Msg("The depth is a number of links, from 1 to {most}.", most=MAX_DEPTH))
    graph = await ctx.dependency_graph(depth)
    message = render_dependencies(graph, ctx.config, ctx.config.lang)
    return Outcome(ok=True, message=message, label_changes=tuple(graph.label_changes()))


def render_dependencies(graph: DepGraph, config: Config, language: str = "en") -> str:
    home = graph.root.repo
    changes = graph.label_changes()
    ids = {ref: f"n{i}" for i, ref in enumerate(graph.nodes, start=1)}
    return render(
        "deps.md.j2",
        language,
        root=graph.root.short(home),
        rows=[_row(node, graph, config, ids[node.ref]) for node in graph.nodes.values()],
        edges=[(ids[a], ids[b]) for a, b in sorted(graph.edges)],
        hierarchy=[(ids[a], ids[b]) for a, b in sorted(graph.hierarchy)],
        parents=[{"ref": ref.short(home), "parts": [r.short(home) for r in graph.sub_issues(ref)]}
                 for ref in graph.nodes if graph.sub_issues(ref)],
        sources_shown=any(FORGE in found for found in graph.sources.values()),  # text alone needs no marks
        cycles=[_cycle(cycle, graph) for cycle in graph.cycles],
        truncated=graph.truncated,
        depth=graph.depth,
        max_depth=MAX_DEPTH,
        prefix=config.command_prefix,
        blocked_label=graph.blocked_label,
        labelled=[c.ref.short(home) for c in changes if c.add],
        unlabelled=[c.ref.short(home) for c in changes if c.remove],
    )


def _row(node: Node, graph: DepGraph, config: Config, node_id: str) -> dict[str, object]:
    home = graph.root.repo
    info = node.info
    return {
        "id": node_id,
        "ref": node.ref.short(home),
        "is_root": node.ref == graph.root,
        "url": info.url if info else "",
        "title": info.title if info else Msg("(deleted or out of reach)"),
        "teams": ", ".join(config.team_name(key) for key in node.teams) or "—",
        "depends_on": [{"ref": ref.short(home),
                        "sources": [SOURCE_TEXT.get(s, s) for s in sorted(graph.sources.get((node.ref, ref), ()))]}
                       for ref in graph.dependencies(node.ref)],
        "status": STATUS_TEXT.get(node.status, node.status.value) if node.status else Msg("Unknown"),
        "blocked": _blocked(node, graph, config),
        "style": _style(node),
    }


def _style(node: Node) -> str:
    if node.info is None:
        return "unreachable"
    if node.blocked:
        return "blocked"
    return "done" if node.status is Status.DONE else ""


def _blocked(node: Node, graph: DepGraph, config: Config) -> str:
    if node.blocked_by is None:
        return Msg("Unknown")
    if not node.blocked_by:
        return Msg("No")
    waits = []
    for ref in node.blocked_by:
        teams = listing(config.team_name(key) for key in graph.nodes[ref].teams)
        waits.append(f"{ref.short(graph.root.repo)} ({teams})")
    return Msg("Yes: waits for {items}", items=", ".join(waits))


def _cycle(cycle: tuple[ItemRef, ...], graph: DepGraph) -> str:
    refs = [ref.short(graph.root.repo) for ref in cycle]
    if graph.is_ring(cycle):
        return " → ".join([*refs, refs[0]])
    return Msg("{items} depend on one another", items=", ".join(refs))


REGISTRY.add(
    Command(
        name="deps",
        usage="[depth]",
        help=Msg("Show the dependency table of this item, {depth} links deep by default (at most {most}). "
                 "With `sprint`: the cross-team dependencies of the current sprint.",
                 depth=DEFAULT_DEPTH, most=MAX_DEPTH),
        handler=handle,
        grammar=GRAMMAR,
        aliases=("dependencies",),
    )
)
