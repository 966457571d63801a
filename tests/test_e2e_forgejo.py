"""What only Forgejo and Gitea do, end to end through ``/webhooks/forgejo``: their signature and
headers, their event names, the page cap, labels created by id, the verdict as a commit status plus
one sticky comment, no event when CI finishes, repositories without an organisation, and several
instances. The scenarios both forges share are in tests/test_e2e_dod.py."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.forges.forgejo import STATUS_DESCRIPTION_MAX, STICKY_MARKER

from .world import REPO, ForgejoWorld, only

pytestmark = only("forgejo")

GREEN_CI = ["tests", "lint", "unit-tests", "security: cargo audit", "deploy staging (smoke)"]


def green(world, sha):
    for name in GREEN_CI:
        world.ci(sha, name, "success")


async def nothing_reached_the_forge(world) -> bool:
    return world.fake.requests == [] and (await world.bot.store.counts()) == {}


# ---- signatures and headers -----------------------------------------------------------------------


async def test_a_signature_in_bare_hex_is_accepted(world):
    world.open_pr(1, files=["docs/a.md"])
    headers, body = world.delivery("opened", 1)
    assert len(headers["X-Forgejo-Signature"]) == 64 and "=" not in headers["X-Forgejo-Signature"]
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.state(1) == "failure"


@pytest.mark.parametrize("signature", [
    "0" * 64,
    "",
    "sha256={good}",
    "{good}00",
], ids=["wrong", "empty", "github-style sha256= prefix", "too long"])
async def test_a_wrong_or_empty_signature_gets_401_and_no_api_call(world, signature):
    world.open_pr(2, files=["docs/a.md"])
    headers, body = world.delivery("opened", 2)
    good = headers["X-Forgejo-Signature"]
    for name in ("X-Forgejo-Signature", "X-Gitea-Signature"):
        headers[name] = signature.format(good=good)
    status, data = await world.bot.post(world.path, headers, body)
    await world.settle()
    assert status == 401 and "signature" in data["error"]
    assert await nothing_reached_the_forge(world)


async def test_a_request_with_only_github_headers_is_not_taken_as_forgejo(world):
    """Forgejo also sends X-GitHub-Event and X-Hub-Signature-256; the bot never trusts them here, even
    when the GitHub-style signature is right for the Forgejo secret."""
    world.open_pr(3, files=["docs/a.md"])
    headers, body = world.delivery("opened", 3)
    github_only = {k: v for k, v in headers.items() if not k.startswith(("X-Forgejo", "X-Gitea", "X-Gogs"))}
    assert {"X-GitHub-Event", "X-Hub-Signature-256"} <= set(github_only)
    status, data = await world.bot.post(world.path, github_only, body)
    assert (status, data["error"]) == (401, "invalid or missing signature")

    signed_but_no_forgejo_event = {**github_only, "X-Forgejo-Signature": headers["X-Forgejo-Signature"]}
    status, data = await world.bot.post(world.path, signed_but_no_forgejo_event, body)
    assert status == 400 and "X-Forgejo-Event-Type" in data["error"]
    await world.settle()
    assert await nothing_reached_the_forge(world)


async def test_gitea_only_headers_work(world):
    world.open_pr(4, files=["docs/a.md", "CHANGELOG.md"])
    headers, body = world.delivery("opened", 4, flavour="gitea")
    assert not any(name.startswith(("X-Forgejo", "X-GitHub", "X-Hub", "X-Gogs")) for name in headers)
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.item(4, "changelog")["state"] == "passed"

    world.push(4, ["docs/a.md"])
    assert await world.send("synchronize", 4, flavour="gitea") == 202
    await world.settle()
    assert world.item(4, "changelog")["state"] == "failed"


# ---- Forgejo's events ------------------------------------------------------------------------------


async def test_clearing_the_labels_re_evaluates(world):
    world.open_pr(5, files=["docs/a.md", "CHANGELOG.md"], labels=["rfc"])
    await world.send("opened", 5)
    await world.settle()
    assert world.item(5, "rfc")["state"] == "failed"  # an "rfc" PR needs its RFC

    world.set_labels(5, [])
    headers, body = world.delivery("labels_cleared", 5)
    assert (headers["X-Forgejo-Event-Type"], json.loads(body)["action"]) == ("pull_request_label", "label_cleared")
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.item(5, "rfc")["state"] == "not_applicable"


async def test_an_approval_arriving_as_pull_request_review_approved_passes_the_reviews_item(world):
    world.open_pr(6, files=["docs/a.md", "CHANGELOG.md"])
    await world.send("opened", 6)
    await world.settle()
    assert world.item(6, "reviews")["state"] == "pending"

    world.review(6, "bob", "APPROVED")
    headers, body = world.delivery("review", 6)
    assert (headers["X-Forgejo-Event"], headers["X-Forgejo-Event-Type"]) == (
        "pull_request_approved", "pull_request_review_approved")
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.item(6, "reviews")["state"] == "passed"
    assert world.item(6, "approved-pr")["state"] == "passed"


async def test_changes_requested_arrive_as_pull_request_review_rejected(world):
    world.open_pr(7, files=["docs/a.md", "CHANGELOG.md"])
    world.review(7, "bob", "CHANGES_REQUESTED")
    headers, body = world.delivery("review", 7)
    assert headers["X-Forgejo-Event-Type"] == "pull_request_review_rejected"
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    approved = world.item(7, "approved-pr")
    assert approved["state"] == "failed" and "changes requested by bob" in approved["reason"]


async def test_ci_completion_is_seen_at_the_next_event_on_the_pull_request(world):
    """Forgejo (v12) has no status webhook: a CI result is seen at the next event on the PR (a push,
    a review, a label, an edit, a ``/nexus dod`` comment), or at the bot's own recheck (every
    FORGEJO_RECHECK_SECONDS, 60 s here: not within this test)."""
    world.open_pr(8, files=["docs/a.md", "CHANGELOG.md"])
    for name in GREEN_CI:
        world.ci(world.head(8), name, "running")
    await world.send("opened", 8)
    await world.settle()
    assert world.state(8) == "pending"

    green(world, world.head(8))  # CI finishes: Forgejo tells nobody
    await world.settle()
    assert world.state(8) == "pending" and "still running" in world.item(8, "tests")["reason"]

    world.review(8, "bob", "APPROVED")  # the next event, whatever it is
    await world.send("review", 8)
    await world.settle()
    assert world.state(8) == "success", world.published(8)


async def test_a_verdict_waiting_for_ci_is_rechecked_without_any_event(world, tmp_path):
    """With no event at all, the bot's scheduled recheck sees CI finish and turns the verdict; once
    it is no longer waiting for CI, the rechecks stop."""
    fast = ForgejoWorld(world.fake, tmp_path / "fast", FORGEJO_RECHECK_SECONDS="0.2")
    (tmp_path / "fast").mkdir()
    await fast.start()
    try:
        fast.open_pr(18, files=["docs/a.md", "CHANGELOG.md"])
        fast.review(18, "bob", "APPROVED")
        for name in GREEN_CI:
            fast.ci(fast.head(18), name, "running")
        await fast.send("opened", 18)
        await fast.settle()
        assert fast.state(18) == "pending"

        green(fast, fast.head(18))  # CI finishes: Forgejo tells nobody
        for _ in range(100):
            await asyncio.sleep(0.05)
            if fast.state(18) == "success":
                break
        assert fast.state(18) == "success", fast.published(18)
        rechecks = [d for d in fast.bot.store.db.execute("SELECT id, state FROM deliveries WHERE id LIKE '%recheck:%'")]
        assert rechecks and all(state == "done" for _, state in rechecks)
        await asyncio.sleep(0.5)
        assert fast.bot.store.db.execute(
            "SELECT count(*) FROM deliveries WHERE id LIKE '%recheck:%' AND state='queued'").fetchone()[0] == 0
    finally:
        await fast.stop()


async def test_on_gitea_a_commit_status_event_re_evaluates_the_pull_request_of_that_commit(world):
    """Gitea (1.23+) does send a ``status`` event; it names a commit, not a pull request."""
    world.open_pr(9, files=["docs/a.md", "CHANGELOG.md"])
    world.ci(world.head(9), "tests", "running")
    await world.send("opened", 9)
    await world.settle()
    assert world.item(9, "tests")["state"] == "pending"

    world.ci(world.head(9), "tests", "success")
    body = json.dumps({
        "sha": world.head(9), "context": "tests", "state": "success", "description": "",
        "repository": {"full_name": REPO}, "sender": {"login": "ci"},
    }).encode()
    headers, body = world.signed("status", body, delivery="gitea-status-1")
    headers = {k.replace("X-Forgejo", "X-Gitea"): v for k, v in headers.items()}
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.item(9, "tests")["state"] == "passed"


# ---- the forge's API: pages, labels, the verdict ------------------------------------------------------


async def test_120_changed_files_under_a_page_cap_of_50_are_all_seen(world):
    assert world.fake.max_response_items == 50
    files = [f"docs/page-{i:03}.md" for i in range(119)] + ["CHANGELOG.md"]  # the changelog is file 120
    world.open_pr(10, files=files)
    await world.send("opened", 10)
    await world.settle()
    assert world.item(10, "changelog")["state"] == "passed"
    assert world.fake.count("GET", rf"/repos/{REPO}/pulls/10/files") == 3


async def test_a_team_label_is_created_with_the_taxonomy_colour_before_it_is_added(world):
    assert world.fake.label(REPO, "team:backend") is None
    world.open_pr(11, files=["backend/src/a.rs", "CHANGELOG.md"])
    await world.send("opened", 11)
    await world.settle()
    assert world.labels(11) == {"team:backend"}
    assert world.fake.label(REPO, "team:backend")["color"] == "1d76db"  # "team:*" in config/dod.yml

    created = world.writes_to(rf"^/repos/{REPO}/labels$")
    added = world.writes_to(rf"^/repos/{REPO}/issues/11/labels$")
    assert [c.body["name"] for c in created] == ["team:backend"] and len(added) == 1
    assert added[0].body == {"labels": [world.fake.label(REPO, "team:backend")["id"]]}  # by id
    writes = world.api_writes()
    assert writes.index(created[0]) < writes.index(added[0])

    world.push(11, ["backend/src/b.rs", "CHANGELOG.md"])
    await world.send("synchronize", 11)
    await world.settle()
    assert len(world.writes_to(r"/labels")) == 2  # the label exists and is on the PR: nothing more


async def test_the_sticky_comment_is_edited_in_place_and_someone_elses_marker_is_left_alone(world):
    world.open_pr(12, files=["docs/a.md"])
    quoted = f"Quoting the bot:\n{STICKY_MARKER}\n> 0/1 done"
    carol = world.comment(12, "carol", quoted)

    await world.send("opened", 12)
    await world.settle()
    first = world.sticky_comment(12)
    world.push(12, ["docs/a.md", "CHANGELOG.md"])
    await world.send("synchronize", 12)
    await world.settle()
    world.push(12, ["docs/a.md", "docs/b.md", "CHANGELOG.md"])
    await world.send("synchronize", 12)
    await world.settle()

    assert len(world.verdict_writes()) == 3  # three evaluations, one status on each head
    assert len(world.bot_comments(12)) == 1
    assert world.sticky_comment(12)["id"] == first["id"]
    assert world.published(12)["head_sha"] == world.head(12)
    assert len(world.writes_to(rf"/repos/{REPO}/issues/12/comments$")) == 1  # created once
    assert len(world.writes_to(rf"/issues/comments/{first['id']}$")) == 2  # then edited in place
    assert world.writes_to(rf"/issues/comments/{carol}$") == []
    assert world.comments(12)[0] == ("carol", quoted)


async def test_the_commit_status_description_fits_and_names_what_is_missing(world):
    long_ids = [f"{word}-evidence-that-this-repository-requires-on-every-change" for word in ("first", "second")]
    world.set_repo_file(".forgejo/nexus.yml", "items:\n" + "".join(
        f"  - {{id: {item}, title: {item}, category: code, evidence: {{kind: files, patterns: [nothing/]}}}}\n"
        for item in long_ids))
    world.open_pr(13, files=["docs/a.md"])
    await world.send("opened", 13)
    await world.settle()
    status = world.dod_status(13)
    assert status["status"] == "failure"
    description = status["description"]
    assert len(description) == STATUS_DESCRIPTION_MAX and description.endswith("…"), description  # cut to fit
    assert "\n" not in description and "missing: changelog, first-evidence-that" in description, description
    assert len(world.report(13).summary) > 1000  # the sticky comment has it all
    assert status["target_url"].endswith(f"#issuecomment-{world.sticky_comment(13)['id']}")  # to the details


async def test_a_cross_team_pull_request_in_a_user_owned_repository_gets_its_verdict(world):
    """A repository owned by a user has no organisation, hence no teams: each team has no members
    (as on GitHub) and no review is requested, rather than an error that holds the verdict back."""
    world.open_pr(15, files=["backend/src/a.rs", "frontend/src/b.svelte", "CHANGELOG.md"], repo="alice/app")
    headers, body = world.delivery("opened", 15, repo="alice/app")
    assert (await world.bot.post(world.path, headers, body))[0] == 202
    await world.settle()
    assert world.state(15, repo="alice/app") == "failure", world.published(15, repo="alice/app")
    assert {"team:backend", "team:frontend", "nexus"} <= world.labels(15, repo="alice/app")
    assert world.requested_teams(15, repo="alice/app") == set()
    assert (await world.outcome(headers["X-Forgejo-Delivery"])) == ("done", "dod failed")
    assert world.item(15, "reviews", repo="alice/app")["state"] == "pending"


# ---- several instances ---------------------------------------------------------------------------------


async def test_a_second_instance_has_its_own_endpoint_and_secret(world, tmp_path):
    """FORGEJO_INSTANCES=codeberg: deliveries arrive at /webhooks/forgejo/codeberg, signed with
    FORGEJO_CODEBERG_WEBHOOK_SECRET; the default instance's endpoint refuses them."""
    (tmp_path / "two").mkdir()
    fake = world.fake
    second = ForgejoWorld(fake, tmp_path / "two", FORGEJO_WEBHOOK_SECRET="the-default-instance-secret",
                          FORGEJO_INSTANCES="codeberg", FORGEJO_CODEBERG_URL=fake.url,
                          FORGEJO_CODEBERG_TOKEN=fake.token,
                          FORGEJO_CODEBERG_WEBHOOK_SECRET=fake.webhook_secret.decode())
    second.path, second.instance = "/webhooks/forgejo/codeberg", "codeberg"
    await second.start()
    try:
        second.open_pr(14, files=["docs/a.md"])
        delivery = second.delivery("opened", 14)
        assert (await second.bot.deliver(delivery, "/webhooks/forgejo"))[0] == 401
        # an unknown instance answers as a bad signature does: instance names cannot be probed
        assert (await second.bot.deliver(delivery, "/webhooks/forgejo/elsewhere"))[0] == 401
        assert (await second.bot.deliver(delivery, second.path))[0] == 202
        await second.settle()
        assert second.state(14) == "failure"
        assert (await second.outcome(delivery[0]["X-Forgejo-Delivery"]))[0] == "done"
    finally:
        await second.stop()
