"""The Nexus metrics (pure, no I/O) over a year of an organisation's history: 9 teams, 300
repositories, 20,000 backlog items, their pull requests and integration evidence (CI checks on the
base branch, deployments to staging). Measures ``/nexus metrics`` (the current sprint with its
six-sprint velocity chart) and ``/nexus deps sprint`` (p50 and max over repeats), and the peak RSS.
Target: well under a second. Not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import time
from datetime import datetime, timedelta, timezone

from bot.checks.nexus_metrics import nexus_metrics, sprint_dependencies
from bot.config import default_config_text, load_config
from bot.history import IntegrationEvidence, ItemRecord, NexusHistory
from bot.model import ItemRef

TEAMS = ["backend", "frontend", "infra", "ia", "data", "mobile", "search", "payments", "platform"]
REPOSITORIES = 300
ITEMS = 20_000
START = datetime(2026, 1, 5, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 3, 10, tzinfo=timezone.utc)  # sprint 24
FIBONACCI = (1, 2, 3, 5, 8, 13, 21)
REPEATS = 20


def organisation():
    extra = "".join(f"  {key}: {{}}\n" for key in TEAMS[4:])
    return load_config(default_config_text(), ("bench/nexus.yml", "teams:\n" + extra))


def year(seed: int = 14) -> NexusHistory:
    rnd = random.Random(seed)
    span = (NOW - START).total_seconds()
    repos = [f"org/repo-{n:03d}" for n in range(REPOSITORIES)]
    items: list[ItemRecord] = []
    evidence: list[IntegrationEvidence] = []
    refs: list[ItemRef] = []
    for n in range(ITEMS):
        repo = repos[n % REPOSITORIES]
        ref = ItemRef("github", repo, n + 1)
        teams = rnd.sample(TEAMS, 2) if rnd.random() < 0.15 else [rnd.choice(TEAMS)]
        points = rnd.choice(FIBONACCI)
        split = ((teams[0], points - points // 2), (teams[1], points // 2)) if len(teams) == 2 and rnd.random() < 0.5 else ()
        labels = {f"team:{t}" for t in teams} | {f"points:{points}"}
        if rnd.random() < 0.15:
            labels.add("bug")
            if len(teams) == 1 and rnd.random() < 0.3:
                labels.add("nexus")
        opened = START + timedelta(seconds=rnd.random() * span)
        closed = opened + timedelta(days=rnd.uniform(1, 30))
        if closed > NOW or rnd.random() < 0.1:
            closed = None
        blocked = opened + timedelta(hours=rnd.uniform(1, 72)) if closed is None and rnd.random() < 0.05 else None
        if blocked is not None and blocked > NOW:
            blocked = None
        depends = (rnd.choice(refs),) if refs and rnd.random() < 0.1 else ()
        if blocked:
            labels.add("blocked")
        items.append(ItemRecord(ref, False, f"Item {n + 1}", opened, closed or opened, frozenset(labels),
                                closed_at=closed, completed=closed is not None and rnd.random() < 0.92,
                                points=points, team_points=split, blocked_since=blocked, depends_on=depends))
        refs.append(ref)
        if closed is None and rnd.random() < 0.7:
            continue
        merged = (closed or NOW) - timedelta(hours=rnd.uniform(0.5, 48))
        if merged <= opened:
            continue
        pr = ItemRef("github", repo, ITEMS + n + 1)
        items.append(ItemRecord(pr, True, f"Implement item {n + 1}", opened, merged, frozenset(f"team:{t}" for t in teams),
                                closed_at=merged, merged_at=merged, base="main", merge_sha=f"{n:040x}",
                                teams=tuple(teams), closes=(ref,)))
        evidence.append(IntegrationEvidence(repo, f"{n:040x}", "ci / unit tests", merged + timedelta(minutes=12),
                                            branch="main"))
        if rnd.random() < 0.6:
            evidence.append(IntegrationEvidence(repo, f"{n:040x}", "deploy staging (smoke)",
                                                merged + timedelta(hours=rnd.uniform(0.2, 60)), branch="main"))
    for repo in repos:  # a nightly deployment of main to staging, most nights
        day = START
        while day < NOW:
            if rnd.random() < 0.7:
                evidence.append(IntegrationEvidence(repo, "nightly", "deployment", day + timedelta(hours=2),
                                                    branch=rnd.choice(("main", None)), environment="staging"))
            day += timedelta(days=1)
    return NexusHistory(NOW, tuple(items), tuple(evidence))


def timed(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "repeats": repeats}


def main() -> dict:
    config = organisation()
    started = time.perf_counter()
    history = year()
    built_s = time.perf_counter() - started
    rss_history = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    metrics = nexus_metrics(history, config)
    _, rows = sprint_dependencies(history, config)
    result = {
        "teams": len(config.teams), "repositories": REPOSITORIES,
        "items": sum(1 for r in history.items if not r.is_pull_request),
        "pull_requests": sum(1 for r in history.items if r.is_pull_request), "evidence": len(history.evidence),
        "sprint": metrics.sprint.number, "chart_sprints": len(metrics.chart), "alarms": len(metrics.alarms),
        "dependency_rows": len(rows), "history_built_s": round(built_s, 1),
        "metrics": timed(lambda: nexus_metrics(history, config), REPEATS),
        "past_sprint": timed(lambda: nexus_metrics(history, config, 12), REPEATS),
        "deps_sprint": timed(lambda: sprint_dependencies(history, config), REPEATS),
        "rss_after_history_mb": round(rss_history, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    r = result
    print(f"history: {r['items']:,} items, {r['pull_requests']:,} pull requests, {r['evidence']:,} pieces of evidence, "
          f"{r['teams']} teams, {r['repositories']} repositories (built in {r['history_built_s']} s)")
    for key, what in (("metrics", f"/nexus metrics (sprint {r['sprint']}, {r['chart_sprints']}-sprint chart)"),
                      ("past_sprint", "/nexus metrics sprint 12"), ("deps_sprint", "/nexus deps sprint")):
        print(f"{what}: p50 {r[key]['p50_ms']} ms, max {r[key]['max_ms']} ms over {r[key]['repeats']} runs")
    print(f"peak RSS {r['peak_rss_mb']} MB ({r['rss_after_history_mb']} MB once the history is built)")
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
