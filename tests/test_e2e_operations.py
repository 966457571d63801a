"""Run like a service: a Prometheus scrape, JSON logs, probes, a worker without a web port, events
the bot does not handle answered as successes, and the rate-limit budget, through real processes."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.process import BotProcess, free_port
from tests.test_faults import github, open_prs, signed, snapshot_reads, until  # noqa: F401 - the fixture

REPO = "org/app"


async def scrape(bot: BotProcess) -> dict[str, list]:
    """family name -> its samples, parsed by prometheus-client's own parser."""
    async with aiohttp.ClientSession() as session:
        async with session.get(bot.url + "/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list, name: str, **labels) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


async def test_a_prometheus_scrape_parses_and_has_the_series_operators_expect(tmp_path, github):
    bot = await BotProcess(tmp_path / "bot", github=github, LOG_FORMAT="json").start()
    try:
        (opened,) = open_prs(github, [1], files=["docs/a.md"])
        assert (await bot.deliver(opened))[0] == 202
        assert (await bot.deliver(opened))[0] == 200  # a redelivery
        body = b'{"zen": "Keep it logically awesome."}'
        assert (await bot.post("/webhooks/github", signed(github, body, event="deployment", delivery="x"), body))[0] == 200
        assert (await bot.post("/webhooks/github", {**signed(github, body), "X-Hub-Signature-256": "sha256=0"}, body))[0] == 401
        github.set_file(REPO, "main", ".github/nexus.yml", "items: [")  # a repository config that cannot be used
        (broken,) = open_prs(github, [2], files=["docs/b.md"])
        assert (await bot.deliver(broken))[0] == 202
        await bot.settle()
        m = await scrape(bot)
        assert (await bot.get("/readyz"))[0] == 200
        status, old = await bot.get("/metrics.json")
    finally:
        await bot.close()

    d = m["nexus_deliveries"]
    assert value(d, "nexus_deliveries_total", forge="github", event="pull_request", outcome="accepted") == 2
    assert value(d, "nexus_deliveries_total", outcome="duplicate") == 1
    assert value(d, "nexus_deliveries_total", event="other", outcome="ignored") == 1
    assert value(d, "nexus_deliveries_total", outcome="rejected") == 1
    assert value(m["nexus_accept_seconds"], "nexus_accept_seconds_count") == 5
    assert value(m["nexus_processing_seconds"], "nexus_processing_seconds_count") >= 2
    assert value(m["nexus_webhook_to_verdict_seconds"], "nexus_webhook_to_verdict_seconds_count") >= 2
    assert value(m["nexus_evaluations"], "nexus_evaluations_total", forge="github", verdict="failed") == 2
    calls = m["nexus_forge_api_calls"]
    assert value(calls, "nexus_forge_api_calls_total", forge="github", route="/repos/{owner}/{repo}/pulls/{n}",
                 method="GET", status="200", charged="true") >= 2
    assert value(calls, "nexus_forge_api_calls_total", method="POST", route="/repos/{owner}/{repo}/check-runs") == 2
    assert not any("org/app" in s.labels.get("route", "") for s in calls), "routes are templates, not paths"
    assert 0 < value(m["nexus_forge_quota_remaining"], "nexus_forge_quota_remaining", installation="1") < 5000
    assert value(m["nexus_queue_deliveries"], "nexus_queue_deliveries", state="done") == 2  # ignored: not stored
    assert value(m["nexus_queue_deliveries"], "nexus_queue_deliveries", state="queued") == 0
    assert "nexus_queue_oldest_age_seconds" in m
    assert value(m["nexus_cache_misses"], "nexus_cache_misses_total", cache="files") >= 1
    assert value(m["nexus_cache_hits"], "nexus_cache_hits_total") + value(m["nexus_cache_misses"], "nexus_cache_misses_total") > 1
    assert value(m["nexus_config_errors"], "nexus_config_errors_total", source="repository") == 1
    assert "nexus_waived_items" in m and "nexus_budget_paced_seconds" in m and "nexus_budget_merged_events" in m
    assert status == 200 and old["accept"]["accepted"] == 2  # the JSON of before, at its own path

    # LOG_FORMAT=json: every line one object; the audit line's fields are the object's own
    lines = [json.loads(line) for line in bot.log().splitlines() if not line.startswith("---- start")]
    audits = [line for line in lines if line["logger"] == "nexus.audit"]
    assert {a["outcome"] for a in audits} == {"dod failed"} and len(audits) == 2
    assert {"time", "level", "delivery", "repository", "number", "api_calls", "duration_ms"} <= set(audits[0])
    assert any(line["level"] == "info" and "listening" in line["msg"] for line in lines)


def _bound(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_a_worker_binds_no_web_port_and_serves_its_metrics_on_its_own(tmp_path, github):
    web = await BotProcess(tmp_path / "web", github=github, role="web").start()
    worker_port = free_port()
    worker = BotProcess(tmp_path / "worker", github=github, role="worker", PORT=worker_port,
                        DATABASE_PATH=web.database)
    try:
        await worker.start()
        assert not _bound(worker_port), "the worker bound the web port"
        (opened,) = open_prs(github, [1])
        assert (await web.deliver(opened))[0] == 202
        await until(lambda: bool(github.check_runs_for(REPO, github._pull(REPO, 1).head_sha, "Nexus DoD")), 20)
        assert (await worker.get("/readyz"))[0] == 200
        m = await scrape(worker)
        assert value(m["nexus_evaluations"], "nexus_evaluations_total", verdict="failed") == 1
        async with aiohttp.ClientSession() as session:  # and no webhook endpoint there
            async with session.post(worker.url + "/webhooks/github", data=b"{}") as response:
                assert response.status == 404
    finally:
        await worker.close()
        await web.close()


async def test_with_a_low_quota_events_for_one_pull_request_are_merged_into_one_evaluation(tmp_path, github):
    bot = await BotProcess(tmp_path / "bot", github=github, COALESCE_SECONDS=0.05,
                           LOW_QUOTA_COALESCE_SECONDS=2).start()
    try:
        (warm,) = open_prs(github, [1])
        assert (await bot.deliver(warm))[0] == 202
        await bot.settle()
        assert snapshot_reads(github, 2) == 0
        github.charged = 4_700  # 300 calls left of 5,000: under 10 % (not yet the reserve), as the next answers say
        assert (await bot.deliver(github.webhook("pull_request", "synchronize", REPO, 1)))[0] == 202
        await bot.settle()
        open_prs(github, [2])
        for i in range(4):
            github.set_files(REPO, 2, [f"docs/{i}.md"])
            assert (await bot.deliver(github.webhook("pull_request", "synchronize", REPO, 2)))[0] == 202
            await asyncio.sleep(0.2)  # far apart for COALESCE_SECONDS, within the low-quota window
        await bot.settle()
        m = await scrape(bot)
    finally:
        await bot.close()
    assert snapshot_reads(github, 2) == 1, "one evaluation for the four events"
    assert value(m["nexus_budget_merged_events"], "nexus_budget_merged_events_total", forge="github") == 3
    assert value(m["nexus_forge_quota_remaining"], "nexus_forge_quota_remaining", installation="1") < 500


async def test_with_the_quota_nearly_spent_evaluations_wait_for_the_reset_and_merge_what_came_meanwhile(
        tmp_path, github):
    bot = await BotProcess(tmp_path / "bot", github=github, COALESCE_SECONDS=0.05,
                           LOW_QUOTA_COALESCE_SECONDS=0.3).start()
    try:
        (warm,) = open_prs(github, [1])
        assert (await bot.deliver(warm))[0] == 202
        await bot.settle()
        reset = time.time() + 3
        github.charged, github.quota_reset_at = 4_950, reset  # 50 left: within the reserve, reset in 3 s
        assert (await bot.deliver(github.webhook("pull_request", "synchronize", REPO, 1)))[0] == 202
        await bot.settle()  # the answers now say 49 left
        open_prs(github, [2])
        for i in range(3):
            github.set_files(REPO, 2, [f"docs/{i}.md"])
            assert (await bot.deliver(github.webhook("pull_request", "synchronize", REPO, 2)))[0] == 202
            await asyncio.sleep(0.2)
        assert snapshot_reads(github, 2) == 0, "nothing read while the quota is nearly spent"
        await until(lambda: snapshot_reads(github, 2) == 1, timeout=15)
        first_read = next(r.at for r in github.requests if r.path == f"/repos/{REPO}/pulls/2")
        await bot.settle()
        m = await scrape(bot)
    finally:
        await bot.close()
    assert first_read >= int(reset) - 0.01, "the evaluation waited for the window's reset (whole seconds)"
    assert snapshot_reads(github, 2) == 1, "one evaluation for the three events"
    assert value(m["nexus_budget_quota_holds"], "nexus_budget_quota_holds_total", forge="github") >= 1
