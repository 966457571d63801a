"""The board's data (``bot/app/board.py`` over the real SQLite store): a viewer who may read one
repository sees nothing of another, not its pull requests, not its items in the dependency table or
the figures, not its PR page; a closed pull request leaves the open set and an older verdict does
not bring it back; each item's rule says whether it came from the organisation or the repository."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.app.board import Board
from bot.board import Filters
from bot.checks import evaluate
from bot.config import default_config_text
from bot.history import ItemRecord
from bot.model import ItemRef
from bot.pull_record import closed_record, pull_key, pull_record, to_json
from bot.service.board_store import StoreBoard
from bot.service.history_store import StoreHistory
from bot.service.store_sqlite import SqliteStore
from bot.service.viewer import Viewer

from .builders import config_with, default_config, pr, review

NOW = datetime.now(timezone.utc)
CROSS = ["backend/src/a.rs", "frontend/src/App.svelte"]


def record_of(repo: str, number: int, config=None, files=CROSS, reviews=()) -> dict:
    config = config or default_config()
    snapshot = replace(pr(files=files, reviews=reviews), repo=repo, number=number, title=f"PR of {repo}",
                       created_at=NOW - timedelta(hours=5))
    verdict = evaluate(snapshot, config)
    from bot.checks.facts import Facts
    return pull_record("github", snapshot, verdict, config, Facts.of(snapshot, config), org=default_config(),
                       org_file="config/dod.yml", repo_file=None, evaluated_at=NOW)


def issue(repo: str, number: int, labels, depends_on=(), blocked_hours: float | None = None) -> ItemRecord:
    return ItemRecord(ItemRef("github", repo, number), False, f"Item {repo}#{number}", NOW - timedelta(days=2),
                      NOW - timedelta(days=1), frozenset(labels), depends_on=tuple(depends_on),
                      blocked_since=NOW - timedelta(hours=blocked_hours) if blocked_hours else None)


@pytest.fixture
async def store(tmp_path):
    s = SqliteStore(str(tmp_path / "bot.sqlite3"))
    yield s
    await s.close()


async def seeded(store) -> Board:
    records = StoreBoard(store)
    for repo, number in (("org/app", 1), ("org/secret", 2)):
        await records.keep_pull(pull_key("github", repo, number), NOW.timestamp(), to_json(record_of(repo, number)))
    await records.keep_org_config("github", "org", NOW.timestamp(), default_config_text())
    await StoreHistory(store).keep_items("github", "org", [
        issue("org/app", 10, ["team:infra", "ready"]),
        issue("org/secret", 11, ["team:backend", "blocked", "needs-refinement"],
              depends_on=[ItemRef("github", "org/app", 10)], blocked_hours=30),
        issue("org/app", 12, ["team:frontend", "blocked"], depends_on=[ItemRef("github", "org/app", 10)],
              blocked_hours=3),
    ])
    return Board(records, StoreHistory(store))


async def test_a_viewer_of_one_repository_sees_nothing_of_another(store):
    board = await seeded(store)
    amy = Viewer(where="github", login="amy", repos=frozenset({"org/app"}), expires=float("inf"))
    data = await board.data(amy.can_read, ("amy",), now=NOW)
    assert [(p["repo"], p["number"]) for p in data["pulls"]] == [("org/app", 1)]
    org = data["organisations"][0]
    assert [row["ref"]["number"] for row in org["dependencies"]] == [12]
    assert org["metrics"]["nexus"]["blocked"] == 1
    assert "org/secret" not in json.dumps(data)
    assert await board.pull("github", "org/secret", 2, amy.can_read) is None
    assert (await board.pull("github", "org/app", 1, amy.can_read))["number"] == 1
    on_forgejo = Viewer(where="default", login="amy", repos=frozenset({"org/app"}), expires=float("inf"))
    assert (await board.data(on_forgejo.can_read, ("f",), now=NOW))["pulls"] == []  # the same name elsewhere

    everything = await board.data(lambda where, repo: True, ("*",), now=NOW)
    assert {p["repo"] for p in everything["pulls"]} == {"org/app", "org/secret"}
    rows = everything["organisations"][0]["dependencies"]
    assert [row["ref"]["number"] for row in rows] == [11, 12]  # blocked first, the longest blocked first
    backlog = {row["team"]: row for row in everything["organisations"][0]["backlog"]}
    assert (backlog["infra"]["ready"], backlog["backend"]["needs_refinement"], backlog["frontend"]["unjudged"]) == (1, 1, 1)


async def test_filters_narrow_pull_requests_dependencies_and_backlog(store):
    board = await seeded(store)
    data = await board.data(lambda where, repo: True, ("*",), Filters(team="frontend"), now=NOW)
    assert [row["ref"]["number"] for row in data["organisations"][0]["dependencies"]] == [12]
    assert [row["team"] for row in data["organisations"][0]["backlog"]] == ["frontend"]
    assert [row["team"] for row in data["organisations"][0]["metrics"]["teams"]] == ["frontend"]
    assert len(data["pulls"]) == 2  # both touch Frontend
    data = await board.data(lambda where, repo: True, ("*",), Filters(repo="org/secret"), now=NOW)
    assert [p["repo"] for p in data["pulls"]] == ["org/secret"]
    assert data["organisations"][0]["metrics"]["nexus"]["blocked"] == 1  # that repository's figures


async def test_a_closed_pull_request_leaves_and_an_older_verdict_does_not_bring_it_back(store):
    board = await seeded(store)
    records = StoreBoard(store)
    key = pull_key("github", "org/app", 1)
    everyone = lambda where, repo: True  # noqa: E731
    await records.keep_pull(key, NOW.timestamp() + 10, to_json(closed_record("github", "org/app", 1, NOW)))
    await records.keep_pull(key, NOW.timestamp() + 5, to_json(record_of("org/app", 1)))  # read before the close
    assert [p["repo"] for p in (await board.data(everyone, ("*",), now=NOW))["pulls"]] == ["org/secret"]
    await records.keep_pull(key, NOW.timestamp() + 20, to_json(record_of("org/app", 1)))  # reopened
    assert len((await board.data(everyone, ("*",), now=NOW))["pulls"]) == 2


def test_each_rule_says_where_it_came_from():
    config = config_with("items:\n  - id: lint\n    help: Run make lint, then push.\n"
                         "  - id: api-spec\n    title: OpenAPI spec\n    category: documentation\n"
                         "    evidence: {kind: files, patterns: [openapi.yml]}\n")
    record = record_of("org/app", 3, config=config, reviews=[review("bob", "APPROVED")])
    source = {item["id"]: item["source"] for item in record["items"]}
    assert source["api-spec"] == "repository"
    assert source["lint"] == "organisation, changed by the repository"
    assert source["changelog"] == "organisation"
    reviews = next(item for item in record["items"] if item["id"] == "reviews")
    approvals = next(ev for ev in reviews["evidence"] if ev["kind"] == "approvals")
    assert approvals["approvers"] == ["bob"] and approvals["needed"] == 2
    assert record["reviews"]["missing_teams"] == ["backend", "frontend"]  # bob is in no configured team here


def test_times_on_the_board_are_shown_in_utc_and_say_so():
    from bot.service.board_web import when
    assert when("2026-12-03T12:47:31.5+00:00") == "2026-12-03 12:47 UTC"
    assert when("2026-12-03T14:47:00+02:00") == "2026-12-03 12:47 UTC"
    assert when("2026-12-03T12:47:00Z") == "2026-12-03 12:47 UTC"
    assert when(None) == "" and when("not a time") == "not a time"
