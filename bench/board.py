"""The Nexus board's pages over an organisation's year: 9 teams, 300 repositories, 2,000 open pull
requests (each judged by the real rules, its record as the bot keeps it) and the year of history of
``bench/metrics.py`` (20,000 items, their pull requests, ~100,000 pieces of integration evidence),
all in a real SQLite store. Measures what a request to ``/board`` (HTML), ``/board.json`` and one
pull request's page costs the bot, from the store's read to the rendered bytes (the handlers' own
work; no HTTP): the first request (the history read and decoded, the figures computed: the board
does it when it starts, ``Board.warm``), p50 and max over 20 runs with the figures cached as the
board caches them (30 s); the same past the 30 s, when a request is answered from the figures kept
while they are refreshed in the background (timed apart: the refresh, the history read again with
unchanged records not decoded again), and the peak RSS.
Target: under 200 ms per page. Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson

from bot.app.board import Board
from bot.board import Filters
from bot.checks import evaluate
from bot.checks.facts import Facts
from bot.config import default_config_text, load_config
from bot.model import ChangedFile, CheckResult, PullRequest, Review, ReviewState
from bot.pull_record import pull_key, pull_record, to_json
from bot.service.board_store import StoreBoard
from bot.service.board_web import PAGE_ROWS, render
from bot.service.history_store import StoreHistory
from bot.service.store_sqlite import SqliteStore

from .metrics import NOW, REPOSITORIES, TEAMS, year

OPEN_PULLS = 2_000
REPEATS = 20
PATHS = {"backend": "backend/src/", "frontend": "frontend/src/", "infra": "infra/", "ia": "mcp/"}


def organisation_source() -> tuple[str, str]:
    """One organisation file with the nine teams (the board keeps the organisation's file as it is)."""
    filename, text = default_config_text()
    extra = "".join(f"  {key}:\n    paths: [\"{key}/\"]\n" for key in TEAMS[4:])
    return "org/.github/nexus.yml", text.replace("\nteams:\n", "\nteams:\n" + extra, 1)


def open_pulls(config, org_file: str, rnd: random.Random) -> list[tuple[str, float, str]]:
    records = []
    for n in range(OPEN_PULLS):
        repo = f"org/repo-{n % REPOSITORIES:03d}"
        teams = rnd.sample(TEAMS, 2) if rnd.random() < 0.3 else [rnd.choice(TEAMS)]
        files = [ChangedFile(PATHS.get(t, f"{t}/") + f"f{k}.rs") for t in teams for k in range(rnd.randint(1, 8))]
        if rnd.random() < 0.5:
            files.append(ChangedFile("CHANGELOG.md"))
        checks = [CheckResult("ci / unit tests", "completed", rnd.choice(("success", "failure")), id=1),
                  CheckResult("lint", "completed", "success", id=2),
                  CheckResult("coverage backend", "completed", "success", text=f"coverage {rnd.uniform(80, 99):.1f} %", id=3)]
        reviews = [Review(f"user{rnd.randint(1, 50)}", ReviewState.APPROVED, "head") for _ in range(rnd.randint(0, 2))]
        pr = PullRequest(forge="github", repo=repo, number=10_000 + n, title=f"Change {n} of {', '.join(teams)}",
                         body="Closes #1\n\n## Rollback plan\nRevert.", author=f"user{rnd.randint(1, 50)}",
                         base_ref="main", head_ref=f"b{n}", head_sha="head", files=tuple(files), checks=tuple(checks),
                         reviews=tuple(reviews), created_at=NOW - timedelta(hours=rnd.uniform(1, 400)),
                         url=f"https://github.com/{repo}/pull/{10_000 + n}")
        facts = Facts.of(pr, config)
        record = pull_record("github", pr, evaluate(pr, config), config, facts, org=config, org_file=org_file,
                             repo_file=None, evaluated_at=NOW)
        records.append((pull_key("github", repo, pr.number), NOW.timestamp(), to_json(record)))
    return records


async def main_async() -> dict:
    source = organisation_source()
    config = load_config(source)
    rnd = random.Random(15)
    history = year()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "bot.sqlite3"))
        started = time.perf_counter()
        history_store, records = StoreHistory(store, keep_decoded=True), StoreBoard(store)
        items = list(history.items)
        for k in range(0, len(items), 5_000):
            await history_store.keep_items("github", "org", items[k:k + 5_000])
        await history_store.keep_evidence("github", "org", list(history.evidence))
        pulls = open_pulls(config, source[0], rnd)
        for k in range(0, len(pulls), 500):
            await store.keep_records("board:pulls", pulls[k:k + 500])
        await records.keep_org_config("github", "org", NOW.timestamp(), source)
        seeded_s = time.perf_counter() - started
        everyone = lambda where, repo: True  # noqa: E731  the read-only token
        pull = pulls[len(pulls) // 2][0]
        repo, number = pull.split(":", 1)[1].split("#")

        async def html(board: Board, filters: Filters = Filters()) -> int:
            data = await board.data(everyone, ("*",), filters, now=NOW)
            shown = data["pulls"][:PAGE_ROWS]  # as the handler renders the first page
            return len(render("board.html.j2", data["language"], board=data, viewer=_Token(), shown=shown, page=1,
                              pages=-(-len(data["pulls"]) // PAGE_ROWS), first=1, last=len(shown), previous=None,
                              next="/board?page=2"))

        async def as_json(board: Board) -> int:
            return len(orjson.dumps(await board.data(everyone, ("*",), now=NOW)))

        async def page(board: Board) -> int:
            record = await board.pull("github", repo, int(number), everyone)
            return len(render("pull.html.j2", record["language"], pr=record, viewer=_Token()))

        cached = Board(records, history_store)
        first = time.perf_counter()
        size_html = await html(cached)
        first_ms = (time.perf_counter() - first) * 1000
        sizes = {"board_html_kb": round(size_html / 1024), "board_json_kb": round(await as_json(cached) / 1024),
                 "pull_html_kb": round(await page(cached) / 1024)}
        stale = Board(records, history_store, history_seconds=0)  # every request finds its figures stale
        await html(stale)
        await as_json(stale)
        refresh_ms: list[float] = []

        async def refreshed() -> None:  # the background refresh a request started, timed apart
            t = time.perf_counter()
            while running := [*stale._histories._running.values(), *stale._sections._running.values()]:
                await asyncio.gather(*running)  # a figures' refresh may start the history's
            refresh_ms.append((time.perf_counter() - t) * 1000)

        async def measure(fn, *args, after=None) -> dict:
            times = []
            for _ in range(REPEATS):
                t = time.perf_counter()
                await fn(*args)
                times.append((time.perf_counter() - t) * 1000)
                if after:
                    await after()
            return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "repeats": REPEATS}

        await refreshed()  # what the priming requests started
        refresh_ms.clear()
        started = time.perf_counter()
        await history_store.load("github", "org")
        reload_ms = (time.perf_counter() - started) * 1000

        result = {
            "teams": len(config.teams), "repositories": REPOSITORIES, "open_pulls": OPEN_PULLS,
            "history_items": len(history.items), "evidence": len(history.evidence), "seeded_s": round(seeded_s, 1),
            **sizes, "first_board_ms": round(first_ms, 1),
            "board_html": await measure(html, cached),
            "board_json": await measure(as_json, cached),
            "board_html_team_filter": await measure(html, cached, Filters(team="backend")),
            "pull_page": await measure(page, cached),
            "board_html_stale": await measure(html, stale, after=refreshed),
            "board_json_stale": await measure(as_json, stale, after=refreshed),
            "history_reload_ms": round(reload_ms, 1),
            "background_refresh_ms": {"p50": round(statistics.median(refresh_ms), 1), "max": round(max(refresh_ms), 1)},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        await store.close()
    return result


class _Token:
    everything, login, where = True, "token", "*"


def main() -> dict:
    r = asyncio.run(main_async())
    print(f"{r['open_pulls']:,} open pull requests, {r['history_items']:,} history records, {r['evidence']:,} pieces "
          f"of evidence, {r['teams']} teams, {r['repositories']} repositories (seeded in {r['seeded_s']} s)")
    print(f"sizes: /board {r['board_html_kb']} KB, /board.json {r['board_json_kb']} KB, a PR page {r['pull_html_kb']} KB;"
          f" first /board (reads the history) {r['first_board_ms']} ms")
    for key, what in (("board_html", "/board"), ("board_json", "/board.json"),
                      ("board_html_team_filter", "/board?team=backend"), ("pull_page", "a PR's page"),
                      ("board_html_stale", "/board past the 30 s (figures served while refreshed)"),
                      ("board_json_stale", "/board.json, the same")):
        print(f"{what}: p50 {r[key]['p50_ms']} ms, max {r[key]['max_ms']} ms over {r[key]['repeats']} runs")
    print(f"the history read again (unchanged records not decoded): {r['history_reload_ms']} ms; a background "
          f"refresh: p50 {r['background_refresh_ms']['p50']} ms, max {r['background_refresh_ms']['max']} ms")
    print(f"peak RSS {r['peak_rss_mb']} MB")
    return r


if __name__ == "__main__":
    print(json.dumps(main()))
