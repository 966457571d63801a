import pytest
import pytest_asyncio

from tests.fakes.github import FakeGitHub, app_private_key


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
