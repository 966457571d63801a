"""Rate-limit quota per webhook over a realistic pull request lifecycle, against the fake GitHub:
opened, 2 pushes, 12 check runs completing, 3 reviews, 4 label changes by people (22 webhooks).

Counted like GitHub counts: every request the bot makes, except 304 answers to conditional requests,
which GitHub does not charge. Target: at most 2 per webhook on average. Events arrive spaced as in
life (a person acts, CI jobs finish a few hundred ms apart), with the default coalescing window.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.harness import RunningBot, settings_for  # noqa: E402

REPO = "org/app"
JOBS = ["tests", "lint", "unit-tests", "integration-tests", "coverage / backend", "security audit"]


async def lifecycle(coalesce: float) -> dict:
    fake = FakeGitHub()
    await fake.start()
    tmp = Path(tempfile.mkdtemp())
    bot = await RunningBot(settings_for(tmp, github=fake, COALESCE_SECONDS=coalesce, LOG_LEVEL="warn")).start()
    first = await one_pull_request(fake, bot, 1)
    charged_before, requests_before = fake.charged, len(fake.requests)
    second = await one_pull_request(fake, bot, 2)
    second["charged"] = fake.charged - charged_before
    second["charged_per_webhook"] = round(second["charged"] / second["webhooks"], 2)
    second["requests"] = len(fake.requests) - requests_before
    await bot.stop()
    await fake.stop()
    return {"first_pull_request": first, "next_pull_request": second}


async def one_pull_request(fake: FakeGitHub, bot: RunningBot, number: int) -> dict:
    """One PR's whole lifecycle; the counts are the fake's totals so far."""
    sent = 0

    async def send(event, action, pause=0.0, **kw):
        nonlocal sent
        sent += 1
        status, _ = await bot.deliver(fake.webhook(event, action, REPO, number, **kw))
        assert status == 202, status
        if pause:
            await asyncio.sleep(pause)

    fake.set_team("org", "backend", ["bob", "dana"])
    fake.set_team("org", "frontend", ["carol"])
    fake.add_pr(REPO, number, title="feat: approval e-mail", body="## Rollback plan\nrevert", author="alice",
                files=["backend/src/mail.rs", "frontend/src/Approve.svelte"], head_sha=f"{number}" * 40)
    await send("pull_request", "opened")
    await bot.settle()
    for push, sha in enumerate([f"b{number}" * 20, f"c{number}" * 20], start=1):
        files = ["backend/src/mail.rs", "frontend/src/Approve.svelte"] + (["CHANGELOG.md"] if push == 2 else [])
        fake.push(REPO, number, sha, files=files)
        await send("pull_request", "synchronize")
        await bot.settle()
        for job in JOBS:  # six jobs per push finish a few hundred ms apart
            run = fake.add_check_run(REPO, sha, job, summary="Coverage: 92.0%" if "coverage" in job else "")
            await send("check_run", "completed", check_run_id=run, pause=0.3)
        await bot.settle()
    for reviewer in ("bob", "carol", "dana"):
        fake.add_review(REPO, number, reviewer, "APPROVED")
        await send("pull_request_review", "submitted", pause=1.0)
        await bot.settle()
    for n, label in enumerate(["P1", "feature", "milestone:2", "P1"]):
        if n == 3:
            fake.set_labels(REPO, number, [l for l in fake.issues[(REPO, number)].labels if l != "P1"])
            await send("pull_request", "unlabeled", label="P1", pause=1.0)
        else:
            fake.set_labels(REPO, number, fake.issues[(REPO, number)].labels + [label])
            await send("pull_request", "labeled", label=label, pause=1.0)
        await bot.settle()
    await bot.settle()
    by_route: Counter = Counter()
    for r in fake.requests:
        if r.status != 304:
            by_route[f"{r.method} {r.route}"] += 1
    # once per installation or repository, not per event: the App's identity and token, the first
    # reads of .github/nexus.yml and CODEOWNERS (404s carry no ETag), the taxonomy labels the bot
    # creates in the repository (colour and description, one write each), the first team look-ups
    one_time_routes = ("GET /app", "POST /app/installations/{id}/access_tokens",
                       "GET /repos/{owner}/{repo}/contents/{path}", "POST /repos/{owner}/{repo}/labels",
                       "GET /orgs/{org}/teams/{slug}/members")
    one_time = sum(n for route, n in by_route.items() if route in one_time_routes)
    result = {
        "webhooks": sent,
        "one_time_setup_calls": one_time,
        "steady_charged_per_webhook": round((fake.charged - one_time) / sent, 2),
        "requests": len(fake.requests),
        "charged": fake.charged,
        "charged_per_webhook": round(fake.charged / sent, 2),
        "free_304": sum(1 for r in fake.requests if r.status == 304),
        "evaluations": bot.worker.evaluations,
        "charged_by_route": dict(by_route.most_common()),
    }
    return result


def main() -> dict:
    both = asyncio.run(lifecycle(coalesce=2.0))
    result, nxt = both["first_pull_request"], both["next_pull_request"]
    print(f"first PR of an installation: {result['webhooks']} webhooks, {result['evaluations']} evaluations, "
          f"{result['requests']} requests, {result['free_304']} free (304), {result['charged']} charged: "
          f"{result['charged_per_webhook']} per webhook ({result['one_time_setup_calls']} of them one-time setup)")
    print(f"next PR: {nxt['webhooks']} webhooks, {nxt['requests']} requests, {nxt['charged']} charged: "
          f"{nxt['charged_per_webhook']} per webhook")
    for route, n in result["charged_by_route"].items():
        print(f"  {n:>3}  {route}")
    return both


if __name__ == "__main__":
    print(json.dumps(main()))
