"""Replicas on Redis share their conditional reads: what one replica has read from GitHub, another
asks with the ETag, and GitHub answers 304, which costs no quota. Two GitHub Apps (two processes)
against the fake GitHub, each with the rate-limit budget of its own store on one real redis-server;
on SQLite (one process serves the forge) nothing is shared and nothing is lost."""

from __future__ import annotations

from bot.forges.github import GitHubApp
from bot.forges.github_http import RetryPolicy
from bot.service.budget import Budget
from bot.service.metrics import Metrics
from bot.service.store_redis import RedisStore
from bot.service.store_sqlite import SqliteStore

REPO = "org/app"
FAST = RetryPolicy(backoff=0.01, max_wait=5)


def replica(fake, store):
    return GitHubApp(fake.app_id, fake.private_key, fake.url, retry=FAST, traffic=Budget(store, Metrics()))


async def test_a_read_one_replica_made_is_free_for_the_other(fake_github, redis_server):
    fake_github.add_issue(REPO, 3, "Approval e-mail", "As a syndic…", "alice", ["team:backend"])
    fake_github.add_comment(REPO, 3, "carol", "Depends on #4")
    stores = [RedisStore(redis_server.url, name) for name in ("a", "b")]
    apps = [replica(fake_github, s) for s in stores]
    try:
        first = await apps[0].forge_for(fake_github.installation_id).issue(REPO, 3)
        charged = fake_github.charged
        second = await apps[1].forge_for(fake_github.installation_id).issue(REPO, 3)
        assert second.title == first.title and second.comments == first.comments
        reads = [r for r in fake_github.requests if r.method == "GET" and "/issues/3" in r.path]
        assert [r.status for r in reads] == [200, 200, 304, 304]  # issue and comments: read, then asked again
        assert fake_github.charged - charged == 1  # its own installation token only: the reads cost nothing
        fake_github.add_comment(REPO, 3, "dave", "And on #5")  # the forge moves on: the ETag no longer matches
        third = await apps[1].forge_for(fake_github.installation_id).issue(REPO, 3)
        assert len(third.comments) == 2
    finally:
        for app, store in zip(apps, stores):
            await app.aclose()
            await store.close()


async def test_on_sqlite_nothing_is_shared(fake_github, tmp_path):
    store = SqliteStore(str(tmp_path / "bot.sqlite3"))
    fake_github.add_issue(REPO, 3, "Approval e-mail", "", "alice", [])
    apps = [replica(fake_github, store) for _ in range(2)]
    try:
        for app in apps:
            await app.forge_for(fake_github.installation_id).issue(REPO, 3)
        reads = [r.status for r in fake_github.requests if r.method == "GET" and r.path.endswith("/issues/3")]
        assert reads == [200, 200]
    finally:
        for app in apps:
            await app.aclose()
        await store.close()
