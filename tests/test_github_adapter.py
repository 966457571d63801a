"""The GitHub adapter against the fake GitHub on a real socket: snapshots, conditional reads,
writes that converge, retries, rate limits, App auth; and the fake held to GitHub's API description."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
import socket
import time

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit.exception import RequestTimeout

from bot.forges.base import ForgeError
from bot.model import Report
from bot.forges.github import MAX_TEXT, STICKY_MARKER, GitHubApp, GitHubForge, RetryPolicy, fit
from bot.model import ChangedFile, CheckResult, ItemResult, LabelStyle, ReviewState, State, Verdict

REPO = "org/app"
FAST = RetryPolicy(backoff=0.01, max_wait=5)
TOKEN_PATH = r"/app/installations/\d+/access_tokens"


@pytest.fixture(autouse=True)
def no_protocol_violations(fake_github):
    yield
    assert fake_github.violations == []


@pytest_asyncio.fixture
async def app(fake_github):
    app = GitHubApp(fake_github.app_id, fake_github.private_key, fake_github.url, retry=FAST)
    yield app
    await app.aclose()


@pytest.fixture
def forge(app, fake_github) -> GitHubForge:
    return app.forge_for(fake_github.installation_id)


def report(state: State, summary: str = "| item | state |\n", **kwargs) -> Report:
    verdict = Verdict("sha", [ItemResult("tests", "Tests pass", "code", state, "reason")])
    return Report(verdict, title=f"verdict: {state.value}", summary=summary, **kwargs)


# -- snapshots --------------------------------------------------------------------------------


async def test_snapshot_maps_the_pull_request(fake_github, forge):
    fake_github.add_pr(REPO, 7, title="feat: approval", body="Closes #3", author="alice", labels=["team:backend", "P1"],
                       files=["backend/api.rs", ("docs/adr/1.md", "added"), ("b.rs", "renamed", "a.rs")],
                       head_sha="head-1", base_ref="main", draft=True)
    fake_github.add_review(REPO, 7, "bob", "approved", commit_id="old-sha")
    fake_github.add_review(REPO, 7, "carol", "changes_requested")
    fake_github.add_check_run(REPO, "head-1", "tests", conclusion="failure", title="2 failed", summary="see log")
    fake_github.add_check_run(REPO, "head-1", "lint", status="in_progress")
    fake_github.add_status(REPO, "head-1", "coverage", "success", "Coverage 91.2%")
    fake_github.add_status(REPO, "head-1", "security", "error", "audit crashed")
    fake_github.add_status(REPO, "head-1", "deploy/staging", "pending")
    fake_github.add_comment(REPO, 7, "dave", "LGTM")
    fake_github.add_comment(REPO, 7, "nexus-bot[bot]", "<!-- x -->", user_type="Bot")

    pr = await forge.pull_request(REPO, 7)

    assert (pr.forge, pr.repo, pr.number, pr.title, pr.body, pr.author) == (
        "github", REPO, 7, "feat: approval", "Closes #3", "alice")
    assert (pr.base_ref, pr.head_ref, pr.head_sha, pr.draft, pr.state, pr.merged) == (
        "main", "feature-7", "head-1", True, "open", False)
    assert pr.labels == ("team:backend", "P1") and pr.url == f"https://github.com/{REPO}/pull/7"
    assert pr.files == (
        ChangedFile("backend/api.rs"), ChangedFile("docs/adr/1.md", "added"), ChangedFile("b.rs", "renamed", "a.rs"))
    assert not pr.files_truncated
    assert [(r.author, r.state, r.commit_sha) for r in pr.reviews] == [
        ("bob", ReviewState.APPROVED, "old-sha"), ("carol", ReviewState.CHANGES_REQUESTED, "head-1")]
    assert all(r.submitted_at and r.id for r in pr.reviews)
    checks = {c.name: c for c in pr.checks}
    tests = checks["tests"]
    assert (tests.status, tests.conclusion, tests.text, tests.source, tests.app_slug) == (
        "completed", "failure", "2 failed\n\nsee log", "check_run", "github-actions")
    assert tests.url == f"https://github.com/{REPO}/runs/{tests.id}"
    assert (checks["lint"].status, checks["lint"].conclusion) == ("in_progress", None)
    assert checks["coverage"] == CheckResult("coverage", "completed", "success", "Coverage 91.2%", "status",
                                             checks["coverage"].id)
    assert (checks["security"].conclusion, checks["deploy/staging"].status) == ("failure", "in_progress")
    assert [(c.author, c.author_is_bot) for c in pr.comments] == [("dave", False), ("nexus-bot[bot]", True)]


async def test_snapshot_cost_cold_and_warm(fake_github, forge):
    fake_github.add_pr(REPO, 7, files=["a.py"], head_sha="head-1")
    fake_github.add_check_run(REPO, "head-1", "tests", status="in_progress")

    await forge.pull_request(REPO, 7)
    assert (forge.calls.total, forge.calls.charged) == (7, 7)  # 6 reads + the installation token
    assert fake_github.count("POST", TOKEN_PATH) == 1

    before = fake_github.charged
    await asyncio.sleep(1.1)  # the answers must not depend on the clock, or every ETag would change
    await forge.pull_request(REPO, 7)
    assert (forge.calls.total, forge.calls.charged) == (13, 7)  # all six answered 304
    assert fake_github.charged == before

    # a check finishing is seen at once (never a stale cached answer), and only that read is charged
    run = fake_github.check_runs_for(REPO, "head-1")[0]
    run.update(status="completed", conclusion="success")
    pr = await forge.pull_request(REPO, 7)
    assert pr.checks[0].succeeded
    assert forge.calls.charged == 8 and fake_github.charged == before + 1


async def test_snapshot_paginates_files(fake_github, forge):
    fake_github.add_pr(REPO, 7, files=[f"src/f{i}.py" for i in range(250)])
    pr = await forge.pull_request(REPO, 7)
    assert [f.path for f in pr.files] == [f"src/f{i}.py" for i in range(250)]
    assert not pr.files_truncated
    assert fake_github.count("GET", rf"/repos/{REPO}/pulls/7/files") == 3


async def test_snapshot_stops_at_githubs_3000_files(fake_github, forge):
    fake_github.add_pr(REPO, 7, files=[f"f{i}" for i in range(3200)])
    pr = await forge.pull_request(REPO, 7)
    assert len(pr.files) == 3000 and pr.changed_files == 3200 and pr.files_truncated
    assert fake_github.count("GET", rf"/repos/{REPO}/pulls/7/files") == 30


async def test_snapshot_follows_a_push(fake_github, forge):
    fake_github.add_pr(REPO, 7, files=["a"], head_sha="head-1")
    fake_github.add_check_run(REPO, "head-1", "tests")
    await forge.pull_request(REPO, 7)
    fake_github.push(REPO, 7, "head-2", files=["a", "b"])
    pr = await forge.pull_request(REPO, 7)
    assert pr.head_sha == "head-2" and len(pr.files) == 2 and pr.checks == ()


async def test_issue(fake_github, forge):
    fake_github.add_issue(REPO, 3, "Approval e-mail", "As a syndic", "bob", ["P1", "team:backend"])
    fake_github.add_comment(REPO, 3, "carol", "/nexus ready")
    issue = await forge.issue(REPO, 3)
    assert (issue.forge, issue.title, issue.body, issue.author, issue.labels, issue.state) == (
        "github", "Approval e-mail", "As a syndic", "bob", ("P1", "team:backend"), "open")
    assert [c.body for c in issue.comments] == ["/nexus ready"] and not issue.is_pull_request
    fake_github.add_pr(REPO, 7)
    assert (await forge.issue(REPO, 7)).is_pull_request


async def test_missing_pull_request_is_a_forge_error(fake_github, forge):
    with pytest.raises(ForgeError) as caught:
        await forge.pull_request(REPO, 404)
    assert caught.value.status == 404


async def test_file_at(fake_github, forge):
    fake_github.set_file(REPO, "main", ".github/CODEOWNERS", "backend/ @org/backend\n")
    assert await forge.file_at(REPO, ".github/CODEOWNERS", "main") == "backend/ @org/backend\n"
    assert await forge.file_at(REPO, ".github/CODEOWNERS", "main") == "backend/ @org/backend\n"
    assert fake_github.requests[-1].status == 304
    assert await forge.file_at(REPO, "CODEOWNERS", "main") is None
    assert await forge.file_at(REPO, ".github/CODEOWNERS", "other-branch") is None


async def test_pulls_for_commit_lists_open_ones(fake_github, forge):
    fake_github.add_pr(REPO, 7, head_sha="shared")
    fake_github.add_pr(REPO, 8, head_sha="shared")
    fake_github.add_pr(REPO, 9, head_sha="other")
    fake_github.close(REPO, 8, merged=True)
    assert await forge.pulls_for_commit(REPO, "shared") == [7]


async def test_team_members_and_permission(fake_github, forge):
    fake_github.set_team("org", "backend", ["bob", "carol"])
    fake_github.set_permission(REPO, "bob", "maintain")
    assert await forge.team_members("org", "backend") == frozenset({"bob", "carol"})
    assert await forge.team_members("org", "nobody") == frozenset()
    assert await forge.permission(REPO, "bob") == "maintain"
    assert await forge.permission(REPO, "stranger") == "none"


async def test_timeline_references(fake_github, forge):
    fake_github.add_issue(REPO, 3, "Approval e-mail", "", "bob", [])
    fake_github.add_issue("org/infra", 12, "Mail quota", "Blocks org/app#3", "erin", [])
    fake_github.add_pr(REPO, 7, body="Depends on #3")
    fake_github.add_cross_reference(REPO, 3, "org/infra", 12)
    fake_github.add_cross_reference(REPO, 3, REPO, 7)
    fake_github.add_cross_reference(REPO, 3, "org/infra", 12)
    assert await forge.timeline_references(REPO, 3) == [("org/infra", 12), (REPO, 7)]


# -- writes -----------------------------------------------------------------------------------


async def test_check_run_created_then_updated_never_duplicated(fake_github, forge):
    fake_github.add_pr(REPO, 7, head_sha="head-1")
    fake_github.add_check_run(REPO, "head-1", "Nexus DoD")  # same name, another app's: not ours to edit

    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PENDING))
    ours = [c for c in fake_github.check_runs_for(REPO, "head-1", "Nexus DoD") if c["app"][1] == "nexus-bot"]
    assert len(ours) == 1 and (ours[0]["status"], ours[0]["conclusion"]) == ("in_progress", None)

    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED))
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.FAILED, target_url="https://bot/7"))
    ours = [c for c in fake_github.check_runs_for(REPO, "head-1", "Nexus DoD") if c["app"][1] == "nexus-bot"]
    assert len(ours) == 1
    assert (ours[0]["status"], ours[0]["conclusion"]) == ("completed", "failure")
    assert ours[0]["details_url"] == "https://bot/7"
    assert ours[0]["output"] == {"title": "verdict: failed", "summary": "| item | state |\n"}
    assert fake_github.count("POST", rf"/repos/{REPO}/check-runs") == 1
    assert fake_github.count("PATCH", rf"/repos/{REPO}/check-runs/\d+") == 2

    fake_github.push(REPO, 7, "head-2")
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED))
    assert [c["conclusion"] for c in fake_github.check_runs_for(REPO, "head-2")] == ["success"]


async def test_long_summary_keeps_the_verdict_block(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    block = '<!-- nexus-verdict {"state": "failed"} -->'
    summary = "| item | state |\n" + "| changelog | missing |\n" * 4000 + block
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.FAILED, summary=summary))
    stored = fake_github.check_runs_for(REPO, fake_github.issues[(REPO, 7)].pull.head_sha)[0]["output"]["summary"]
    assert len(stored) <= MAX_TEXT and stored.endswith("\n\n" + block)
    assert "| changelog | missing |\n\n*(cut:" in stored


def test_fit():
    assert fit("short", 10) == "short"
    assert fit("line one\nline two\n<!-- nexus-verdict {} -->", 40).endswith("<!-- nexus-verdict {} -->")
    assert len(fit("x" * 100, 10)) == 10


async def test_sticky_comment_is_edited_in_place_and_never_someone_elses(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    theirs = fake_github.add_comment(REPO, 7, "mallory", f"{STICKY_MARKER} quoting the bot")

    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PENDING, "first", sticky_comment=True))
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED, "second", sticky_comment=True))

    comments = fake_github.comments_on(REPO, 7)
    assert [(c["user"], c["body"]) for c in comments] == [
        ("mallory", f"{STICKY_MARKER} quoting the bot"), ("nexus-bot[bot]", f"{STICKY_MARKER}\nsecond")]
    assert fake_github.count("PATCH", rf"/repos/{REPO}/issues/comments/{theirs}") == 0
    assert fake_github.count("POST", rf"/repos/{REPO}/issues/7/comments") == 1


async def test_upsert_comment(fake_github, forge):
    fake_github.add_issue(REPO, 3, "t", "", "bob", [])
    marker = "<!-- nexus-bot:deps -->"
    first = await forge.upsert_comment(REPO, 3, marker, f"{marker}\ntable v1")
    assert await forge.upsert_comment(REPO, 3, marker, f"{marker}\ntable v1") == first  # unchanged: no write
    assert await forge.upsert_comment(REPO, 3, marker, "table v2") == first  # the marker is added when missing
    assert fake_github.comments[first]["body"] == f"{marker}\ntable v2"
    assert fake_github.count("PATCH", rf"/repos/{REPO}/issues/comments/{first}") == 1
    other = await forge.post_comment(REPO, 3, "a plain reply")
    assert other != first and len(fake_github.comments_on(REPO, 3)) == 2


async def test_labels_converge(fake_github, forge, caplog):
    fake_github.add_pr(REPO, 7, labels=["needs-refinement", "P1", "team:frontend"])
    fake_github.labels[REPO]["team:backend"] = "0052cc"  # the repository has it; the bot has not seen it yet
    ia = LabelStyle("#0E8A16", "Touches the code or work of team ia")

    await forge.set_labels(REPO, 7, add=["team:ia", "team:backend", "P1", "wontfix"],
                           remove=["needs-refinement", "team:frontend", "blocked"],
                           styles={"team:ia": ia, "team:backend": LabelStyle("ff0000", "Backend")})

    assert fake_github.issues[(REPO, 7)].labels == ["P1", "team:ia", "team:backend", "wontfix"]
    created = [(r.json, r.status) for r in fake_github.requests if (r.method, r.path) == ("POST", f"/repos/{REPO}/labels")]
    assert created == [
        ({"name": "team:ia", "color": "0e8a16", "description": "Touches the code or work of team ia"}, 201),
        ({"name": "team:backend", "color": "ff0000", "description": "Backend"}, 422),  # already_exists: fine
    ]
    assert (fake_github.labels[REPO]["team:ia"], fake_github.label_descriptions[REPO]["team:ia"]) == (
        "0e8a16", "Touches the code or work of team ia")  # created with its style in one write
    assert fake_github.labels[REPO]["team:backend"] == "0052cc"  # an existing label keeps its colour
    assert fake_github.labels[REPO]["wontfix"] == "ededed"  # no style: GitHub creates it grey on the fly
    posted = [r.json for r in fake_github.requests if r.method == "POST" and r.path == f"/repos/{REPO}/issues/7/labels"]
    assert posted == [{"labels": ["team:ia", "team:backend", "wontfix"]}]
    assert fake_github.count("PATCH", r".*/labels/.*") == 0 and fake_github.violations == []
    assert "not created" not in caplog.text  # already_exists is read as a success, not a refusal
    deleted = [r.path.rsplit("/", 1)[1] for r in fake_github.requests if r.method == "DELETE"]
    assert deleted == ["needs-refinement", "team:frontend"]  # not "blocked": absent

    writes = len([r for r in fake_github.requests if r.method != "GET"])
    for _ in range(2):  # converged: the read is all (charged once, as our own write changed the labels)
        await forge.set_labels(REPO, 7, add=["team:ia"], remove=["team:frontend"], styles={"team:ia": ia})
    assert len([r for r in fake_github.requests if r.method != "GET"]) == writes
    assert [r.status for r in fake_github.requests[-2:]] == [200, 304]

    fake_github.add_pr(REPO, 8)  # labels the bot created or saw exist: adding them is one write, as before
    await forge.set_labels(REPO, 8, add=["team:ia", "team:backend"], remove=[], styles={"team:ia": ia})
    assert [r.method for r in fake_github.requests if r.method != "GET"][writes:] == ["POST"]
    assert fake_github.issues[(REPO, 8)].labels == ["team:ia", "team:backend"]

    # a style GitHub refuses (not a colour): said in the log, and the label is added all the same
    await forge.set_labels(REPO, 8, add=["odd"], remove=[], styles={"odd": LabelStyle("nothex", "")})
    assert "label 'odd' not created" in caplog.text and "odd" in fake_github.issues[(REPO, 8)].labels
    assert fake_github.violations == []


async def test_react_and_request_reviews(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    fake_github.set_team("org", "backend", ["bob"])
    fake_github.set_team("org", "frontend", ["carol"])
    comment = fake_github.add_comment(REPO, 7, "alice", "/nexus check")
    await forge.react(REPO, comment)
    assert [r["content"] for r in fake_github.reactions[comment]] == ["eyes"]
    await forge.request_reviews(REPO, 7, ["@org/backend", "frontend", "org/backend"])
    assert fake_github.issues[(REPO, 7)].pull.requested_teams == ["backend", "frontend"]
    await forge.request_reviews(REPO, 7, [])
    assert fake_github.count("POST", rf"/repos/{REPO}/pulls/7/requested_reviewers") == 1


# -- failures, retries, rate limits ---------------------------------------------------------


async def test_502_then_success(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    fake_github.fail_next(2, status=502)
    pr = await forge.pull_request(REPO, 7)
    assert pr.number == 7
    assert [r.status for r in fake_github.requests[:3]] == [502, 502, 201]  # the token request, retried


async def test_failures_past_the_retries_raise(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    await forge.pull_request(REPO, 7)
    fake_github.down()
    with pytest.raises(ForgeError) as caught:
        await forge.pull_request(REPO, 7)
    assert caught.value.status == 503
    assert fake_github.count("GET", rf"/repos/{REPO}/pulls/7") == 1 + FAST.attempts
    fake_github.up()
    assert (await forge.pull_request(REPO, 7)).number == 7


async def test_connection_errors_raise_after_retries(fake_github):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    forge = GitHubForge.from_token("t", f"http://127.0.0.1:{port}", retry=FAST)
    with pytest.raises(ForgeError, match="ConnectError") as caught:
        await forge.issue(REPO, 1)
    assert caught.value.status is None and forge.calls.total == 0
    await forge.aclose()


def test_timeouts_are_retried():
    timeout = RequestTimeout(httpx.ReadTimeout("slow"))
    assert FAST(timeout, 0).do_retry and FAST(timeout, 2).do_retry
    assert not FAST(timeout, FAST.attempts - 1).do_retry


@pytest.mark.parametrize("secondary", [True, False], ids=["secondary:retry-after", "primary:ratelimit-reset"])
async def test_rate_limit_waits_then_succeeds(fake_github, forge, secondary):
    fake_github.add_pr(REPO, 7)
    await forge.pull_request(REPO, 7)
    fake_github.rate_limit_next(retry_after=1, secondary=secondary)
    started = time.monotonic()
    await forge.issue(REPO, 7)
    assert time.monotonic() - started >= 1
    refused, retried = fake_github.requests[-3:-1]
    assert (refused.status, retried.status, refused.path) == (403, 200, retried.path)


async def test_rate_limit_longer_than_the_cap_fails_at_once(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    await forge.pull_request(REPO, 7)
    fake_github.rate_limit_next(retry_after=600, secondary=True)
    started = time.monotonic()
    with pytest.raises(ForgeError) as caught:
        await forge.issue(REPO, 7)
    assert time.monotonic() - started < 1
    assert (caught.value.status, caught.value.retry_after) == (403, 600)


# -- App auth, token mode, logs ---------------------------------------------------------------


async def test_installation_token_is_reused(fake_github, app):
    fake_github.add_pr(REPO, 7)
    forge = app.forge_for(fake_github.installation_id)
    assert app.forge_for(fake_github.installation_id) is forge
    for _ in range(3):
        await forge.pull_request(REPO, 7)
        await forge.issue(REPO, 7)
    assert fake_github.count("POST", TOKEN_PATH) == 1
    assert await app.bot_login() == "nexus-bot[bot]" and forge.bot_login == "nexus-bot[bot]"
    assert await app.bot_login() == "nexus-bot[bot]"
    assert fake_github.count("GET", "/app") == 1 and app.calls.total == 1


async def test_unknown_installation_and_wrong_key_are_refused(fake_github, app):
    fake_github.add_pr(REPO, 7)
    with pytest.raises(ForgeError) as caught:
        await app.forge_for(999).pull_request(REPO, 7)
    assert caught.value.status == 404
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    for stranger in (GitHubApp(fake_github.app_id, other_key, fake_github.url, retry=FAST),
                     GitHubApp(fake_github.app_id + 1, fake_github.private_key, fake_github.url, retry=FAST)):
        with pytest.raises(ForgeError) as caught:
            await stranger.forge_for(fake_github.installation_id).pull_request(REPO, 7)
        assert caught.value.status == 401
        await stranger.aclose()


async def test_token_mode(fake_github):
    fake_github.add_pr(REPO, 7)
    forge = GitHubForge.from_token(fake_github.user_token, fake_github.url, retry=FAST)
    assert forge.bot_login is None and await forge.login() == fake_github.user_login
    pr = await forge.pull_request(REPO, 7)
    await forge.publish_verdict(pr, report(State.PENDING, sticky_comment=True))
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED, sticky_comment=True))
    assert forge.bot_login == fake_github.user_login
    assert [c["conclusion"] for c in fake_github.check_runs_for(REPO, pr.head_sha)] == ["success"]
    assert [c["user"] for c in fake_github.comments_on(REPO, 7)] == [fake_github.user_login]
    assert fake_github.count("GET", "/user") == 1
    await forge.aclose()


async def test_no_secret_in_logs(fake_github, forge, caplog):
    caplog.set_level(logging.DEBUG)
    fake_github.add_pr(REPO, 7)
    fake_github.fail_next(1, status=500)
    await forge.pull_request(REPO, 7)
    fake_github.rate_limit_next(retry_after=0, secondary=True)
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED, sticky_comment=True))
    assert "retry" in caplog.text  # the retries were logged...
    secrets = [*fake_github.tokens, fake_github.private_key.splitlines()[1], fake_github.webhook_secret.decode()]
    assert fake_github.tokens and not [s for s in secrets if s in caplog.text]  # ...without a secret


# -- the fake itself, against GitHub's API description ----------------------------------------


async def test_fake_rejects_what_github_would(fake_github, forge):
    fake_github.add_pr(REPO, 7)
    with pytest.raises(ForgeError) as caught:
        completed_without_conclusion = {"name": "x", "head_sha": "s", "status": "completed"}
        await forge._request("POST", f"/repos/{REPO}/check-runs", json=completed_without_conclusion)
    assert caught.value.status == 422
    assert fake_github.violations and "conclusion" in fake_github.violations[0]
    fake_github.violations.clear()


async def test_fake_answers_parse_with_githubs_models(fake_github, forge, app):
    """Every endpoint, once: with ``strict`` the fake parses each answer with githubkit's model."""
    fake_github.add_pr(REPO, 7, labels=["P1"], files=["a"])
    fake_github.add_review(REPO, 7, "bob", "approved")
    fake_github.add_check_run(REPO, fake_github.issues[(REPO, 7)].pull.head_sha, "tests")
    fake_github.add_status(REPO, fake_github.issues[(REPO, 7)].pull.head_sha, "ci", "success")
    fake_github.add_comment(REPO, 7, "carol", "hi")
    fake_github.add_issue(REPO, 3, "t", "", "bob", [])
    fake_github.add_cross_reference(REPO, 3, REPO, 7)
    for n in (4, 5, 6):
        fake_github.add_issue(REPO, n, f"t{n}", "", "bob", [])
    fake_github.add_dependency(REPO, 3, REPO, 4)  # 3 is blocked by 4
    fake_github.add_dependency(REPO, 5, REPO, 3)  # 3 blocks 5
    fake_github.add_sub_issue(REPO, 3, REPO, 6)
    fake_github.add_sub_issue(REPO, 2, REPO, 3)
    fake_github.set_file(REPO, "main", "README.md", "hello")
    fake_github.set_team("org", "backend", ["bob"])
    fake_github.set_permission(REPO, "bob", "write")
    pr = await forge.pull_request(REPO, 7)
    assert {(n.kind, n.repo, n.number) for n in (await forge.issue(REPO, 3)).native_links} == {
        ("depends_on", REPO, 4), ("blocks", REPO, 5), ("sub_issue", REPO, 6), ("parent", REPO, 2)}
    await forge.add_dependency(REPO, 5, REPO, 6)
    fake_github.add_deployment(REPO, "abc123", "staging", "2026-12-01T10:00:00Z")
    fake_github.add_deployment(REPO, "def456", "production", "2026-12-01T11:00:00Z")
    since = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert await forge.deployments(REPO, "staging", since) == [("abc123", datetime(2026, 12, 1, 10, tzinfo=timezone.utc))]
    window = await forge.items_updated(REPO.split("/")[0], since, datetime.now(timezone.utc) + timedelta(days=1))
    assert {(i.number, i.is_pull_request) for i in window} >= {(3, False), (7, True)}
    assert await app.installation_of("org") == fake_github.installation_id
    assert await app.installation_of("nobody") is None  # neither an organisation nor a user with the App
    created = await forge.upsert_issue(REPO, "Nexus sprint 23", "first")
    assert await forge.upsert_issue(REPO, "Nexus sprint 23", "second") == created
    assert fake_github.issues[(REPO, created)].body == "second"
    assert fake_github.blocked_by[(REPO, 5)] == [(REPO, 3), (REPO, 6)]
    await forge.file_at(REPO, "README.md", "main")
    fake_github.set_file(REPO, "main", ".github/CODEOWNERS", "* @org/backend")
    assert await forge.files_present(REPO, "main", (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS",
                                                    "README.md")) == {".github/CODEOWNERS", "README.md"}
    await forge.pulls_for_commit(REPO, pr.head_sha)
    await forge.team_members("org", "backend")
    await forge.permission(REPO, "bob")
    await forge.timeline_references(REPO, 3)
    await forge.publish_verdict(pr, report(State.PENDING, "first", sticky_comment=True))
    await forge.publish_verdict(await forge.pull_request(REPO, 7), report(State.PASSED, "second", sticky_comment=True))
    await forge.set_labels(REPO, 7, ["ready"], ["P1"], {"ready": LabelStyle("0e8a16", "Meets the Ready criteria")})
    await forge.react(REPO, pr.comments[0].id, "rocket")
    await forge.request_reviews(REPO, 7, ["backend"])
    assert await forge.open_pulls(REPO, 20) == [(7, "main")]
    assert await forge.open_pulls_of_owner("org", 20) == [(REPO, 7)]
    served = {(r.method, r.route) for r in fake_github.requests}
    # /user: token mode and the board's sign-in; /user/repos: the sign-in (tests/test_e2e_signin.py); the
    # manifest conversion: the /setup flow (tests/test_e2e_operators.py)
    assert fake_github.strict and served == fake_github.endpoints() - {
        ("GET", "/user"), ("GET", "/user/repos"), ("POST", "/app-manifests/{code}/conversions")}


async def test_files_not_there_cost_no_404_once_the_trees_are_known(fake_github, forge):
    """GitHub charges a 404 and not a 304: the trees say which files exist, and re-reading unchanged
    trees is free, so probing for absent config and CODEOWNERS files costs nothing after the first time."""
    fake_github.set_file(REPO, "main", ".github/nexus.yml", "items: []")
    paths = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".github/nexus.yml")
    assert await forge.files_present(REPO, "main", paths) == {".github/nexus.yml"}
    charged = fake_github.charged
    assert await forge.files_present(REPO, "main", paths) == {".github/nexus.yml"}
    assert fake_github.charged == charged  # both trees answered 304
    fake_github.set_file(REPO, "main", "CODEOWNERS", "* @org/a")  # the branch moved
    assert await forge.files_present(REPO, "main", paths) == {".github/nexus.yml", "CODEOWNERS"}
    assert await forge.files_present(REPO, "", paths) == {".github/nexus.yml", "CODEOWNERS"}  # "": HEAD
    assert await forge.files_present(REPO, "release/1.0", paths) is None  # asked file by file


async def test_an_empty_repository_is_asked_file_by_file(fake_github, forge):
    """GitHub answers 409 for the trees of a repository without a commit: not an error to retry."""
    fake_github.refuse_trees = 409
    assert await forge.files_present(REPO, "main", ("CODEOWNERS",)) is None

