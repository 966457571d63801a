"""Cross-team review end to end (NEXUS.md "Cross-team review"): signed webhooks over HTTP to the real
service, a fake forge on a real socket, and assertions on what the bot published (item 5, "reviews"),
the labels it set and the reviews it asked for. Every test runs on GitHub and on Forgejo (the
``world`` fixture, tests/world.py) unless marked ``@only(...)``.

The people: alice writes the pull requests and is in Backend; bob is Backend, fay and finn are
Frontend, carol is in both, ivan is Infra. Waiting for people is shown as *pending*, never as
failure; a "changes requested" is a failure.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import default_config_text

from .world import only

CROSS = ["backend/src/expenses.rs", "frontend/src/App.svelte", "CHANGELOG.md"]
BACKEND_ONLY = ["backend/src/expenses.rs", "CHANGELOG.md"]
FRONTEND_ONLY = ["frontend/src/App.svelte", "CHANGELOG.md"]


def people(world) -> None:
    world.team("backend", ["alice", "bob", "carol"])
    world.team("frontend", ["fay", "finn", "carol"])
    world.team("infra", ["ivan"])


async def opened(world, number: int, files=CROSS, **kw) -> None:
    world.open_pr(number, files=files, **kw)
    assert await world.send("opened", number) == 202
    await world.settle()


async def reviewed(world, number: int, user: str, state: str = "APPROVED") -> int:
    review_id = world.review(number, user, state)
    assert await world.send("review", number, review_id=review_id) == 202
    await world.settle()
    return review_id


async def pushed(world, number: int, files) -> str:
    sha = world.push(number, files)
    await world.send("synchronize", number)
    await world.settle()
    return sha


def reviews(world, number: int) -> dict:
    return world.item(number, "reviews")


def team_requests(world) -> list[str]:
    """Every team the bot asked for a review, once per time it asked."""
    return [team for call in world.writes_to(r"/requested_reviewers$") for team in call.body["team_reviewers"]]


async def restart_with(world, **settings) -> None:
    """The bot restarted with these environment variables (the queue and its marks are kept)."""
    await world.stop()
    world.settings.update(settings)
    await world.start()


# ---- one approval per touched team, two reviewers at least -------------------------------------

async def test_one_backend_approval_leaves_frontend_missing_and_waits(world):
    people(world)
    await opened(world, 1)
    await reviewed(world, 1, "bob")
    item = reviews(world, 1)
    assert item["state"] == "pending"  # waiting for people: pending, never a failure
    assert "1/2 approvals (bob)" in item["reason"]
    assert "Backend: bob" in item["reason"] and "Frontend: approval still needed" in item["reason"]
    assert item["reason"].endswith("waiting for someone from Frontend")


async def test_a_frontend_approval_completes_the_cross_team_review(world):
    people(world)
    await opened(world, 2)
    await reviewed(world, 2, "bob")
    await reviewed(world, 2, "fay")
    item = reviews(world, 2)
    assert item["state"] == "passed", item
    assert "2/2 approvals (bob, fay)" in item["reason"]
    assert "Backend: bob" in item["reason"] and "Frontend: fay" in item["reason"]


async def test_a_member_of_both_teams_alone_is_not_two_reviewers(world):
    people(world)
    await opened(world, 3)
    await reviewed(world, 3, "carol")
    item = reviews(world, 3)
    assert item["state"] == "pending"
    assert "1/2 approvals (carol)" in item["reason"]
    assert "Backend: carol" in item["reason"] and "Frontend: carol" in item["reason"]  # counts for both teams
    assert item["reason"].endswith("waiting for 1 more reviewer(s)")

    await reviewed(world, 3, "bob")
    assert reviews(world, 3)["state"] == "passed"


async def test_the_authors_approval_counts_for_nothing(world):
    people(world)
    await opened(world, 4)  # alice, a Backend member, wrote it
    await reviewed(world, 4, "alice")
    await reviewed(world, 4, "fay")
    item = reviews(world, 4)
    assert item["state"] == "pending"
    assert "1/2 approvals (fay)" in item["reason"] and "ignored: alice (author)" in item["reason"]
    assert "Backend: approval still needed" in item["reason"]  # her own team needs someone else

    await reviewed(world, 4, "bob")
    assert reviews(world, 4)["state"] == "passed"


async def test_the_authors_approval_does_not_pass_a_single_team_change(world):
    people(world)
    await opened(world, 5, files=BACKEND_ONLY)
    await reviewed(world, 5, "alice")
    item = reviews(world, 5)
    assert item["state"] == "pending" and item["reason"].startswith("0/1 approvals")
    assert world.item(5, "approved-pr")["state"] == "pending"


async def test_changes_requested_by_the_same_reviewer_withdraws_the_approval(world):
    people(world)
    await opened(world, 6)
    await reviewed(world, 6, "bob")
    await reviewed(world, 6, "fay")
    assert reviews(world, 6)["state"] == "passed"

    await reviewed(world, 6, "fay", "CHANGES_REQUESTED")
    item = reviews(world, 6)
    assert item["state"] == "failed"
    assert item["reason"].startswith("changes requested by fay")
    assert "1/2 approvals (bob)" in item["reason"] and "Frontend: approval still needed" in item["reason"]
    assert world.state(6) == "failure"

    await reviewed(world, 6, "fay")  # approves again once it is fixed
    assert reviews(world, 6)["state"] == "passed"


async def test_a_plain_comment_review_leaves_the_approval_standing(world):
    people(world)
    await opened(world, 7)
    await reviewed(world, 7, "bob")
    await reviewed(world, 7, "fay")
    await reviewed(world, 7, "fay", "COMMENTED")
    world.comment(7, "alice", "/nexus dod")  # re-evaluate even if the comment review was skipped
    await world.send("comment", 7)
    await world.settle()
    assert reviews(world, 7)["state"] == "passed"


async def test_a_single_team_change_needs_the_configured_minimum(world):
    people(world)
    world.set_repo_file(".github/nexus.yml", "review:\n  min_approvals: 2\n")
    await opened(world, 8, files=BACKEND_ONLY)
    await reviewed(world, 8, "bob")
    item = reviews(world, 8)
    assert item["state"] == "pending" and item["reason"].startswith("1/2 approvals (bob)")
    assert "Backend:" not in item["reason"]  # no per-team accounting for a single team

    await reviewed(world, 8, "fay")  # any second reviewer will do
    assert reviews(world, 8)["state"] == "passed"


async def test_the_nexus_label_makes_a_single_team_change_cross_team(world):
    people(world)
    await opened(world, 9, files=BACKEND_ONLY, labels=["nexus"])
    await reviewed(world, 9, "bob")
    item = reviews(world, 9)
    assert item["state"] == "pending" and item["reason"].startswith("1/2 approvals (bob)")


async def test_teams_listed_in_the_config_need_no_forge_team(world):
    """Who is in a team is the organisation's to say: its config (org/.github) lists Frontend's members."""
    people(world)
    world.set_org_config(default_config_text()[1].replace(
        '    name: Frontend\n', '    name: Frontend\n    members: [zoe]\n', 1))
    await opened(world, 10)
    before = world.membership_requests()
    await reviewed(world, 10, "bob")
    await reviewed(world, 10, "fay")  # in the forge team, not in the config's list
    assert "Frontend: approval still needed" in reviews(world, 10)["reason"]

    await reviewed(world, 10, "zoe")
    item = reviews(world, 10)
    assert item["state"] == "passed" and "Frontend: zoe" in item["reason"]
    assert world.membership_requests() == before  # the forge's frontend team was never asked for


# ---- stale approvals and dismissals ----------------------------------------------------------------

async def test_approvals_of_an_older_commit_are_kept_by_default(world):
    people(world)
    await opened(world, 11)
    await reviewed(world, 11, "bob")
    await reviewed(world, 11, "fay")
    await pushed(world, 11, CROSS)
    assert world.published(11)["head_sha"] == world.head(11)
    assert reviews(world, 11)["state"] == "passed"


async def test_with_dismiss_stale_an_approval_of_an_older_commit_no_longer_counts(world):
    people(world)
    world.set_repo_file(".github/nexus.yml", "review:\n  dismiss_stale: true\n")
    await opened(world, 12)
    await reviewed(world, 12, "bob")
    await reviewed(world, 12, "fay")
    assert reviews(world, 12)["state"] == "passed"

    await pushed(world, 12, CROSS)
    item = reviews(world, 12)
    assert item["state"] == "pending"
    assert "0/2 approvals" in item["reason"]
    assert "ignored: bob (older commit), fay (older commit)" in item["reason"]

    await reviewed(world, 12, "fay")  # fay approves the new head; bob's approval is still of the old one
    item = reviews(world, 12)
    assert item["state"] == "pending" and "Frontend: fay" in item["reason"]
    assert "Backend: approval still needed" in item["reason"]


async def test_a_dismissed_approval_no_longer_counts(world):
    people(world)
    await opened(world, 13)
    bobs = await reviewed(world, 13, "bob")
    await reviewed(world, 13, "fay")
    assert reviews(world, 13)["state"] == "passed"

    world.dismiss_review(13, bobs)
    if world.supports("review_dismissed"):
        await world.send("review_dismissed", 13, review_id=bobs, sender="maintainer")
    else:  # Forgejo announces no dismissal: the bot sees it at the next event on the pull request
        world.comment(13, "alice", "/nexus dod")
        await world.send("comment", 13)
    await world.settle()
    item = reviews(world, 13)
    assert item["state"] == "pending" and "Backend: approval still needed" in item["reason"]


# ---- who owns what: config paths and CODEOWNERS ---------------------------------------------------

# Without CODEOWNERS, workflows are nobody's: the repository's config keeps Infra to infra/.
# The organisation's config (org/.github) without .github/workflows/ in Infra's paths: only CODEOWNERS
# can make a workflow change Infra's. Who owns a path is the organisation's to say, not a repository's.
INFRA_WITHOUT_WORKFLOWS = default_config_text()[1].replace(
    'paths: ["infra/", ".github/workflows/", "deploy/"]', 'paths: ["infra/"]', 1)
# GitHub's CODEOWNERS patterns are gitignore patterns, Forgejo's are anchored regular expressions: an
# exact path reads the same in both (see test_forgejo_codeowners_patterns_are_regular_expressions).
WORKFLOWS_TO = {
    "github": "# owners\n/.github/workflows/ @org/{team}\n",
    "forgejo": "# owners\n.github/workflows/ci.yml @org/{team}\n",
}
CODEOWNERS_PLACES = {  # where each forge looks, in its order: the first found is the one read
    "github": {"forge dir": ".github/CODEOWNERS", "root": "CODEOWNERS", "docs": "docs/CODEOWNERS"},
    "forgejo": {"root": "CODEOWNERS", "docs": "docs/CODEOWNERS", "forge dir": ".forgejo/CODEOWNERS"},
}
WORKFLOW_AND_BACKEND = [".github/workflows/ci.yml", "backend/src/expenses.rs", "CHANGELOG.md"]


def codeowners(world, team: str = "infra") -> str:
    return WORKFLOWS_TO[world.forge].format(team=team)


@pytest.mark.parametrize("place", ["root", "forge dir", "docs"])
async def test_codeowners_makes_a_workflow_change_an_infra_change(world, place):
    people(world)
    world.set_org_config(INFRA_WITHOUT_WORKFLOWS)
    world.set_repo_file(CODEOWNERS_PLACES[world.forge][place], codeowners(world))
    await opened(world, 20, files=WORKFLOW_AND_BACKEND)
    assert {"team:infra", "team:backend", "nexus"} <= world.labels(20)  # backend/ from the config's paths
    assert world.requested_teams(20) == {"infra", "backend"}

    await reviewed(world, 20, "bob")
    item = reviews(world, 20)
    assert item["state"] == "pending" and "Infra: approval still needed" in item["reason"]
    await reviewed(world, 20, "ivan")
    assert reviews(world, 20)["state"] == "passed"


async def test_the_first_codeowners_file_in_the_forges_order_wins(world):
    people(world)
    first, second = list(CODEOWNERS_PLACES[world.forge].values())[:2]
    world.set_repo_file(first, codeowners(world, "infra"))
    world.set_repo_file(second, codeowners(world, "frontend"))
    await opened(world, 24, files=WORKFLOW_AND_BACKEND)
    labels = world.labels(24)
    assert "team:infra" in labels and "team:frontend" not in labels


@only("forgejo")
async def test_forgejo_codeowners_patterns_are_regular_expressions(world):
    people(world)
    world.set_org_config(INFRA_WITHOUT_WORKFLOWS)
    world.set_repo_file("CODEOWNERS", "\\.github/workflows/.* @org/infra\n")  # Forgejo's own syntax
    await opened(world, 25, files=WORKFLOW_AND_BACKEND)
    assert "team:infra" in world.labels(25)


async def test_codeowners_on_a_feature_branch_changes_nothing(world):
    people(world)
    world.set_org_config(INFRA_WITHOUT_WORKFLOWS)
    world.set_repo_file("CODEOWNERS", codeowners(world), ref="feature-21")
    await opened(world, 21, files=WORKFLOW_AND_BACKEND)
    assert "team:infra" not in world.labels(21) and "nexus" not in world.labels(21)


async def test_with_ownership_source_config_codeowners_is_ignored(world):
    people(world)
    world.set_org_config(INFRA_WITHOUT_WORKFLOWS.replace("ownership_source: codeowners", "ownership_source: config", 1))
    world.set_repo_file("CODEOWNERS", codeowners(world))
    await opened(world, 22, files=WORKFLOW_AND_BACKEND)
    labels = world.labels(22)
    assert "team:backend" in labels and "team:infra" not in labels and "nexus" not in labels
    assert world.requested_teams(22) == set()

    await reviewed(world, 22, "bob")
    item = reviews(world, 22)
    assert item["state"] == "passed" and item["reason"] == "1/1 approvals (bob)"


async def test_config_paths_alone_make_a_workflow_change_an_infra_change(world):
    """The organisation's config gives .github/workflows/ to Infra: no CODEOWNERS needed."""
    people(world)
    await opened(world, 23, files=WORKFLOW_AND_BACKEND)
    assert {"team:infra", "team:backend", "nexus"} <= world.labels(23)


# ---- review requests -----------------------------------------------------------------------------

async def test_review_requests_go_out_once_per_team(world):
    people(world)
    await opened(world, 30)
    assert world.requested_teams(30) == {"backend", "frontend"}
    evaluations = world.bot.worker.evaluations
    await world.send("review_requested", 30, sender="alice")  # someone asks a person too: re-evaluated
    await world.settle()
    assert world.bot.worker.evaluations == evaluations + 1
    await world.send("edited", 30, sender="alice")
    await world.settle()
    await pushed(world, 30, [*CROSS, "frontend/src/Other.svelte"])
    await reviewed(world, 30, "finn", "CHANGES_REQUESTED")
    await reviewed(world, 30, "bob")
    assert sorted(team_requests(world)) == ["backend", "frontend"]  # asked once, not at every event
    assert world.bot.worker.evaluations >= 5


async def test_a_team_that_has_approved_is_not_asked(world):
    people(world)
    await opened(world, 31, files=BACKEND_ONLY)
    assert team_requests(world) == []  # a single-team change asks nobody
    await reviewed(world, 31, "bob")

    await pushed(world, 31, CROSS)  # now Frontend's code too
    assert team_requests(world) == ["frontend"]
    assert world.requested_teams(31) == {"frontend"}


async def test_no_review_requests_when_switched_off(world):
    people(world)
    world.set_repo_file(".github/nexus.yml", "review:\n  request_reviews: false\n")
    await opened(world, 32)
    assert team_requests(world) == [] and world.requested_teams(32) == set()


# ---- the nexus label -------------------------------------------------------------------------------

async def test_the_nexus_label_follows_a_push_that_makes_the_change_single_team(world):
    people(world)
    await opened(world, 40)
    assert "nexus" in world.labels(40)
    assert reviews(world, 40)["reason"].startswith("0/2 approvals")

    await reviewed(world, 40, "fay")
    await pushed(world, 40, FRONTEND_ONLY)
    assert "nexus" not in world.labels(40) and "team:backend" not in world.labels(40)
    item = reviews(world, 40)  # judged as the single-team change it now is
    assert item["state"] == "passed" and item["reason"] == "1/1 approvals (fay)", item


async def test_a_nexus_label_set_by_a_person_stays(world):
    people(world)
    await opened(world, 41, files=FRONTEND_ONLY, labels=["nexus"])
    await pushed(world, 41, [*FRONTEND_ONLY, "frontend/src/Other.svelte"])
    assert "nexus" in world.labels(41)
    assert [call for call in world.writes_to(r"/labels") if call.method == "DELETE"] == []  # none removed

    world.open_pr(42, files=CROSS, labels=["nexus"])  # cross-team, and a person said so first
    await world.send("opened", 42)
    await world.settle()
    await pushed(world, 42, FRONTEND_ONLY)
    assert "nexus" in world.labels(42)
    assert reviews(world, 42)["reason"].startswith("0/2 approvals")  # the label still makes it cross-team


# ---- team membership look-ups ------------------------------------------------------------------------

async def test_a_burst_of_review_events_asks_for_each_team_once(world):
    people(world)
    await opened(world, 50)
    assert world.membership_requests() == 2  # backend and frontend
    reviewers = [f"r{n}" for n in range(50)]
    for wave in range(5):  # five bursts of ten, each its own evaluation
        sends = []
        for user in reviewers[wave * 10:(wave + 1) * 10]:
            review_id = world.review(50, user, "APPROVED")
            sends.append(world.send("review", 50, review_id=review_id))
        assert set(await asyncio.gather(*sends)) == {202}
        await world.settle()
    assert world.bot.worker.evaluations >= 6
    assert world.membership_requests() == 2  # at most once per team per TTL
    assert "50/2 approvals" in reviews(world, 50)["reason"]


async def test_a_membership_change_is_seen_once_the_ttl_has_expired(world, tmp_path, request):
    name, text = default_config_text()
    org = tmp_path / "org.yml"
    org.write_text(text.replace("membership_ttl_seconds: 600", "membership_ttl_seconds: 1"))
    await restart_with(world, NEXUS_CONFIG=str(org))  # the TTL is the organisation's, read at start

    people(world)
    await opened(world, 51)
    fetched = time.monotonic()
    await reviewed(world, 51, "bob")
    await reviewed(world, 51, "gus")  # not in Frontend yet
    assert "Frontend: approval still needed" in reviews(world, 51)["reason"]

    world.team("frontend", ["fay", "finn", "carol", "gus"])  # gus joins Frontend
    await reviewed(world, 51, "bob")  # any event within the TTL: the cached members still count
    assert time.monotonic() - fetched < 1, "the machine is too slow for a 1 s TTL"
    assert "Frontend: approval still needed" in reviews(world, 51)["reason"]

    await asyncio.sleep(1.05)  # the TTL expires
    await reviewed(world, 51, "bob")
    item = reviews(world, 51)
    assert item["state"] == "passed" and "Frontend: gus" in item["reason"]
