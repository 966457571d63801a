"""Config changes are checked in their own pull request, end to end on both forges: the head version
is validated (errors at their line; refused weakenings as warnings), its effect is previewed on the
open pull requests it governs, and the config in force stays the base branch's until it merges."""

from __future__ import annotations

from bot.config import default_config_text

from .world import ORG_CONFIG_REPO, REPO

REPO_FILE = ".github/nexus.yml"
BDD_REQUIRED = "items:\n  - id: bdd-tests\n    severity: required\n"


async def config_pr(world, number: int, text: str | None, *, path: str = REPO_FILE, repo: str = REPO) -> None:
    """A pull request changing the config file ``path`` to ``text`` (None: deleting it)."""
    world.open_pr(number, files=[(path, "removed") if text is None else path, "CHANGELOG.md"], repo=repo)
    if text is not None:
        world.set_repo_file(path, text, ref=world.head(number, repo=repo), repo=repo)
    assert await world.send("opened", number, repo=repo) == 202
    await world.settle()


async def others(world, numbers, repo: str = REPO) -> None:
    for n in numbers:
        world.open_pr(n, files=["docs/guide.md", "CHANGELOG.md"], repo=repo)
        assert await world.send("opened", n, repo=repo) == 202
    await world.settle()


async def test_an_invalid_config_fails_its_check_at_the_line(world):
    await config_pr(world, 1, "review:\n  min_approvals: 1\n  dismis_stale: true\n")
    check = world.config_check(1)
    assert check.state == "failure" and "review.dismis_stale" in check.title
    if world.forge == "github":
        [a] = check.annotations
        assert (a["path"], a["start_line"], a["annotation_level"]) == (REPO_FILE, 3, "failure")
        assert "unknown setting" in a["message"]
    else:
        assert f"{REPO_FILE}:3: review.dismis_stale: unknown setting" in check.summary
    assert world.item(1, "changelog")["state"] == "passed"  # its DoD is judged as usual, by the base's config


async def test_a_valid_change_is_previewed_on_the_open_pull_requests_it_governs(world):
    await others(world, [2, 3])
    world.open_pr(4, files=["docs/a.md"], repo="org/infra")  # another repository: not governed by this file
    await config_pr(world, 5, BDD_REQUIRED)
    check = world.config_check(5)
    assert check.state == "success" and check.title == "Valid · 2 of 2 open pull requests would change"
    assert "bdd-tests: pending (advisory) → pending" in check.summary
    assert f"{REPO}#2" in check.summary and f"{REPO}#3" in check.summary and "org/infra#4" not in check.summary
    assert world.item(5, "bdd-tests")["required"] is False  # not in force before it is merged


async def test_a_refused_weakening_is_a_warning_at_its_line(world):
    await others(world, [6])
    await config_pr(world, 7, BDD_REQUIRED + "  - id: tests\n    enabled: false\n")
    check = world.config_check(7)
    assert check.state == "neutral" and check.title.startswith("Valid, 1 change(s) refused")
    if world.forge == "github":
        [a] = check.annotations
        assert (a["path"], a["start_line"], a["annotation_level"]) == (REPO_FILE, 5, "warning")
    assert "line 5: `items[tests].enabled: refused, the organisation's rule applies" in check.summary


async def test_the_preview_is_bounded(world):
    await others(world, range(10, 35))
    await config_pr(world, 40, BDD_REQUIRED)
    check = world.config_check(40)
    assert check.title == "Valid · 20 of 20 open pull requests would change"

    assert sum(1 for n in range(10, 35) if f"{REPO}#{n}]" in check.summary) == 20


async def test_an_organisation_config_change_is_previewed_across_repositories(world):
    await others(world, [50])
    await others(world, [51], repo="org/infra")
    world.set_org_config(default_config_text()[1])
    changed = default_config_text()[1].replace("    title: CHANGELOG.md updated\n",
                                               "    title: CHANGELOG.md updated\n    severity: advisory\n", 1)
    await config_pr(world, 52, changed, path="nexus.yml", repo=ORG_CONFIG_REPO)
    check = world.config_check(52, repo=ORG_CONFIG_REPO)
    assert check.state == "success"
    assert f"{REPO}#50" in check.summary and "org/infra#51" in check.summary
    assert "changelog: passed → passed (advisory)" in check.summary


async def test_a_pull_request_that_changes_no_config_gets_no_config_check(world):
    await others(world, [60])
    assert world.config_check(60) is None
