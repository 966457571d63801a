"""The NIT owns the DoD, end to end on both forges: the organisation's config is read from its
``.github`` repository, a push that changes it applies at once, a repository's file may tighten it
but never weaken it (refusals named line by line in the report), and a broken organisation file
never weakens the DoD."""

from __future__ import annotations

from bot.config import default_config_text

from .test_e2e_dod import green
from .world import ORG_CONFIG_REPO, only

ORG = default_config_text()[1]
ADVISORY_CHANGELOG = ORG.replace("    title: CHANGELOG.md updated\n", "    title: CHANGELOG.md updated\n    severity: advisory\n", 1)
BROKEN = ORG.replace("  min_approvals: 1\n", "  min_approvals: lots\n", 1)
BROKEN_LINE = BROKEN.splitlines().index("  min_approvals: lots") + 1


async def opened(world, number: int, files=("docs/guide.md",), **kw) -> None:
    world.open_pr(number, files=list(files), **kw)
    assert await world.send("opened", number) == 202
    await world.settle()


async def edited(world, number: int) -> None:
    """An event that makes the bot judge the PR again (its body was edited)."""
    assert await world.send("edited", number, changes={"body": {"from": ""}}) == 202
    await world.settle()


async def pushed_org_config(world, text: str) -> None:
    world.set_org_config(text)
    assert await world.send("push", repo=ORG_CONFIG_REPO, paths=["nexus.yml"]) == 202
    await world.settle()


async def test_the_organisation_config_is_read_from_its_github_repository(world):
    world.set_org_config(ADVISORY_CHANGELOG)
    await opened(world, 1)
    assert world.item(1, "changelog")["required"] is False


async def test_a_push_changing_the_organisation_config_applies_at_once(world):
    await opened(world, 2)
    assert world.item(2, "changelog")["required"] is True  # no org file: the embedded config

    world.set_org_config(ADVISORY_CHANGELOG)  # changed, but nobody told the bot yet: still cached
    await edited(world, 2)
    assert world.item(2, "changelog")["required"] is True

    await pushed_org_config(world, ADVISORY_CHANGELOG)
    await edited(world, 2)
    assert world.item(2, "changelog")["required"] is False


async def test_a_push_elsewhere_changes_nothing(world):
    world.set_org_config(ADVISORY_CHANGELOG)
    await opened(world, 3)
    reads = world.fake.count("GET", r"/\.github/(contents|raw)/nexus\.yml")
    assert await world.send("push", repo=ORG_CONFIG_REPO, paths=["README.md"]) == 202
    assert await world.send("push", repo=ORG_CONFIG_REPO, paths=["nexus.yml"], ref="refs/heads/draft") == 202
    await world.settle()
    await edited(world, 3)
    assert world.fake.count("GET", r"/\.github/(contents|raw)/nexus\.yml") == reads  # still the cached one


async def test_a_repository_may_tighten_but_its_weakenings_are_refused_line_by_line(world):
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: tests\n    enabled: false\n"
                                             "  - id: benchmarks\n    severity: advisory\n"
                                             "  - id: coverage\n    evidence:\n"
                                             "      - {kind: metric, names: ['coverage*backend*'], op: '>=', threshold: 95, unit: '%', when: {teams_any: [backend]}}\n"
                                             "      - {kind: metric, names: ['coverage*frontend*'], op: '>=', threshold: 80, unit: '%', when: {teams_any: [frontend]}}\n"
                                             "review:\n  min_approvals: 0\n")
    world.open_pr(4, files=["backend/src/a.rs", "CHANGELOG.md"])
    world.ci(world.head(4), "coverage backend", "success", "Coverage: 92.0 %")
    assert await world.send("opened", 4) == 202
    await world.settle()

    assert world.item(4, "tests")["state"] == "pending"  # still applies: the organisation's rule
    assert world.item(4, "benchmarks")["required"] is True
    assert world.item(4, "coverage")["state"] == "failed"  # 92 % against the repository's stricter 95
    assert world.item(4, "approved-pr")["reason"].startswith("0/1 approvals")
    notices = world.published(4)["notices"]
    assert [n.split(": refused")[0] for n in notices] == [
        ".github/nexus.yml:3: items[tests].enabled", ".github/nexus.yml:5: items[benchmarks].severity",
        ".github/nexus.yml:11: review.min_approvals"]
    assert "The configuration in force is not quite the one written" in world.report(4).summary


async def test_a_broken_organisation_config_keeps_its_last_good_version(world):
    await pushed_org_config(world, ADVISORY_CHANGELOG)
    await opened(world, 5)
    assert world.item(5, "changelog")["required"] is False

    await pushed_org_config(world, BROKEN)
    await edited(world, 5)
    assert world.item(5, "changelog")["required"] is False  # the last good version, not the embedded one
    [notice] = world.published(5)["notices"]
    assert f"org/.github/nexus.yml:{BROKEN_LINE}: review.min_approvals" in notice
    assert "last good version applies" in notice


async def test_without_any_good_version_the_dod_fails_with_the_error(world):
    world.set_org_config(BROKEN)
    world.open_pr(6, files=["docs/guide.md", "CHANGELOG.md"])
    green(world, world.head(6))
    world.review(6, "bob", "APPROVED")
    assert await world.send("opened", 6) == 202
    await world.settle()
    assert world.state(6) == "failure"  # never weaker than the DoD: no verdict at all is a failure
    assert f"org/.github/nexus.yml:{BROKEN_LINE}: review.min_approvals" in world.report(6).summary


async def test_a_retargeted_pull_request_is_judged_at_once_under_its_new_base(world):
    """Moving a PR to another base branch re-judges it under that branch's config, at once: the
    verdict of the old base is not left standing."""
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: docs\n    severity: required\n", ref="release/1")
    world.open_pr(7, files=["docs/guide.md", "CHANGELOG.md"], labels=["feature"])
    green(world, world.head(7))
    world.review(7, "bob", "APPROVED")
    assert await world.send("opened", 7) == 202
    await world.settle()
    assert world.state(7) == "success" and world.item(7, "docs")["required"] is False

    old = world.retarget(7, "release/1")
    assert await world.send("edited", 7, changes=world.retargeted(old)) == 202
    await world.settle()
    assert world.item(7, "docs")["required"] is True  # release/1's own rule


@only("github")  # merge queues are GitHub's alone
async def test_a_merge_group_gets_the_dod_check_on_its_commit(world):
    world.open_pr(8, files=["docs/guide.md", "CHANGELOG.md"])
    green(world, world.head(8))
    world.review(8, "bob", "APPROVED")
    world.open_pr(9, files=["docs/guide.md"])  # no CHANGELOG: not Done
    green(world, world.head(9))
    world.review(9, "bob", "APPROVED")

    assert await world.send("merge_group", 8, sha="a" * 40) == 202
    assert await world.send("merge_group", 9, sha="b" * 40) == 202
    await world.settle()
    [done] = world.fake.check_runs_for("org/app", "a" * 40, "Nexus DoD")
    assert done["conclusion"] == "success" and done["output"]["title"].startswith("#8 is Done")
    [not_done] = world.fake.check_runs_for("org/app", "b" * 40, "Nexus DoD")
    assert not_done["conclusion"] == "failure" and "`changelog`" in not_done["output"]["summary"]
    assert not_done["output"]["title"].startswith("#9 is not Done")
