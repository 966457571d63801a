"""The Forgejo adapter against the fake Forgejo on a real socket, held to Forgejo's API description."""

from __future__ import annotations

import logging

import httpx
import pytest
import pytest_asyncio

from bot.forges.base import ForgeError
from bot.model import Report
from bot.forges.forgejo import STICKY_MARKER, ForgejoForge
from bot.model import ItemResult, LabelStyle, ReviewState, State, Verdict

REPO = "acme/app"
FILES = [f"backend/src/module_{i:03}.rs" for i in range(120)]


@pytest_asyncio.fixture
async def forge(fake_forgejo):
    forge = ForgejoForge(fake_forgejo.url, fake_forgejo.token, backoff=0.001)
    yield forge
    await forge.aclose()
    assert fake_forgejo.violations == []


def report(state: State, title: str = "19/23 done · 2 missing: changelog, reviews", summary: str = "## DoD") -> Report:
    verdict = Verdict(head_sha="unused", items=[ItemResult("changelog", "Changelog", "docs", state, "reason")])
    return Report(verdict=verdict, title=title, summary=summary)


# -- snapshots


@pytest.mark.parametrize("link_headers", [True, False], ids=["with-link", "without-link"])
async def test_snapshot_of_120_files_under_a_page_cap_of_50(fake_forgejo, forge, link_headers):
    fake_forgejo.link_headers = link_headers
    fake_forgejo.add_pr(REPO, 7, title="feat: approvals", body="As a syndic...", author="bob", files=FILES,
                        labels=["team:backend", "P2"], head_sha="h1")
    fake_forgejo.add_comment(REPO, 7, "carol", "looks good")

    pr = await forge.pull_request(REPO, 7)

    assert [f.path for f in pr.files] == FILES and pr.changed_files == len(FILES) and not pr.files_truncated
    assert (pr.title, pr.author, pr.head_sha, pr.base_ref, pr.labels) == (
        "feat: approvals", "bob", "h1", "main", ("team:backend", "P2"))
    assert [(c.author, c.body, c.author_is_bot) for c in pr.comments] == [("carol", "looks good", False)]
    assert pr.url == f"{fake_forgejo.url}/{REPO}/pulls/7"
    assert fake_forgejo.count("GET", r"/repos/acme/app/pulls/7/files") == 3
    # /settings/api and /user once; then the pull, 3 pages of files, reviews, statuses, comments
    assert forge.calls == 2 + 1 + 3 + 1 + 1 + 1

    forge.calls = 0
    await forge.pull_request(REPO, 7)
    assert forge.calls == 7, "the page cap and the bot's login are cached"


async def test_the_cap_is_learned_from_the_instance(fake_forgejo):
    """An instance capped at 30 without Link headers: asking 50 gets 30, which is not a short page."""
    fake_forgejo.max_response_items, fake_forgejo.link_headers = 30, False
    fake_forgejo.add_pr(REPO, 1, files=FILES)
    forge = ForgejoForge(fake_forgejo.url, fake_forgejo.token)
    try:
        assert len((await forge.pull_request(REPO, 1)).files) == 120
    finally:
        await forge.aclose()
    assert fake_forgejo.violations == []
    assert fake_forgejo.count("GET", r"/repos/acme/app/pulls/1/files") == 5  # 4 full pages, then an empty one
    assert {r.query["limit"] for r in fake_forgejo.requests if r.path.endswith("/files")} == {"30"}


@pytest.mark.parametrize("link_headers, pages", [(True, 2), (False, 3)])
async def test_a_full_last_page_needs_one_more_request_only_without_link(fake_forgejo, forge, link_headers, pages):
    fake_forgejo.link_headers = link_headers
    fake_forgejo.add_pr(REPO, 1, files=FILES[:100])
    assert len((await forge.pull_request(REPO, 1)).files) == 100
    assert fake_forgejo.count("GET", r"/repos/acme/app/pulls/1/files") == pages


async def test_reviews_are_mapped_with_their_commit(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7, head_sha="h1")
    fake_forgejo.add_review(REPO, 7, "bob", "APPROVED")
    fake_forgejo.add_review(REPO, 7, "carol", "REQUEST_CHANGES")
    fake_forgejo.add_review(REPO, 7, "dan", "COMMENT")
    fake_forgejo.add_review(REPO, 7, "erin", "APPROVED", dismissed=True)
    fake_forgejo.add_review(REPO, 7, "gina", "PENDING")
    fake_forgejo.push(REPO, 7, "h2")
    fake_forgejo.add_review(REPO, 7, "frank", "APPROVED")

    reviews = (await forge.pull_request(REPO, 7)).reviews

    assert [(r.author, r.state, r.commit_sha) for r in reviews] == [
        ("bob", ReviewState.APPROVED, "h1"),
        ("carol", ReviewState.CHANGES_REQUESTED, "h1"),
        ("dan", ReviewState.COMMENTED, "h1"),
        ("erin", ReviewState.DISMISSED, "h1"),
        ("gina", ReviewState.PENDING, "h1"),
        ("frank", ReviewState.APPROVED, "h2"),
    ]
    assert all(r.id and r.submitted_at for r in reviews)


async def test_commit_statuses_become_checks(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7, head_sha="h1")
    fake_forgejo.add_status(REPO, "h1", "ci/tests", "pending")
    fake_forgejo.add_status(REPO, "h1", "ci/tests", "success", "412 passed", target_url="https://ci/1")
    fake_forgejo.add_status(REPO, "h1", "ci/coverage", "success", "coverage 91.2%")
    fake_forgejo.add_status(REPO, "h1", "ci/lint", "failure", "clippy: 3 warnings")
    fake_forgejo.add_status(REPO, "h1", "ci/audit", "error", "registry unreachable")
    fake_forgejo.add_status(REPO, "h1", "ci/bench", "warning", "P99 4.1 ms")
    fake_forgejo.add_status(REPO, "h1", "ci/e2e", "pending", "running")
    fake_forgejo.add_status(REPO, "other", "ci/tests", "failure")

    checks = {c.name: c for c in (await forge.pull_request(REPO, 7)).checks}

    assert {name: (c.status, c.conclusion, c.text) for name, c in checks.items()} == {
        "ci/tests": ("completed", "success", "412 passed"),
        "ci/coverage": ("completed", "success", "coverage 91.2%"),
        "ci/lint": ("completed", "failure", "clippy: 3 warnings"),
        "ci/audit": ("completed", "failure", "registry unreachable"),
        "ci/bench": ("completed", "neutral", "P99 4.1 ms"),
        "ci/e2e": ("in_progress", None, "running"),
    }
    assert checks["ci/tests"].source == "status" and checks["ci/tests"].url == "https://ci/1"


async def test_issue_file_and_pulls_for_commit(fake_forgejo, forge):
    fake_forgejo.add_issue(REPO, 44, title="Approval e-mail", body="As a syndic", labels=["ready"])
    fake_forgejo.add_comment(REPO, 44, "nexus-bot", "hello")
    fake_forgejo.add_pr(REPO, 45, head_sha="h45")
    fake_forgejo.add_pr(REPO, 46, head_sha="h46")
    fake_forgejo.set_file(REPO, "h45", "docs/adr/0001 approvals.md", "# ADR 1\n")

    issue = await forge.issue(REPO, 44)
    assert (issue.title, issue.labels, issue.is_pull_request) == ("Approval e-mail", ("ready",), False)
    assert [(c.author, c.author_is_bot) for c in issue.comments] == [("nexus-bot", True)]
    assert (await forge.issue(REPO, 45)).is_pull_request
    assert await forge.file_at(REPO, "docs/adr/0001 approvals.md", "h45") == "# ADR 1\n"
    assert await forge.file_at(REPO, "CHANGELOG.md", "h45") is None
    assert await forge.pulls_for_commit(REPO, "h46") == [46]
    assert await forge.pulls_for_commit(REPO, "nothing") == []


async def test_issue_dependencies_are_read_both_ways(fake_forgejo, forge):
    """``/dependencies``: what the issue depends on; ``/blocks``: what it blocks (shapes per the swagger)."""
    for n in (50, 51, 52):
        fake_forgejo.add_issue(REPO, n, title=f"Item {n}")
    fake_forgejo.add_dependency(REPO, 50, REPO, 51)  # 50 depends on 51
    fake_forgejo.add_dependency(REPO, 52, REPO, 50)  # 50 blocks 52
    links = (await forge.issue(REPO, 50)).native_links
    assert {(n.kind, n.repo, n.number) for n in links} == {("depends_on", REPO, 51), ("blocks", REPO, 52)}
    assert (await forge.issue(REPO, 51)).native_links[0].kind == "blocks"


async def test_timeline_references(fake_forgejo, forge):
    fake_forgejo.add_issue(REPO, 44)
    fake_forgejo.add_pr(REPO, 45)
    fake_forgejo.add_issue("acme/web", 12)
    fake_forgejo.add_comment(REPO, 44, "bob", "blocked by infra")
    fake_forgejo.add_reference(REPO, 44, REPO, 45)
    fake_forgejo.add_reference(REPO, 44, "acme/web", 12)
    fake_forgejo.add_reference(REPO, 44, REPO, 45)

    assert await forge.timeline_references(REPO, 44) == [(REPO, 45), ("acme/web", 12)]


# -- writes


async def test_a_label_is_created_before_it_is_added_and_removed_by_id(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7, labels=["P2", "nexus-keep"])
    fake_forgejo.add_label(REPO, "team:backend", "#0e8a16")
    fake_forgejo.add_org_label("acme", "nexus", "#5319e7")

    await forge.set_labels(REPO, 7, add=["team:backend", "needs-refinement", "nexus", "P2"], remove=["P2", "absent"],
                           styles={"needs-refinement": LabelStyle("#D93F0B", "Not Ready yet"),
                                   "team:backend": LabelStyle("ff0000", "Backend")})

    assert sorted(fake_forgejo.labels_of(REPO, 7)) == ["needs-refinement", "nexus", "nexus-keep", "team:backend"]
    created = fake_forgejo.label(REPO, "needs-refinement")
    assert (created["color"], created["description"]) == ("d93f0b", "Not Ready yet")
    assert fake_forgejo.label(REPO, "team:backend")["color"] == "0e8a16"  # an existing label keeps its own
    assert fake_forgejo.label(REPO, "nexus") is None, "the org label was used, not copied"
    assert fake_forgejo.count("POST", r"/repos/acme/app/labels") == 1
    added = [r.body for r in fake_forgejo.requests if (r.method, r.path) == ("POST", "/repos/acme/app/issues/7/labels")]
    assert len(added) == 1 and all(isinstance(i, int) for i in added[0]["labels"])
    assert fake_forgejo.count("DELETE", rf"/repos/acme/app/issues/7/labels/{fake_forgejo.label(REPO, 'P2')['id']}") == 1

    writes = sum(r.method != "GET" for r in fake_forgejo.requests)
    await forge.set_labels(REPO, 7, add=["team:backend", "needs-refinement"], remove=["P2"])
    assert sum(r.method != "GET" for r in fake_forgejo.requests) == writes, "converged: nothing to write"


async def test_a_label_created_meanwhile_is_a_success(fake_forgejo, forge):
    """The bot listed the labels, someone created one before the bot did: an instance that refuses a
    second label of one name answers 409, and the bot adds the one that is there."""
    fake_forgejo.add_pr(REPO, 7)
    fake_forgejo.add_pr(REPO, 8)
    await forge.set_labels(REPO, 7, add=["ready"], remove=[])  # the repository's labels are listed (and kept)
    theirs = fake_forgejo.add_label(REPO, "team:ia", "#123456", "Theirs")
    fake_forgejo.fail_request("POST", rf"/repos/{REPO}/labels", 409)

    await forge.set_labels(REPO, 8, add=["team:ia"], remove=[], styles={"team:ia": LabelStyle("1d76db", "Ours")})

    assert fake_forgejo.labels_of(REPO, 8) == ["team:ia"]
    assert fake_forgejo.label(REPO, "team:ia")["id"] == theirs and fake_forgejo.violations == []
    assert fake_forgejo.count("POST", rf"/repos/{REPO}/labels") == 2  # "ready", then the refused "team:ia"


async def test_verdict_is_a_sticky_comment_and_a_fitting_commit_status(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7, head_sha="h1")
    theirs = fake_forgejo.add_comment(REPO, 7, "mallory", f"{STICKY_MARKER}\nI copied the marker")
    long_title = "19/23 done · 4 missing: " + ", ".join(f"item-{i}" for i in range(40))

    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.FAILED, long_title, "## first"))

    ours = [c for c in fake_forgejo.comments_of(REPO, 7) if c["user"] == "nexus-bot"]
    assert len(ours) == 1 and ours[0]["body"] == f"{STICKY_MARKER}\n## first"
    [status] = fake_forgejo.statuses_of(REPO, "h1")
    assert (status["context"], status["status"]) == ("nexus/dod", "failure")
    assert len(status["description"]) == 140 and status["description"].endswith("…")
    assert status["target_url"] == f"{fake_forgejo.url}/{REPO}/pulls/7#issuecomment-{ours[0]['id']}"

    # Same verdict, new summary: the comment is edited in place, the status already says it.
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.FAILED, long_title, "## second"))
    assert [c["body"] for c in fake_forgejo.comments_of(REPO, 7) if c["user"] == "nexus-bot"] == [
        f"{STICKY_MARKER}\n## second"]
    assert len(fake_forgejo.statuses_of(REPO, "h1")) == 1

    # Passed now: a new status; nothing to edit.
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED, "23/23 done", "## second"))
    assert [s["status"] for s in fake_forgejo.statuses_of(REPO, "h1")] == ["failure", "success"]

    assert fake_forgejo.count("PATCH", rf"/repos/acme/app/issues/comments/{theirs}") == 0
    assert fake_forgejo.comments_of(REPO, 7)[0]["body"] == f"{STICKY_MARKER}\nI copied the marker"
    assert fake_forgejo.count("PATCH", r"/repos/acme/app/issues/comments/\d+") == 1
    assert fake_forgejo.count("POST", r"/repos/acme/app/issues/7/comments") == 1


async def test_comments_reactions_and_review_requests(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7)
    fake_forgejo.set_team("acme", "backend", ["bob"])
    fake_forgejo.set_team("acme", "Frontend", ["carol"])

    first = await forge.upsert_comment(REPO, 7, "<!-- nexus-bot:deps -->", "deps table")
    assert await forge.upsert_comment(REPO, 7, "<!-- nexus-bot:deps -->", "deps table v2") == first
    posted = await forge.post_comment(REPO, 7, "/nexus help")
    await forge.react(REPO, posted, "eyes")
    await forge.react(REPO, posted, "eyes")
    await forge.request_reviews(REPO, 7, ["backend", "frontend"])
    await forge.request_reviews(REPO, 7, ["backend"])

    assert [c["body"] for c in fake_forgejo.comments_of(REPO, 7)] == ["<!-- nexus-bot:deps -->\ndeps table v2",
                                                                      "/nexus help"]
    assert fake_forgejo.reactions_of(posted) == [("nexus-bot", "eyes")]
    assert fake_forgejo.requested_teams(REPO, 7) == ["backend", "Frontend"]
    assert fake_forgejo.count("POST", r"/repos/acme/app/pulls/7/requested_reviewers") == 1


async def test_team_ids_are_cached_members_are_read_each_time(fake_forgejo, forge):
    """Team name -> id is cached for the forge's life; members are cached by the caller (Lookups,
    with the organisation's membership TTL), so the adapter reads them each time it is asked."""
    fake_forgejo.set_team("acme", "backend", ["bob", "carol"])
    fake_forgejo.set_team("acme", "backend-ops", ["dan"])

    assert await forge.team_members("acme", "backend") == {"bob", "carol"}
    assert await forge.team_members("acme", "Backend") == {"bob", "carol"}
    assert await forge.team_members("acme", "ia") == frozenset()
    assert fake_forgejo.count("GET", r"/orgs/acme/teams/search") == 2  # backend once, ia (not found) once
    assert fake_forgejo.count("GET", r"/teams/\d+/members") == 2


async def test_permission(fake_forgejo, forge):
    fake_forgejo.set_permission(REPO, "nina", "admin")
    fake_forgejo.set_permission(REPO, "olga", "owner")
    fake_forgejo.set_permission(REPO, "bob", "write")
    fake_forgejo.set_permission(REPO, "carol", "read")

    assert [await forge.permission(REPO, u) for u in ("nina", "olga", "bob", "carol", "stranger")] == [
        "admin", "admin", "write", "read", "none"]


# -- failures


async def test_a_502_then_recovery_is_retried(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7)
    await forge.pull_request(REPO, 7)  # settings and bot user are known
    fake_forgejo.fail_next(2, 502)
    forge.calls = 0

    await forge.pull_request(REPO, 7)

    assert forge.calls == 2 + 5  # two failed attempts, then the snapshot's 5 calls
    assert fake_forgejo.count("GET", r"/repos/acme/app/pulls/7") == 1 + 3


async def test_errors_after_the_retries_and_on_refusals(fake_forgejo, forge):
    fake_forgejo.add_pr(REPO, 7)
    fake_forgejo.down()
    with pytest.raises(ForgeError) as raised:
        await forge.pull_request(REPO, 7)
    assert raised.value.status == 503 and fake_forgejo.count("GET", r"/repos/acme/app/pulls/7") == 4
    fake_forgejo.up()
    assert (await forge.pull_request(REPO, 7)).number == 7

    fake_forgejo.fail_next(1, 429, retry_after=0)
    assert await forge.permission(REPO, "x") == "none"

    fake_forgejo.fail_next(1, 403, retry_after=3600)
    with pytest.raises(ForgeError) as raised:
        await forge.permission(REPO, "x")
    assert (raised.value.status, raised.value.retry_after) == (403, 3600), "too long to wait: left to the queue"

    fake_forgejo.fail_next(1, 404)
    with pytest.raises(ForgeError, match="HTTP 404"):
        await forge.pull_request(REPO, 7)


async def test_connection_errors_are_forge_errors():
    forge = ForgejoForge("http://127.0.0.1:9", "t", attempts=2, backoff=0.001)
    try:
        with pytest.raises(ForgeError) as raised:
            await forge.issue(REPO, 1)
    finally:
        await forge.aclose()
    assert raised.value.status is None and forge.calls >= 2


async def test_the_token_is_never_logged(fake_forgejo, forge, caplog):
    caplog.set_level(logging.DEBUG)
    fake_forgejo.add_pr(REPO, 7)
    fake_forgejo.fail_next(1, 502)
    await forge.pull_request(REPO, 7)
    fake_forgejo.fail_next(4, 500)
    with pytest.raises(ForgeError) as raised:
        await forge.post_comment(REPO, 7, "hello")

    assert "retrying" in caplog.text
    for text in (caplog.text, str(raised.value), repr(forge)):
        assert fake_forgejo.token not in text


async def test_the_fake_rejects_what_forgejo_would(fake_forgejo):
    """The spec check is what makes ``violations == []`` mean something."""
    fake_forgejo.add_pr(REPO, 7)
    auth = {"Authorization": f"token {fake_forgejo.token}"}
    async with httpx.AsyncClient(base_url=f"{fake_forgejo.url}/api/v1", headers=auth) as http:
        bad_state = await http.post("/repos/acme/app/statuses/abc", json={"state": "failed", "context": "x"})
        no_color = await http.post("/repos/acme/app/labels", json={"name": "x"})
        unknown_query = await http.get("/repos/acme/app/issues/7/comments", params={"page": 2})
        unknown_route = await http.get("/repos/acme/app/checks")
        no_token = await http.get("/user", headers={"Authorization": "token wrong"})
    assert [r.status_code for r in (bad_state, no_color, unknown_query, unknown_route, no_token)] == [
        422, 422, 422, 422, 401]
    assert len(fake_forgejo.violations) == 4
    assert "is not one of" in fake_forgejo.violations[0]
    assert "'color' is a required property" in fake_forgejo.violations[1]
    fake_forgejo.violations.clear()
