"""Nothing lost, nothing done twice: the queue's guarantees proven under faults, through the real
server process (``tests/process.py``) and a fake GitHub in this test's event loop.

Killed with ``kill -9`` mid-work, stopped with SIGTERM, the forge down or rate-limiting, bursts,
redeliveries and hostile input: every accepted delivery ends done (or failed with a reason), with
its effect on the forge exactly once, and the service keeps serving. Every test also greps the
process's whole output for secrets (fixture teardown).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import signal
import time

import pytest_asyncio

from tests.fakes.github import FakeGitHub
from tests.process import BotProcess

REPO = "org/app"
CHECK = "Nexus DoD"


class TimedGitHub(FakeGitHub):
    """The fake GitHub, plus: when each request arrived (``record.at``, wall clock); an optional
    ``latency`` added to every answer *after* the request has taken effect (a slow forge: a process
    killed while it waits has still changed the forge, as with the real one); ``refuse``: paths
    (regular expressions) answered with a fixed error status every time."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.latency = 0.0
        self.refuse: dict[str, int] = {}

    async def _answer(self, request, handler, record):
        record.at = time.time()
        status = next((s for p, s in self.refuse.items() if re.fullmatch(p, request.path)), None)
        if status is not None:
            return self._error(status, "Resource not accessible by integration")
        response = await super()._answer(request, handler, record)
        if self.latency:
            await asyncio.sleep(self.latency)
        return response


@pytest_asyncio.fixture
async def github(github_private_key):
    fake = TimedGitHub(private_key=github_private_key)
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def start_bot(tmp_path, github):
    """start_bot(**env) -> a running BotProcess; stopped at the end, its output checked for secrets."""
    started: list[BotProcess] = []

    async def start(**env) -> BotProcess:
        bot = BotProcess(tmp_path / f"bot{len(started)}", github=github, **env)
        started.append(bot)
        return await bot.start()

    yield start
    for bot in started:
        await bot.close()
    for bot in started:
        assert_no_secret(bot.log(), github)


def assert_no_secret(log: str, fake: FakeGitHub) -> None:
    secrets = {"the webhook secret": fake.webhook_secret.decode()}
    key_lines = [line for line in fake.private_key.splitlines() if line and not line.startswith("-----")]
    secrets |= {f"private key line {i}": line for i, line in enumerate(key_lines)}
    secrets |= {"an installation token": token for token in fake.tokens}
    leaked = [what for what, value in secrets.items() if value in log]
    assert not leaked, f"secrets in the bot's output: {leaked}"
    assert "eyJhbGciOi" not in log, "a JWT (the app's bearer token) in the bot's output"


# ---- helpers -----------------------------------------------------------------------------------

async def until(predicate, timeout: float = 15.0, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(every)


def dod_runs(fake: FakeGitHub, number: int, repo: str = REPO) -> list[dict]:
    return fake.check_runs_for(repo, fake._pull(repo, number).head_sha, CHECK)


def check_run_posts(fake: FakeGitHub, repo: str = REPO) -> int:
    """Check runs created (a POST cut off by a kill, never answered, created nothing)."""
    return sum(1 for r in fake.requests
               if r.method == "POST" and r.path == f"/repos/{repo}/check-runs" and r.status == 201)


def check_run_writes(fake: FakeGitHub, repo: str = REPO) -> int:
    return check_run_posts(fake, repo) + fake.count("PATCH", f"/repos/{repo}/check-runs/\\d+")


def snapshot_reads(fake: FakeGitHub, number: int, repo: str = REPO) -> int:
    return fake.count("GET", f"/repos/{repo}/pulls/{number}")


def open_prs(fake: FakeGitHub, numbers, repo: str = REPO, **kw) -> list[tuple[dict, bytes]]:
    """Open the PRs on the fake; their ``opened`` deliveries."""
    out = []
    for n in numbers:
        fake.add_pr(repo, n, files=kw.get("files", ["docs/a.md"]), body=kw.get("body", ""),
                    base_ref=kw.get("base_ref", "main"))
        out.append(fake.webhook("pull_request", "opened", repo, n))
    return out


def delivery_id(delivery: tuple[dict, bytes]) -> str:
    return delivery[0]["X-GitHub-Delivery"]


def signed(fake: FakeGitHub, body: bytes, event: str = "pull_request", delivery: str = "d-1", **headers) -> dict:
    sig = "sha256=" + hmac.new(fake.webhook_secret, body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sig,
            "Content-Type": "application/json", **headers}


async def deliver_all(bot: BotProcess, deliveries) -> list[int]:
    return [s for s, _ in await asyncio.gather(*(bot.deliver(d) for d in deliveries))]


async def warm_up(bot: BotProcess, fake: FakeGitHub, number: int = 100) -> None:
    """One PR processed end to end: the app's slug and an installation token are known."""
    (d,) = open_prs(fake, [number])
    assert (await bot.deliver(d))[0] == 202
    await bot.settle()
    assert len(dod_runs(fake, number)) == 1


# ---- crashes and restarts ----------------------------------------------------------------------

async def test_kill_9_mid_work_loses_nothing_and_does_nothing_twice(github, start_bot):
    github.latency = 0.04
    bot = await start_bot(WORKERS=2, COALESCE_SECONDS=0.05)
    numbers = range(1, 9)
    deliveries = open_prs(github, numbers)
    assert await deliver_all(bot, deliveries) == [202] * len(numbers)

    # the kill lands while some PRs are published and others are not
    await until(lambda: any(dod_runs(github, n) for n in numbers))
    assert await bot.kill(signal.SIGKILL) == -signal.SIGKILL
    states = {d: s for d, (s, _, _) in bot.deliveries().items()}
    assert set(states) == {delivery_id(d) for d in deliveries}, "an accepted delivery is not in the database"
    assert "working" in states.values() or "queued" in states.values(), f"the kill came too late: {states}"

    await bot.restart()
    if "working" in states.values():
        assert "recovered" in bot.log()
    await bot.settle()
    assert {s for s, _, _ in bot.deliveries().values()} == {"done"}
    for n in numbers:
        assert len(dod_runs(github, n)) == 1, f"PR {n}: {len(dod_runs(github, n))} check runs"
    assert check_run_posts(github) == len(numbers)  # created once each; a redone one is updated
    assert await deliver_all(bot, deliveries) == [200] * len(numbers)  # redeliveries, after the restart too


async def test_sigterm_finishes_the_work_in_flight_and_hands_back_the_rest(github, start_bot):
    github.latency = 0.04
    bot = await start_bot(WORKERS=2, COALESCE_SECONDS=0.05)
    numbers = range(1, 9)
    deliveries = open_prs(github, numbers)
    assert await deliver_all(bot, deliveries) == [202] * len(numbers)
    await until(lambda: sum(snapshot_reads(github, n) for n in numbers) > 0)  # work under way

    assert await bot.kill(signal.SIGTERM) == 0
    assert "stopped" in bot.log()
    after_stop = bot.deliveries()
    states = [s for s, _, _ in after_stop.values()]
    assert set(states) == {"done", "queued"}, after_stop  # finished, or handed back untouched
    done = [d for d in deliveries if after_stop[delivery_id(d)][0] == "done"]
    for d in done:  # done means published
        number = json.loads(d[1])["number"]
        assert len(dod_runs(github, number)) == 1

    await bot.restart()
    await bot.settle()
    assert {s for s, _, _ in bot.deliveries().values()} == {"done"}
    for n in numbers:
        assert len(dod_runs(github, n)) == 1
    assert check_run_posts(github) == len(numbers)
    # what was finished before the stop was not done again
    for d in done:
        assert bot.deliveries()[delivery_id(d)][2] == 1


# ---- the forge failing ---------------------------------------------------------------------------

async def test_forge_502s_then_down_then_up_every_event_is_processed_after_recovery(github, start_bot):
    bot = await start_bot()
    await warm_up(bot, github)

    # a hiccup (one 502) is absorbed by the client's own retries: no second attempt from the queue
    github.fail_next(1, 502)
    (d,) = open_prs(github, [1])
    assert (await bot.deliver(d))[0] == 202
    await bot.settle()
    assert bot.deliveries()[delivery_id(d)][::2] == ("done", 1)
    assert len(dod_runs(github, 1)) == 1
    assert [r.status for r in github.requests].count(502) == 1

    # down for longer than the client retries: back to the queue, done after the forge is up
    github.down()
    numbers = [2, 3, 4]
    deliveries = open_prs(github, numbers)
    assert await deliver_all(bot, deliveries) == [202] * 3
    ids = [delivery_id(d) for d in deliveries]

    def all_back_in_queue():
        rows = bot.deliveries()
        return all(rows[i][0] == "queued" and (rows[i][1] or "").startswith("retry") for i in ids)

    await until(all_back_in_queue, timeout=20, every=0.05)
    assert not any(dod_runs(github, n) for n in numbers)
    github.up()
    await bot.settle()
    rows = bot.deliveries()
    assert all(rows[i][0] == "done" and rows[i][2] >= 2 for i in ids), rows
    for n in numbers:
        assert len(dod_runs(github, n)) == 1
    retries = [line for line in bot.audit() if line["outcome"].startswith("retry")]
    assert {line["delivery"] for line in retries} == set(ids)


async def test_rate_limits_are_waited_out_without_hammering(github, start_bot):
    bot = await start_bot(RETRY_MAX_SECONDS=0.3)
    await warm_up(bot, github)

    for number, secondary in ((1, True), (2, False)):  # Retry-After; X-RateLimit-Remaining 0 + Reset
        github.rate_limit_next(retry_after=1, secondary=secondary)
        (d,) = open_prs(github, [number])
        assert (await bot.deliver(d))[0] == 202
        await bot.settle()
        limited = [r for r in github.requests if r.status == 403][-1]
        # secondary: one second from the answer; primary: the reset the fake announced (a whole second)
        until_at = limited.at + 1 if secondary else float(int(limited.at) + 1)
        during = [r for r in github.requests if limited.at < r.at < until_at - 0.02]
        assert during == [], f"{len(during)} requests while rate-limited ({'secondary' if secondary else 'primary'})"
        after = [r for r in github.requests if r.at > limited.at]
        assert after and after[0].path == limited.path  # the same request, after the wait
        assert bot.deliveries()[delivery_id(d)][::2] == ("done", 1)
        assert len(dod_runs(github, number)) == 1

    # longer than one request waits (60 s): back to the queue until the forge said, even though that
    # is longer than RETRY_MAX_SECONDS; no request meanwhile
    github.rate_limit_next(retry_after=120, secondary=True)
    (d,) = open_prs(github, [3])
    assert (await bot.deliver(d))[0] == 202
    await until(lambda: (bot.deliveries()[delivery_id(d)][1] or "").startswith("retry"), every=0.05)
    limited = [r for r in github.requests if r.status == 403][-1]
    await asyncio.sleep(1.0)  # three times RETRY_MAX_SECONDS
    assert [r for r in github.requests if r.at > limited.at] == []
    state, outcome, _ = bot.deliveries()[delivery_id(d)]
    assert state == "queued" and outcome.startswith("retry in 1"), outcome  # ~120 s


async def test_nothing_is_retried_forever(github, start_bot):
    """A 404 (a PR deleted, a repository gone) is asked again a few times (GitHub's replicas can lag
    behind its webhooks), then the delivery ends failed with the reason. A failure that may pass
    (here a 403 without rate-limit headers) is retried until the delivery is older than the
    redelivery memory (DELIVERY_TTL_HOURS, ~1 s here), then failed. The queue keeps neither."""
    bot = await start_bot(DELIVERY_TTL_HOURS=0.0003)
    (gone, forbidden) = open_prs(github, [1, 2])
    del github.issues[(REPO, 1)]  # gone before the bot reads it
    github.refuse[f"/repos/{REPO}/pulls/2"] = 403
    assert await deliver_all(bot, [gone, forbidden]) == [202, 202]
    await bot.settle()
    state, outcome, attempts = bot.deliveries()[delivery_id(gone)]
    assert state == "failed" and "404" in outcome and attempts == 3, (state, outcome, attempts)
    assert snapshot_reads(github, 1) == 3
    state, outcome, attempts = bot.deliveries()[delivery_id(forbidden)]
    assert state == "failed" and outcome.startswith("gave up") and "403" in outcome, (state, outcome)
    assert snapshot_reads(github, 2) == attempts > 3
    assert (await bot.health())[0] == 200


# ---- nothing twice ------------------------------------------------------------------------------

async def test_the_same_delivery_five_times_has_one_effect(github, start_bot):
    bot = await start_bot()
    (d,) = open_prs(github, [1])
    statuses = [(await bot.deliver(d))[0] for _ in range(5)]
    await bot.settle()
    assert statuses == [202, 200, 200, 200, 200]
    assert len(dod_runs(github, 1)) == 1
    assert check_run_writes(github) == 1 and snapshot_reads(github, 1) == 1
    assert len(bot.deliveries()) == 1
    statuses = [(await bot.deliver(d))[0] for _ in range(2)]  # after it was done, too
    await bot.settle()
    assert statuses == [200, 200] and check_run_writes(github) == 1


async def test_a_burst_of_20_events_for_one_pr_gives_one_evaluation(github, start_bot):
    bot = await start_bot(COALESCE_SECONDS=0.5)
    github.add_pr(REPO, 1, files=["docs/a.md"])
    actions = ["opened", "edited", "synchronize", "reopened", "ready_for_review"] * 4
    deliveries = [github.webhook("pull_request", a, REPO, 1) for a in actions]
    assert await deliver_all(bot, deliveries) == [202] * 20
    await bot.settle()
    assert {s for s, _, _ in bot.deliveries().values()} == {"done"}
    assert snapshot_reads(github, 1) == 1
    assert check_run_writes(github) == 1
    assert len(dod_runs(github, 1)) == 1
    lines = bot.audit()
    assert len(lines) == 20 and {line["batch"] for line in lines} == {20}


# ---- hostile input -------------------------------------------------------------------------------

async def test_bad_requests_get_clear_4xx_early_and_the_service_goes_on(github, start_bot):
    bot = await start_bot(MAX_BODY_BYTES=65536)

    # over MAX_BODY_BYTES: refused before it is read (10 MB announced, 1 KB sent; the answer comes)
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    try:
        writer.write(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 10000000\r\n\r\n{" + b" " * 1023)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
    assert status_line.split()[1] == b"413", status_line
    big = b'{"a": "' + b"x" * 100_000 + b'"}'

    async def chunks():  # chunked, no length announced: refused when the limit is reached
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    async with bot._session.post(bot.url + "/webhooks/github", data=chunks(), headers=signed(github, big)) as r:
        assert r.status == 413

    body = b'{"action": "opened"}'
    status, data = await bot.post("/webhooks/github", signed(github, body, **{"Content-Type": "text/plain"}), body)
    assert status == 415 and "application/json" in data["error"]
    status, data = await bot.post("/webhooks/github", signed(github, body, event="deployment"), body)
    assert status == 200 and "does not handle 'deployment'" in data["ignored"]  # a success, not a failed delivery
    status, _ = await bot.post("/webhooks/github", {**signed(github, body), "X-Hub-Signature-256": "sha256=00"}, body)
    assert status == 401

    # signed and well-formed JSON, but fields missing: accepted, recorded failed, nothing else stops
    broken = json.dumps({"action": "opened", "number": 1, "pull_request": {"number": 1}}).encode()
    assert (await bot.post("/webhooks/github", signed(github, broken, delivery="broken"), broken))[0] == 202
    (d,) = open_prs(github, [2])
    assert (await bot.deliver(d))[0] == 202
    await bot.settle()
    state, outcome, _ = bot.deliveries()["broken"]
    assert state == "failed" and "missing field" in outcome, outcome
    assert len(dod_runs(github, 2)) == 1
    assert (await bot.health())[0] == 200


async def test_a_flood_of_200_comments_and_a_1_mb_pr_body(github, start_bot):
    bot = await start_bot(COALESCE_SECONDS=0.3)
    github.add_pr(REPO, 1, files=["docs/a.md"])
    deliveries = []
    for i in range(200):
        text = "/nexus help" if i % 50 == 0 else f"comment {i}: looks good to me"
        comment = github.add_comment(REPO, 1, f"user{i % 7}", text)
        deliveries.append(github.webhook("issue_comment", "created", REPO, 1, comment_id=comment))
    body = "## Rollback plan\n" + ("Revert the deployment, then restore the snapshot. " * 20 + "\n") * 1000
    assert len(body) > 1_000_000
    deliveries += open_prs(github, [2], body=body)
    deliveries += open_prs(github, [3])
    assert await deliver_all(bot, deliveries) == [202] * 202
    await bot.settle()

    rows = bot.deliveries()
    assert {s for s, _, _ in rows.values()} == {"done"}, {o for _, o, _ in rows.values()}
    replies = [c for c in github.comments_on(REPO, 1) if c["user"] == github.bot_login]
    assert len(replies) == 4  # one per command, none for the chat
    (run,) = dod_runs(github, 2)
    assert run["status"] == "completed" and len(run["output"]["summary"]) <= 65535
    assert len(dod_runs(github, 3)) == 1
    assert (await bot.health())[0] == 200


async def test_a_broken_repository_config_fails_the_check_with_a_reason(github, start_bot):
    bot = await start_bot()
    broken = {
        "org/yaml": ("items: [\n  - id: x\n  evidence: {kind: files\n", ".github/nexus.yml:"),
        "org/junk": ("\x00\x01 not yaml at all: [}{", ".github/nexus.yml"),
        "org/huge": ("items: []\n" + "# padding\n" * 210_000, "larger than"),  # 2 MB
    }
    deliveries = []
    for repo, (text, _) in broken.items():
        github.set_file(repo, "main", ".github/nexus.yml", text)
        deliveries += open_prs(github, [1], repo=repo)
    deliveries += open_prs(github, [2])
    assert await deliver_all(bot, deliveries) == [202] * 4
    await bot.settle()
    for repo, (_, reason) in broken.items():
        (run,) = dod_runs(github, 1, repo=repo)
        assert run["conclusion"] == "failure", repo
        assert reason in run["output"]["title"] + run["output"]["summary"], (repo, run["output"])
    assert len(dod_runs(github, 2)) == 1
    assert (await bot.health())[0] == 200


# ---- the audit log -------------------------------------------------------------------------------

async def test_one_audit_line_per_delivery_and_no_secret_in_the_logs(github, start_bot):
    bot = await start_bot()
    deliveries = open_prs(github, [1, 2, 3])
    del github.issues[(REPO, 3)]  # a 404: this delivery is retried, then fails
    github.add_issue(REPO, 4, title="Approval e-mail", body="")
    deliveries.append(github.webhook("issues", "opened", REPO, 4))
    deliveries.append(github.webhook("pull_request", "labeled", REPO, 1, label="x", sender=github.bot_login,
                                     sender_type="Bot"))
    broken = json.dumps({"action": "opened"}).encode()
    assert await deliver_all(bot, deliveries) == [202] * 5
    assert (await bot.post("/webhooks/github", signed(github, broken, delivery="broken"), broken))[0] == 202
    await bot.settle()

    ids = {delivery_id(d) for d in deliveries} | {"broken"}
    lines = bot.audit()
    final = [line for line in lines if not line["outcome"].startswith("retry")]
    assert sorted(line["delivery"] for line in final) == sorted(ids)  # one final line each
    for line in lines:
        assert {"delivery", "forge", "repository", "event", "action", "outcome", "api_calls",
                "duration_ms"} <= set(line), line
        assert line["forge"] == "github"
        assert isinstance(line["api_calls"], int) and isinstance(line["duration_ms"], (int, float))
    by_id = {line["delivery"]: line for line in final}
    first = by_id[delivery_id(deliveries[0])]
    assert (first["repository"], first["event"], first["action"]) == (REPO, "pull_request", "opened")
    assert first["outcome"].startswith("dod") and first["api_calls"] > 0 and first["duration_ms"] > 0
    assert by_id[delivery_id(deliveries[2])]["outcome"].startswith("failed") and "404" in \
        by_id[delivery_id(deliveries[2])]["outcome"]
    assert by_id[delivery_id(deliveries[3])]["event"] == "issues"
    assert by_id[delivery_id(deliveries[4])]["outcome"].startswith("ignored")
    assert by_id["broken"]["outcome"].startswith("rejected")
    assert [line["delivery"] for line in lines if line["outcome"].startswith("retry")] == \
        [delivery_id(deliveries[2])] * 2
    assert github.tokens, "no installation token was issued: the secret check below would prove nothing"
    assert_no_secret(bot.log(), github)
