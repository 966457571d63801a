"""The dependency graph (bot/deps.py) walked over an in-memory store, and its rendering (golden files).

Regenerate the golden files with ``UPDATE_GOLDEN=1 python -m pytest tests/test_deps_graph.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.commands.deps import render_dependencies
from bot.config import default_config_text, load_config
from bot.checks.deps import DepGraph, ItemInfo, Status, build_graph, item_status
from bot.model import ItemRef, LabelChange

CONFIG = load_config(default_config_text())
GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Link:
    """What bot.checks.links.extract_links returns, reduced to what the graph reads."""

    kind: str
    repo: str | None
    number: int


def ref(number: int, repo: str = "org/api") -> ItemRef:
    return ItemRef("github", repo, number)


def item(number: int, title: str = "", *, repo: str = "org/api", team: str | None = None,
         depends: tuple = (), blocks: tuple = (), labels: tuple = (), **fields) -> ItemInfo:
    """``depends`` / ``blocks``: numbers in the same repository or (repo, number) pairs."""
    def link(kind: str, target) -> Link:
        return Link(kind, *target) if isinstance(target, tuple) else Link(kind, None, target)

    return ItemInfo(
        ref=ref(number, repo),
        title=title or f"Item {number}",
        labels=frozenset([*labels, *([f"team:{team}"] if team else [])]),
        links=tuple([*(link("depends_on", t) for t in depends), *(link("blocks", t) for t in blocks)]),
        **fields,
    )


class Store:
    """The fetch callback over a dict; records what was fetched."""

    def __init__(self, *items: ItemInfo) -> None:
        self.items = {i.ref: i for i in items}
        self.fetched: list[ItemRef] = []

    async def __call__(self, wanted: ItemRef) -> ItemInfo | None:
        self.fetched.append(wanted)
        return self.items.get(wanted)


async def graph_of(root: ItemRef, *items: ItemInfo, depth: int = 2) -> DepGraph:
    return await build_graph(root, Store(*items), CONFIG, depth=depth)


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.asyncio
async def test_own_depends_on_link() -> None:
    graph = await graph_of(ref(1), item(1, team="backend", depends=(2,)), item(2, team="infra"))
    assert graph.edges == {(ref(1), ref(2))}
    assert graph.dependencies(ref(1)) == [ref(2)]


@pytest.mark.asyncio
async def test_blocks_link_written_on_the_other_item_found_through_its_cross_reference() -> None:
    graph = await graph_of(ref(1), item(1, referenced_by=(ref(2),)), item(2, blocks=(1,)))
    assert graph.edges == {(ref(1), ref(2))}  # 2 blocks 1: 1 depends on 2


@pytest.mark.asyncio
async def test_depends_on_written_by_a_dependent_item() -> None:
    graph = await graph_of(ref(1), item(1, referenced_by=(ref(3),)), item(3, depends=(1,)))
    assert graph.edges == {(ref(3), ref(1))}


@pytest.mark.asyncio
async def test_same_edge_written_from_both_sides_is_one_edge() -> None:
    graph = await graph_of(ref(1), item(1, depends=(2,)), item(2, blocks=(1,)))
    assert graph.edges == {(ref(1), ref(2))}


@pytest.mark.asyncio
async def test_cross_repository_links_resolve_against_the_holder() -> None:
    web = "org/web"
    graph = await graph_of(
        ref(1),
        item(1, depends=((web, 5),)),
        item(5, repo=web, depends=(6,)),  # "#6" written in org/web means org/web#6
        item(6, repo=web),
    )
    assert graph.edges == {(ref(1), ref(5, web)), (ref(5, web), ref(6, web))}


@pytest.mark.asyncio
async def test_cycle_of_three_is_reported_once_and_walked_once() -> None:
    store = Store(item(1, depends=(2,)), item(2, depends=(3,)), item(3, depends=(1,)))
    graph = await build_graph(ref(1), store, CONFIG, depth=5)
    assert graph.cycles == [(ref(1), ref(2), ref(3))]
    assert graph.is_ring(graph.cycles[0])
    assert sorted(store.fetched) == [ref(1), ref(2), ref(3)]


@pytest.mark.asyncio
async def test_depth_limit_stops_the_walk() -> None:
    store = Store(item(1, depends=(2,)), item(2, depends=(3,)), item(3, depends=(4,)), item(4))
    graph = await build_graph(ref(1), store, CONFIG, depth=2)
    assert list(graph.nodes) == [ref(1), ref(2), ref(3)]
    assert ref(4) not in store.fetched
    assert graph.truncated
    assert graph.nodes[ref(3)].blocked is None  # its own dependency was not looked at


@pytest.mark.asyncio
async def test_item_limit_stops_the_walk() -> None:
    items = [item(1, depends=tuple(range(2, 12)))] + [item(n) for n in range(2, 12)]
    graph = await build_graph(ref(1), Store(*items), CONFIG, depth=3, max_items=5)
    assert len(graph.nodes) == 5
    assert graph.truncated


@pytest.mark.asyncio
async def test_deleted_item_is_shown_and_blocks_nobody() -> None:
    graph = await graph_of(ref(1), item(1, team="backend", depends=(99,)))
    assert graph.nodes[ref(99)].info is None
    assert graph.edges == {(ref(1), ref(99))}
    assert graph.nodes[ref(1)].blocked is False


BLOCKING = [
    ("open item of another team blocks", "infra", "open", True),
    ("open item of the same team does not", "backend", "open", False),
    ("closed item of another team does not", "infra", "closed", False),
    ("open item without an owner does not", None, "open", False),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("team, state, blocked", [c[1:] for c in BLOCKING], ids=[c[0] for c in BLOCKING])
async def test_blocked(team: str | None, state: str, blocked: bool) -> None:
    graph = await graph_of(ref(1), item(1, team="backend", depends=(2,)), item(2, team=team, state=state))
    assert graph.nodes[ref(1)].blocked is blocked
    assert graph.nodes[ref(1)].blocked_by == ((ref(2),) if blocked else ())


@pytest.mark.asyncio
async def test_blocked_label_converges() -> None:
    graph = await graph_of(
        ref(1),
        item(1, team="backend", depends=(2, 3)),
        item(2, team="infra"),  # blocks 1, which lacks the label
        item(3, team="backend", depends=(4,), labels=("blocked",)),  # labelled, but 4 is done
        item(4, team="infra", state="closed"),
        depth=3,
    )
    assert graph.label_changes() == [
        LabelChange(ref(1), add=frozenset({"blocked"})),
        LabelChange(ref(3), remove=frozenset({"blocked"})),
    ]


@pytest.mark.asyncio
async def test_a_known_blocker_beyond_nothing_settles_blocked_even_at_the_depth_limit() -> None:
    graph = await graph_of(
        ref(1), item(1, depends=(2,)), item(2, team="backend", depends=(3, 4)), item(3, team="infra"), depth=1,
    )
    assert graph.nodes[ref(2)].blocked is None  # its links were not followed at depth 1
    graph = await graph_of(
        ref(2), item(2, team="backend", depends=(3,), referenced_by=(ref(9),)), item(3, team="infra"), depth=1,
    )
    assert graph.nodes[ref(2)].blocked is True  # 9 was not read, but 3 already blocks it


STATUSES = [
    ("closed is done", dict(state="closed"), Status.DONE),
    ("merged pull request is done", dict(is_pull_request=True, merged=True, state="closed"), Status.DONE),
    ("open linked pull request is in review", dict(open_pull_requests=(ref(50),)), Status.IN_REVIEW),
    ("an open pull request is in review", dict(is_pull_request=True), Status.IN_REVIEW),
    ("in progress label", dict(labels=frozenset({"In progress"})), Status.IN_PROGRESS),
    ("assignee means in progress", dict(assignees=("bob",)), Status.IN_PROGRESS),
    ("ready label", dict(labels=frozenset({"ready"})), Status.READY),
    ("nothing is backlog", {}, Status.BACKLOG),
]


@pytest.mark.parametrize("fields, status", [c[1:] for c in STATUSES], ids=[c[0] for c in STATUSES])
def test_status(fields: dict, status: Status) -> None:
    assert item_status(ItemInfo(ref=ref(1), title="x", **fields), "ready") is status


def expense_approval_items() -> list[ItemInfo]:
    """The NIT's example table (NEXUS.md), with titles that need escaping."""
    return [
        item(12, "Approval e-mail", team="backend", depends=(11, ("org/infra", 3)), referenced_by=(ref(14),),
             open_pull_requests=(ref(40),), url="https://github.com/org/api/issues/12"),
        item(11, "POST /expenses/:id/approve", team="backend", state="closed"),
        item(3, 'Mail quota "raise" [SES] | @org/infra <script>', repo="org/infra", team="infra",
             assignees=("carol",)),
        item(14, "Approval UI", repo="org/api", team="frontend", depends=(11,), blocks=(12,), labels=("ready",)),
    ]


@pytest.mark.asyncio
async def test_golden_dependency_table_and_diagram() -> None:
    graph = await graph_of(ref(12), *expense_approval_items())
    assert_golden("deps_expense_approval.md", render_dependencies(graph, CONFIG))


@pytest.mark.asyncio
async def test_golden_cycle_deleted_and_depth_limit() -> None:
    graph = await graph_of(
        ref(1),
        item(1, "Export", team="backend", depends=(2, 404)),
        item(2, "Import", team="frontend", depends=(3,)),
        item(3, "Schema", team="ia", depends=(1, 4), labels=("blocked",)),
        item(4, "Beyond the depth"),
    )
    assert_golden("deps_cycle_deleted_truncated.md", render_dependencies(graph, CONFIG))
