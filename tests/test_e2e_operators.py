"""Operators' mistakes are said early and plainly, through the real server (``python -m bot serve``):
credentials are checked at start and named with their setting and instance, and a delivery that
cannot be processed for lack of configuration waits in the queue until the configuration is fixed."""

from __future__ import annotations

import asyncio
import time

import pytest_asyncio

from tests.fakes.forgejo import FakeForgejo
from tests.fakes.github import FakeGitHub
from tests.process import BotProcess


@pytest_asyncio.fixture
async def github(github_private_key):
    fake = FakeGitHub(private_key=github_private_key)
    await fake.start()
    yield fake
    await fake.stop()


async def until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def test_a_malformed_private_key_is_named_at_start_and_deliveries_wait_for_the_fix(tmp_path, github):
    bot = BotProcess(tmp_path / "bot", github=github, PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\nnot a key\n")
    await bot.start()
    try:
        await until(lambda: "cannot serve" in bot.log())
        assert "PRIVATE_KEY (or PRIVATE_KEY_PATH) is not a usable private key" in bot.log()
        github.add_pr("org/app", 1, files=["docs/a.md"])
        headers, body = github.webhook("pull_request", "opened", "org/app", 1, delivery="d-wait")
        assert (await bot.deliver((headers, body)))[0] == 202
        await until(lambda: "d-wait" in bot.deliveries() and bot.deliveries()["d-wait"][1] is not None)
        state, outcome, _ = bot.deliveries()["d-wait"]
        assert state == "queued" and "waiting for configuration" in outcome, (state, outcome)

        bot.env["PRIVATE_KEY"] = github.private_key  # the operator fixes it and restarts
        await bot.restart()
        await bot.settle()
        assert bot.deliveries()["d-wait"][0] == "done"
        assert github.check_runs_for("org/app", github._pull("org/app", 1).head_sha, "Nexus DoD")
    finally:
        await bot.close()


async def test_a_forgejo_token_the_instance_refuses_is_named_with_its_setting(tmp_path):
    forgejo = FakeForgejo()
    await forgejo.start()
    bot = BotProcess(tmp_path / "bot", FORGEJO_URL=forgejo.url, FORGEJO_TOKEN="wrong-token",
                     FORGEJO_WEBHOOK_SECRET=forgejo.webhook_secret.decode())
    await bot.start()
    try:
        await until(lambda: "cannot serve" in bot.log())
        assert f"Forgejo instance 'default' ({forgejo.url}) refuses FORGEJO_TOKEN" in bot.log()
        assert "wrong-token" not in bot.log()  # named, never shown
    finally:
        await bot.close()
        await forgejo.stop()


async def test_a_delivery_for_a_forge_not_configured_waits_in_the_queue(tmp_path, github):
    bot = BotProcess(tmp_path / "bot", WEBHOOK_SECRET=github.webhook_secret.decode())  # no App, no token
    await bot.start()
    try:
        github.add_pr("org/app", 2, files=["docs/a.md"])
        headers, body = github.webhook("pull_request", "opened", "org/app", 2, delivery="d-none")
        assert (await bot.deliver((headers, body)))[0] == 202
        await until(lambda: "d-none" in bot.deliveries() and bot.deliveries()["d-none"][1] is not None)
        state, outcome, _ = bot.deliveries()["d-none"]
        assert state == "queued" and "no GitHub App" in outcome, (state, outcome)
        assert "waits: no GitHub App" in bot.log()
    finally:
        await bot.close()


async def test_the_github_app_is_registered_through_setup_and_served_after_a_restart(tmp_path, github):
    """GitHub's manifest flow, as Probot does it: /setup sends app.yml to GitHub, /setup/callback
    turns GitHub's one-time code into credentials in .env, and a restart serves the App."""
    import html as html_
    import json
    import re

    bot = BotProcess(tmp_path / "bot", GITHUB_API_URL=github.url, GITHUB_WEB_URL=github.url,
                     PUBLIC_URL="https://nexus.example.org")
    await bot.start()
    try:
        async with bot._session.get(bot.url + "/setup") as r:
            page = await r.text()
        assert r.status == 200 and f"action='{github.url}/settings/apps/new?state=" in page
        manifest = json.loads(html_.unescape(re.search(r"name=manifest value='([^']*)'", page).group(1)))
        assert manifest["hook_attributes"]["url"] == "https://nexus.example.org/webhooks/github"
        assert manifest["redirect_url"] == "https://nexus.example.org/setup/callback"
        assert {"pull_request", "push", "merge_group"} <= set(manifest["default_events"])
        state = re.search(r"state=([\w-]+)", page).group(1)

        async with bot._session.get(bot.url + "/setup/callback?code=nope&state=" + state) as r:
            assert r.status == 502  # GitHub refused the code: nothing written
        github.manifest_codes.add("one-time")
        async with bot._session.get(bot.url + "/setup") as r:
            state = re.search(r"state=([\w-]+)", await r.text()).group(1)
        async with bot._session.get(bot.url + f"/setup/callback?code=one-time&state={state}") as r:
            done = await r.text()
        assert r.status == 200 and "GitHub App registered" in done
        assert github.private_key not in done and github.webhook_secret.decode() not in done
        env = (bot.workdir / ".env").read_text()
        assert f"APP_ID={github.app_id}" in env and (bot.workdir / "github-app.pem").stat().st_mode & 0o077 == 0
        assert github.private_key not in bot.log() and github.webhook_secret.decode() not in bot.log()

        await bot.restart()  # reads the working directory's .env
        github.add_pr("org/app", 3, files=["docs/a.md"])
        assert (await bot.deliver(github.webhook("pull_request", "opened", "org/app", 3)))[0] == 202
        await bot.settle()
        assert github.check_runs_for("org/app", github._pull("org/app", 3).head_sha, "Nexus DoD")
        async with bot._session.get(bot.url + "/setup") as r:
            assert r.status == 404  # set up: the page is gone
    finally:
        await bot.close()
