import signal

import pytest
import pytest_asyncio

from tests.browser import browser  # noqa: F401  (the fixture: a real headless Chromium)
from tests.fakes.github import FakeGitHub, app_private_key
from tests.redis_server import RedisServer


def pytest_collection_modifyitems(items):
    """Every test that uses the ``browser`` fixture is marked ``browser`` (``-m "not browser"``)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def github_private_key() -> str:
    """The GitHub App's RSA private key (PEM), generated once per session."""
    return app_private_key()


@pytest_asyncio.fixture
async def fake_github(github_private_key):
    """A fresh fake GitHub serving on 127.0.0.1; ``fake_github.url`` is its API base URL."""
    fake = FakeGitHub(private_key=github_private_key)
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def fake_forgejo():
    """A fresh fake Forgejo serving on 127.0.0.1 (page cap 50, Link headers on); ``fake_forgejo.url`` is its root."""
    from tests.fakes.forgejo import FakeForgejo

    fake = FakeForgejo()
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture(params=["github", "forgejo"])
async def world(request, tmp_path, github_private_key):
    """The real bot and one fake forge (tests/world.py): every end-to-end test runs on GitHub and on
    Forgejo. ``@only("github")`` (from tests.world) keeps a test on one forge. At the end, the fake
    must have seen nothing its API description rejects."""
    from tests.fakes.forgejo import FakeForgejo
    from tests.fakes.github import FakeGitHub
    from tests.world import WORLDS

    fake = FakeGitHub(private_key=github_private_key) if request.param == "github" else FakeForgejo()
    await fake.start()
    w = WORLDS[request.param](fake, tmp_path)
    try:
        await w.start()
        yield w
    finally:
        await w.stop()
        await fake.stop()
    assert fake.violations == [], fake.violations


@pytest_asyncio.fixture
async def redis_server(tmp_path):
    """A real redis-server (AOF, fsync always) on a free port, in the test's directory."""
    server = await RedisServer(tmp_path / "redis").start()
    yield server
    await server.stop(signal.SIGKILL)

