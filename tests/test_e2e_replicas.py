"""Several replicas on one real Redis (``redis-server`` on a free port, AOF on): two ``nexus-bot serve``
processes behind no load balancer but this test, which sends each delivery to one of them.

Killed with ``kill -9``, the same delivery sent to both, a burst spread over both, Redis stopped and
restarted: every accepted delivery is done exactly once, one evaluation at a time per pull request.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import datetime

import pytest_asyncio

from bot.markers import read_verdict
from tests.process import BotProcess
from tests.redis_server import RedisServer
from tests.test_faults import (assert_no_secret, github,  # noqa: F401 - the fixture
                                check_run_posts, deliver_all, delivery_id, dod_runs,
                               open_prs, until)

REPO = "org/app"


@pytest_asyncio.fixture
async def replicas(tmp_path, github, redis_server):
    """replicas(n, **env) -> n BotProcesses sharing ``redis_server``; stopped and checked for secrets."""
    started: list[BotProcess] = []

    async def start(n: int = 2, **env) -> list[BotProcess]:
        env = {"LEASE_SECONDS": 2, "WORKERS": 2, "COALESCE_SECONDS": 0.05, "LOG_FORMAT": "json", **env}
        bots = [BotProcess(tmp_path / f"replica{len(started) + i}", github=github, REDIS_URL=redis_server.url, **env)
                for i in range(n)]
        started.extend(bots)
        return list(await asyncio.gather(*(b.start() for b in bots)))

    yield start
    for bot in started:
        await bot.close()
    for bot in started:
        assert_no_secret(bot.log(), github)


def audit(bot: BotProcess) -> list[dict]:
    """The audit objects of a LOG_FORMAT=json process (every line of its output parses)."""
    lines = []
    for line in bot.log().splitlines():
        if line.startswith("---- start"):
            continue
        record = json.loads(line)
        if record["logger"] == "nexus.audit":
            lines.append(record)
    return lines


async def settle(bot: BotProcess, redis_server: RedisServer, expected: int, timeout: float = 30.0) -> dict:
    """Until ``expected`` deliveries are finished in Redis (the queue is shared: any replica's view)."""
    await until(lambda: sum(s in ("done", "failed") for s, _, _ in redis_server.deliveries().values()) >= expected,
                timeout=timeout, every=0.05)
    await bot.settle(timeout=timeout)
    return redis_server.deliveries()


async def test_a_replica_killed_mid_work_loses_nothing_and_the_other_does_it_once(github, replicas, redis_server):
    github.latency = 0.2  # ~2 s per pull request: a has work in hand when it is killed
    a, = await replicas(1)
    numbers = range(1, 11)
    deliveries = open_prs(github, numbers)
    assert await deliver_all(a, deliveries) == [202] * len(numbers)
    await until(lambda: any(dod_runs(github, n) for n in numbers))  # a is working
    b, = await replicas(1)
    assert await a.kill(signal.SIGKILL) == -signal.SIGKILL
    unfinished = {d for d, (s, _, _) in redis_server.deliveries().items() if s not in ("done", "failed")}
    assert unfinished, "the kill came too late"

    found = await settle(b, redis_server, len(numbers))
    assert {s for s, _, _ in found.values()} == {"done"}
    assert set(found) == {delivery_id(d) for d in deliveries}
    for n in numbers:
        assert len(dod_runs(github, n)) == 1, f"PR {n}: {len(dod_runs(github, n))} check runs"
    assert check_run_posts(github) == len(numbers)  # created once each; work taken over updates it
    taken_over = {line["delivery"] for line in audit(b)}
    assert unfinished <= taken_over, "b did what a left unfinished"
    assert any(line["attempt"] >= 2 for line in audit(b)), "a's claimed work was taken over after its lease"


async def test_the_same_delivery_sent_to_both_replicas_has_one_effect(github, replicas, redis_server):
    a, b = await replicas(2)
    deliveries = open_prs(github, range(1, 6))
    answers = await asyncio.gather(*(bot.deliver(d) for d in deliveries for bot in (a, b)))
    statuses = [s for s, _ in answers]
    for i in range(len(deliveries)):
        assert sorted(statuses[2 * i:2 * i + 2]) == [200, 202], statuses  # one accepted, one duplicate
    found = await settle(a, redis_server, len(deliveries))
    assert {s for s, _, _ in found.values()} == {"done"} and len(found) == len(deliveries)
    assert check_run_posts(github) == len(deliveries)
    done = [line["delivery"] for bot in (a, b) for line in audit(bot)]
    assert sorted(done) == sorted(delivery_id(d) for d in deliveries), "each processed once, by one replica"


def _interval(line: dict) -> tuple[float, float]:
    end = datetime.fromisoformat(line["time"]).timestamp()
    return end - line["duration_ms"] / 1000, end


async def test_a_burst_for_one_pull_request_across_replicas_is_one_evaluation_at_a_time(github, replicas,
                                                                                          redis_server):
    github.latency = 0.03
    a, b = await replicas(2, COALESCE_SECONDS=0.01)
    (first,) = open_prs(github, [1], files=["docs/a.md"])
    deliveries = [first]
    for i in range(12):  # pushes: each a new head commit, changing what the verdict is made of (so an
        # evaluation of one head never covers another head's events: both replicas judge the PR)
        github.push(REPO, 1, f"{i + 1:040x}", ["docs/a.md", f"docs/b{i}.md"])
        deliveries.append(github.webhook("pull_request", "synchronize", REPO, 1))
    for i, d in enumerate(deliveries):
        assert (await (a, b)[i % 2].deliver(d))[0] == 202
        await asyncio.sleep(0.05)
    github.push(REPO, 1, f"{99:040x}", ["docs/a.md", "CHANGELOG.md"])  # the latest state, announced last
    last = github.webhook("pull_request", "synchronize", REPO, 1)
    assert (await b.deliver(last))[0] == 202
    await settle(a, redis_server, len(deliveries) + 1)

    evaluations: list[tuple[int, float, float]] = []  # (replica, start, end): one per batch
    for bot in (a, b):
        lines = sorted(_interval(line) for line in audit(bot) if line["api_calls"])
        for start, end in lines:  # the lines of one batch share its start (to the log's millisecond)
            if evaluations and evaluations[-1][0] == bot.port and start - evaluations[-1][1] < 0.005:
                evaluations[-1] = (bot.port, evaluations[-1][1], max(end, evaluations[-1][2]))
            else:
                evaluations.append((bot.port, start, end))
    assert {port for port, _, _ in evaluations} == {a.port, b.port}, "both replicas evaluated the pull request"
    intervals = sorted((start, end) for _, start, end in evaluations)
    for (_, end1), (start2, _) in zip(intervals, intervals[1:]):
        assert start2 >= end1 - 0.002, f"two evaluations of one PR overlapped: {intervals}"
    runs = dod_runs(github, 1)
    assert len(runs) == 1
    verdict = read_verdict(runs[0]["output"]["summary"])
    changelog = next(i for i in verdict["items"] if i["id"] == "changelog")
    assert changelog["state"] == "passed", "the last evaluation saw the latest state"


async def test_redis_stopped_answers_503_and_the_redelivered_work_is_done_after_it_returns(github, replicas,
                                                                                            redis_server):
    a, b = await replicas(2)
    deliveries = open_prs(github, range(1, 5))
    await redis_server.stop()
    assert await deliver_all(a, deliveries[:2]) == [503, 503]  # never a 202 for something not stored
    assert await deliver_all(b, deliveries[2:]) == [503, 503]
    status, ready = await a.get("/readyz")
    assert status == 503 and "unreachable" in ready["store"]
    assert (await a.health())[0] == 200  # alive: restarting the process would not help

    await redis_server.start()
    await until(lambda: True)
    status, _ = await a.get("/readyz")
    assert status == 200
    assert await deliver_all(a, deliveries) == [202] * 4  # the forge's redelivery of its failed deliveries
    found = await settle(b, redis_server, 4)
    assert {s for s, _, _ in found.values()} == {"done"}
    for n in range(1, 5):
        assert len(dod_runs(github, n)) == 1


async def test_redis_restarted_with_its_data_loses_nothing(github, replicas, redis_server):
    a, b = await replicas(2)
    github.down()  # nothing can be done yet: the work waits in Redis
    deliveries = open_prs(github, range(1, 7))
    assert await deliver_all(a, deliveries[:3]) + await deliver_all(b, deliveries[3:]) == [202] * 6
    await asyncio.sleep(0.5)
    await redis_server.stop()
    await redis_server.start()  # the same directory: the AOF is read back
    assert set(redis_server.deliveries()) == {delivery_id(d) for d in deliveries}
    github.up()
    found = await settle(a, redis_server, 6, timeout=40)
    assert {s for s, _, _ in found.values()} == {"done"}
    for n in range(1, 7):
        assert len(dod_runs(github, n)) == 1
    assert await deliver_all(b, deliveries) == [200] * 6  # still known: redeliveries have no effect


async def test_events_that_reached_two_replicas_before_an_evaluation_began_cost_one_evaluation(github, replicas,
                                                                                                 redis_server):
    """A label and a review for one PR land on different replicas within the coalescing window: the
    replica that judges the PR second finds that the first began reading after both arrived, and
    finishes its events without a call (the coalescing of events spread over replicas)."""
    a, b = await replicas(2, COALESCE_SECONDS=0.6)
    (opened,) = open_prs(github, [1])
    assert (await a.deliver(opened))[0] == 202
    await settle(a, redis_server, 1)
    calls_before = len(github.requests)
    github.add_review(REPO, 1, "bob", "APPROVED")
    review = github.webhook("pull_request_review", "submitted", REPO, 1)
    github.set_labels(REPO, 1, ["team:backend"])
    label = github.webhook("pull_request", "labeled", REPO, 1, label="team:backend")
    assert (await a.deliver(review))[0] == 202
    await asyncio.sleep(0.1)
    assert (await b.deliver(label))[0] == 202
    await settle(a, redis_server, 3)

    lines = [line for bot in (a, b) for line in audit(bot) if line["delivery"] in (delivery_id(review), delivery_id(label))]
    covered = [line for line in lines if line["outcome"].startswith("covered")]
    assert len(lines) == 2 and len(covered) == 1, lines
    assert covered[0]["api_calls"] == 0
    reads = [r for r in github.requests[calls_before:] if r.method == "GET" and r.path == f"/repos/{REPO}/pulls/1"]
    assert len(reads) == 1, "the pull request was read by one evaluation, not two"
    scraped = ""
    for bot in (a, b):
        async with bot._session.get(bot.url + "/metrics") as response:
            scraped += await response.text()
    assert 'nexus_batches_covered_total{forge="github"} 1.0' in scraped
