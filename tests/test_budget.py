"""The rate-limit budget's hold: evaluations wait for the reset when the core quota is nearly spent;
commands keep part of the reserve; the search API's own small quota holds nothing."""

from __future__ import annotations

import time

import pytest_asyncio

from bot.service.budget import Budget
from bot.service.metrics import Metrics
from bot.service.store_sqlite import SqliteStore


@pytest_asyncio.fixture
async def budget(tmp_path):
    store = SqliteStore(str(tmp_path / "bot.sqlite3"))
    yield Budget(store, Metrics())
    await store.close()


def headers(remaining: int, limit: int, reset: float, resource: str | None = "core") -> dict[str, str]:
    h = {"x-ratelimit-remaining": str(remaining), "x-ratelimit-limit": str(limit), "x-ratelimit-reset": str(int(reset))}
    if resource:
        h["x-ratelimit-resource"] = resource
    return h


async def test_a_nearly_spent_core_quota_holds_evaluations_until_its_reset_and_commands_a_little_less(budget):
    reset = time.time() + 600
    await budget.after("github", "1", "GET", "/repos/{owner}/{repo}/pulls/{number}", 200, headers(150, 5000, reset))
    assert 590 < budget.hold("github", "1") <= 600
    assert budget.hold("github", "1", urgent=True) == 0  # a command may still spend the last part
    assert budget.hold("github", "2") == 0  # another installation
    await budget.after("github", "1", "GET", "/x", 200, headers(40, 5000, reset))
    assert budget.hold("github", "1", urgent=True) > 0


async def test_the_search_apis_own_quota_holds_nothing(budget):
    reset = time.time() + 50
    await budget.after("github", "1", "GET", "/search/issues", 200, headers(3, 30, reset, "search"))
    assert budget.hold("github", "1") == 0 and not budget.low("github", "1")
    await budget.after("github", "1", "GET", "/x", 200, headers(4000, 5000, reset, None))  # no resource: core
    assert budget.quota["github:1"][0] == 4000


async def test_a_window_that_has_reset_holds_nothing(budget):
    await budget.after("github", "1", "GET", "/x", 200, headers(0, 5000, time.time() - 1))
    assert budget.hold("github", "1") == 0
