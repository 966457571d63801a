"""Soak: 5,000 signed webhooks at a steady 500/s against one bot process with a fake GitHub, once on
the SQLite file and once on a redis-server (AOF everysec); NEXUS_SOAK_STORES picks them. The write
budget is off (WRITES_PER_MINUTE=0): 10 s of this would be far more than GitHub lets one installation
write in a minute, and what is measured here is the processing (bench/orgday measures the pacing).

Reports accepted/s, p50/p95/p99 time to accept (as the sender saw it, and inside the bot), time to
finish all work, lost events (accepted but never processed, or a PR without its check run), the
bot's own processing time per batch (forge latency excluded) and its peak RSS.
Targets: 0 lost, p99 accept under 10 ms with the durable queue, own processing p95 under 100 ms,
peak RSS under 120 MB.

The traffic is a realistic mix over 250 pull requests: each is opened, pushed, gets CI results
(check runs completing) and reviews, and is labelled; deliveries are spread evenly in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.process import BotProcess  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

REPO = "org/app"
JOBS = ["tests", "lint", "unit-tests", "coverage / backend", "security audit", "deploy staging (smoke)"]


def plan(fake: FakeGitHub, total: int, prs: int) -> list:
    """The deliveries to send, as (setup, event, action, number, overrides) in order."""
    steps = []
    per_pr = total // prs
    for n in range(1, prs + 1):
        files = ["backend/src/a.rs", "frontend/src/b.svelte"] if n % 3 == 0 else ["backend/src/a.rs", "CHANGELOG.md"]
        fake.add_pr(REPO, n, title=f"feat: change {n}", author="alice", files=files, head_sha=f"{n:040x}")
        seq = [("pull_request", "opened", {})]
        while len(seq) < per_pr:
            kind = random.choice(["check", "check", "check", "review", "label", "push"])
            seq.append((kind, None, {}))
        steps.append((n, seq[:per_pr]))
    order = []
    cursors = {n: 0 for n, _ in steps}
    pending = dict(steps)
    while pending:  # interleave the PRs, as an organisation's traffic is
        for n in list(pending):
            seq = pending[n]
            order.append((n, seq[cursors[n]]))
            cursors[n] += 1
            if cursors[n] == len(seq):
                del pending[n]
    return order[:total]


def delivery(fake: FakeGitHub, number: int, step) -> tuple[dict, bytes]:
    kind, action, _ = step
    sha = fake._pull(REPO, number).head_sha
    if kind == "pull_request":
        return fake.webhook("pull_request", action, REPO, number)
    if kind == "check":
        job = random.choice(JOBS)
        run = fake.add_check_run(REPO, sha, job, summary="Coverage: 92.0%" if "coverage" in job else "")
        return fake.webhook("check_run", "completed", REPO, number, check_run_id=run)
    if kind == "review":
        fake.add_review(REPO, number, random.choice(["bob", "carol", "dana"]), "APPROVED")
        return fake.webhook("pull_request_review", "submitted", REPO, number)
    if kind == "label":
        label = random.choice(["P1", "feature", "milestone:2", "skip-changelog"])
        fake.set_labels(REPO, number, sorted(set(fake.issues[(REPO, number)].labels) | {label}))
        return fake.webhook("pull_request", "labeled", REPO, number, label=label)
    new_sha = f"{random.getrandbits(160):040x}"
    fake.push(REPO, number, new_sha)
    return fake.webhook("pull_request", "synchronize", REPO, number)


def rss_now_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(total: int = 5000, rate: float = 500.0, prs: int = 250, redis: bool = False) -> dict:
    random.seed(7)
    fake = FakeGitHub(strict=False)  # responses are checked against GitHub's schema in the tests, not here
    await fake.start()
    fake.set_team("org", "backend", ["bob", "dana"])
    fake.set_team("org", "frontend", ["carol"])
    workdir = Path(tempfile.mkdtemp(prefix="nexus-soak-"))
    server = await RedisServer(workdir / "redis", fsync="everysec").start() if redis else None
    bot = BotProcess(workdir, github=fake, LOG_LEVEL="warn", COALESCE_SECONDS="2", RETRY_BASE_SECONDS="1",
                     RETRY_MAX_SECONDS="30", WRITES_PER_MINUTE="0", **({"REDIS_URL": server.url} if server else {}))
    await bot.start()
    order = plan(fake, total, prs)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted: set[str] = set()

    async def send(headers, body):
        started = time.perf_counter()
        status, _ = await bot.post("/webhooks/github", headers, body)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 202:
            accepted.add(headers["X-GitHub-Delivery"])

    rss_samples: list[tuple[float, float]] = []

    async def sample_rss():
        while True:
            rss_samples.append((round(time.perf_counter() - started, 1), rss_now_mb(bot.proc.pid)))
            await asyncio.sleep(1.0)

    # every delivery is built (and its change made on the fake) before the clock starts, so the
    # sender only posts: the bot reads the fake's latest state, as it would read GitHub's
    prepared = [delivery(fake, number, step) for number, step in order]
    tasks = []
    started = time.perf_counter()
    sampler = asyncio.create_task(sample_rss())
    for i, (headers, body) in enumerate(prepared):
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(send(headers, body)))
    await asyncio.gather(*tasks)
    sent_in = time.perf_counter() - started
    await bot.settle(timeout=600)
    finished_in = time.perf_counter() - started
    _, metrics = await bot.get("/metrics.json")
    peak = rss_peak_mb(bot.proc.pid)
    sampler.cancel()
    await bot.kill(15)
    states = server.deliveries() if server else bot.deliveries()
    unprocessed = [d for d in accepted if states.get(d, ("missing",))[0] not in ("done",)]
    without_check = [n for n in range(1, prs + 1) if not fake.check_runs_for(REPO, fake._pull(REPO, n).head_sha, "Nexus DoD")]
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)  # noqa: E731
    result = {
        "sent": len(order), "statuses": statuses, "send_seconds": round(sent_in, 2),
        "accepted_per_s": round(len(accepted) / sent_in, 1),
        "accept_ms_client": {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99)},
        "accept_ms_server": {k: metrics["accept"].get(k) for k in ("p50_ms", "p95_ms", "p99_ms")},
        "finish_all_work_s": round(finished_in, 2),
        "lost": len(unprocessed), "prs_without_check_run": len(without_check),
        "evaluations": metrics["work"].get("evaluations"),
        "own_processing_ms": {k: metrics["work"].get(k) for k in ("own_ms_p50", "own_ms_p95", "own_ms_p99")},
        "peak_rss_mb": round(peak, 1),
        "rss_mb_over_time": rss_samples,
        "forge_requests": len(fake.requests), "forge_charged": fake.charged,
    }
    await bot.close()
    if server:
        await server.stop()
    await fake.stop()
    result["store"] = "redis" if redis else "sqlite"
    return result


def main(total: int = 5000) -> list[dict]:
    stores = os.environ.get("NEXUS_SOAK_STORES", "sqlite redis").split()
    return [report(asyncio.run(soak(total, redis=store == "redis"))) for store in stores]


def report(r: dict) -> dict:
    print(f"== {r['store']}")
    print(f"sent {r['sent']} in {r['send_seconds']} s ({r['accepted_per_s']} accepted/s), statuses {r['statuses']}")
    print(f"accept (sender) p50 {r['accept_ms_client']['p50']} ms, p95 {r['accept_ms_client']['p95']} ms, "
          f"p99 {r['accept_ms_client']['p99']} ms; inside the bot {r['accept_ms_server']}")
    print(f"all work finished after {r['finish_all_work_s']} s; lost {r['lost']}; "
          f"PRs without a check run {r['prs_without_check_run']}; {r['evaluations']} evaluations")
    print(f"own processing per batch {r['own_processing_ms']}; peak RSS {r['peak_rss_mb']} MB")
    return r


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)))
