"""The organisation config read from its repository: a broken version never weakens the DoD, and the
last good version outlives a restart (it is kept in the bot's store)."""

from __future__ import annotations

import pytest

from bot.app.org_config import OrgConfigs
from bot.config import ConfigError, default_config_text
from bot.forges.base import ForgeError
from bot.service.store_sqlite import SqliteStore

ORG = default_config_text()[1]
STRICT = ORG.replace("  min_approvals: 1\n", "  min_approvals: 3\n", 1)
BROKEN = ORG.replace("  min_approvals: 1\n", "  min_approvals: lots\n", 1)


class Files:
    """A forge holding one organisation file (or none, or failing)."""

    def __init__(self, text: str | None = None, error: ForgeError | None = None):
        self.text, self.error, self.reads = text, error, []

    async def files_present(self, repo: str, ref: str, paths: tuple[str, ...]) -> set[str] | None:
        return None

    async def file_at(self, repo: str, path: str, ref: str) -> str | None:
        self.reads.append((repo, path, ref))
        if self.error:
            raise self.error
        return self.text


def configs(store: Store | None = None) -> OrgConfigs:
    return OrgConfigs(default_config_text(), store, ttl=300)


async def test_the_file_of_the_owners_config_repository_applies():
    forge = Files(STRICT)
    org = await configs().read(forge, "github", "acme")
    assert org.in_force().review.min_approvals == 3 and org.source[0] == "acme/.github/nexus.yml"
    assert forge.reads == [("acme/.github", "nexus.yml", "")]


@pytest.mark.parametrize("forge", [Files(None), Files(error=ForgeError("404", status=404))],
                         ids=["no file", "no repository the bot may read"])
async def test_without_an_organisation_file_the_default_applies(forge):
    org = await configs().read(forge, "github", "acme")
    assert org.config.review.min_approvals == 1 and org.error is None


async def test_a_transient_failure_is_not_taken_for_a_missing_file():
    with pytest.raises(ForgeError):
        await configs().read(Files(error=ForgeError("502", status=502)), "github", "acme")


async def test_the_last_good_version_outlives_a_restart(tmp_path):
    store = SqliteStore(str(tmp_path / "bot.sqlite3"))
    await configs(store).read(Files(STRICT), "github", "acme")
    await store.close()

    store = SqliteStore(str(tmp_path / "bot.sqlite3"))  # a new process: nothing cached in memory
    org = await configs(store).read(Files(BROKEN), "github", "acme")
    assert org.in_force().review.min_approvals == 3  # the last good, never the (weaker) default
    assert isinstance(org.error, ConfigError) and org.error.line is not None
    assert "last good version applies" in str(org.in_force().notices[0])


async def test_with_no_good_version_at_all_nothing_is_in_force(tmp_path):
    org = await configs(SqliteStore(str(tmp_path / "bot.sqlite3"))).read(Files(BROKEN), "github", "acme")
    with pytest.raises(ConfigError, match="acme/.github/nexus.yml:"):
        org.in_force()
