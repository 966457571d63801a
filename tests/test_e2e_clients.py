"""Bounded clients and the right door, through the real server (``python -m bot serve``): slow
clients are cut off at their deadline, unsigned bodies cannot pile up in memory, a connection cap
holds, and a delivery sent to another forge's endpoint is refused before anything is done with it."""

from __future__ import annotations

import asyncio
import json

import pytest
import pytest_asyncio

from tests.fakes.forgejo import FakeForgejo
from tests.fakes.github import FakeGitHub
from tests.process import BotProcess

WAIT = 30  # seconds: how long a test waits before calling the server stuck (never a speed assertion)


@pytest_asyncio.fixture
async def github(github_private_key):
    fake = FakeGitHub(private_key=github_private_key)
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def bot(tmp_path, github):
    process = BotProcess(tmp_path / "bot", github=github, HEADER_TIMEOUT_SECONDS=1, BODY_TIMEOUT_SECONDS=1,
                         MAX_UNVERIFIED_BYTES=1_000_000, MAX_CONNECTIONS=20)
    await process.start()
    yield process
    await process.close()


async def _connect(bot: BotProcess):
    return await asyncio.open_connection("127.0.0.1", bot.port)


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), WAIT)


async def test_a_client_sending_its_headers_slowly_is_cut_off(bot):
    reader, writer = await _connect(bot)
    writer.write(b"POST /webhooks/github HTTP/1.1\r\nHost: bot\r\n")
    for _ in range(100):  # one header byte at a time, never a whole request
        if reader.at_eof():
            break
        writer.write(b"X")
        await asyncio.sleep(0.1)
    assert await _closed(reader) == b""  # closed without an answer: it never sent a request
    assert (await bot.health())[0] == 200


async def test_a_stalled_body_gets_408(bot):
    reader, writer = await _connect(bot)
    writer.write(b"POST /webhooks/github HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                 b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: d-1\r\nContent-Length: 1000\r\n\r\n{\"zen\": ")
    answer = await _closed(reader)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


async def test_unsigned_bodies_cannot_pile_up(bot):
    """Bodies whose signature is unchecked share 1 MB here: past it, 503 before reading."""
    body = json.dumps({"pad": "x" * 400_000}).encode()
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": "sha256=00",
               "Content-Type": "application/json"}

    async def slow_body():
        for start in range(0, len(body), 50_000):
            yield body[start:start + 50_000]
            await asyncio.sleep(0.05)

    async def one(n: int) -> int:
        async with bot._session.post(bot.url + "/webhooks/github", data=slow_body(),
                                     headers={**headers, "Content-Length": str(len(body))}) as r:
            return r.status

    statuses = await asyncio.gather(*(one(n) for n in range(6)))
    assert sorted(set(statuses)) == [401, 503], statuses  # two fit at a time; none is stored
    assert statuses.count(401) >= 2
    assert (await bot.health())[0] == 200


async def test_past_the_connection_cap_a_new_connection_is_closed_until_the_idle_ones_time_out(bot, github):
    idle = [await _connect(bot) for _ in range(20)]
    reader, writer = await _connect(bot)
    assert await _closed(reader) == b""  # the 21st: closed at once
    for r, _ in idle:  # the idle ones never sent a request: cut off at the header deadline
        assert await _closed(r) == b""
    github.add_pr("org/app", 1, files=["docs/a.md"])
    assert (await bot.deliver(github.webhook("pull_request", "opened", "org/app", 1)))[0] == 202


async def test_a_forgejo_delivery_sent_to_the_github_endpoint_is_refused(bot, github):
    """Forgejo also signs with X-Hub-Signature-256: with the same secret on both, its delivery would
    verify. It is refused by its own headers, and nothing reaches the queue."""
    forgejo = FakeForgejo()
    forgejo.webhook_secret = github.webhook_secret
    await forgejo.start()
    try:
        forgejo.add_pr("org/app", 2, files=["docs/a.md"])
        status, answer = await bot.deliver(forgejo.webhook("pull_request", "opened", "org/app", 2))
    finally:
        await forgejo.stop()
    assert status == 400 and "X-Forgejo-Event" in answer["error"], answer
    assert (await bot.health())[1]["queue"] == {}


@pytest.mark.parametrize("path", ["/webhooks/forgejo", "/webhooks/forgejo/anything"])
async def test_a_github_delivery_sent_to_a_forgejo_endpoint_is_refused(bot, github, path):
    github.add_pr("org/app", 3, files=["docs/a.md"])
    status, _ = await bot.deliver(github.webhook("pull_request", "opened", "org/app", 3), path)
    assert status in (400, 401)
    assert (await bot.health())[1]["queue"] == {}
