"""GitHub webhooks: signature vectors, every real fixture payload, malformed deliveries, anti-loop,
and the fake's webhook builders read back through the same parser."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict

from bot.forges.base import PayloadError
from bot.forges.github_webhooks import UnknownEvent, parse, verify
from tests.fakes.github import FIXTURES, FakeGitHub

SIGNATURES = json.loads((FIXTURES.parent / "signatures.json").read_text())
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def headers(event: str, delivery: str = "d-1") -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}


def fixture_bytes(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


# -- signatures -------------------------------------------------------------------------------


def vector_body(entry: dict) -> bytes:
    if "payload_utf8" in entry:
        return entry["payload_utf8"].encode()
    return (FIXTURES.parent / entry["payload_file"]).read_bytes()


@pytest.mark.parametrize("entry", SIGNATURES, ids=lambda e: e.get("payload_file", "github-docs"))
def test_signature_vectors(entry):
    secret, body = entry["secret"].encode(), vector_body(entry)
    header = entry.get("headers", {}).get("X-Hub-Signature-256", "sha256=" + entry["sha256_hex"])
    assert verify(secret, body, header)
    assert not verify(b"another secret", body, header)
    assert not verify(secret, body + b" ", header)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
     "sha256=zz", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17é"],
    ids=["missing", "empty", "no-digest", "sha1", "no-prefix", "not-hex", "short", "non-ascii"],
)
def test_bad_signature_headers(header):
    assert not verify(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_signature_hex_case_is_ignored():
    digest = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify(b"It's a Secret to Everybody", b"Hello, World!", "sha256=" + digest.upper())


# -- every fixture ----------------------------------------------------------------------------

# file -> the Event fields it must give (with app_id=29310, the octocoders-linter app of the examples)
EXPECTED = {
    "check_run/completed.json": dict(name="check", action="completed", head_sha=SHA, pr_numbers=(2,),
                                     extra={"check_name": "Octocoders-linter", "app_id": 29310}, from_this_bot=True),
    "check_run/created.json": dict(name="check", action="created", head_sha=SHA, pr_numbers=(2,), from_this_bot=True),
    "check_run/requested_action.json": dict(name="check", action="requested_action", repo="electron/electron",
                                            pr_numbers=(26764,), installation_id=690857,
                                            extra={"check_name": "API Review", "app_id": 25811}),
    "check_run/rerequested.json": dict(name="check", action="rerequested", repo="github/hello-world",
                                       head_sha="d6fde92930d4715a2b49857d24b940956b26d2d3", pr_numbers=(),
                                       installation_id=1, extra={"check_name": "randscape", "app_id": 2}),
    "check_suite/completed.json": dict(name="check", action="completed", head_sha=SHA, pr_numbers=(2,),
                                       extra={"check_name": None, "app_id": 29310}, from_this_bot=True),
    "check_suite/requested.json": dict(name="check", action="requested", pr_numbers=(), installation_id=957387,
                                       head_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e"),
    "check_suite/rerequested.json": dict(name="check", action="rerequested", pr_numbers=(2,), sender_is_bot=True,
                                         sender="octocoders-linter[bot]", installation_id=957387),
    "installation/created.json": dict(name="installation", action="created", repo=None, installation_id=957387,
                                      extra={"repositories": ("Codertocat/Hello-World",)}),
    "installation/deleted.json": dict(name="installation", action="deleted", installation_id=2),
    "installation_repositories/added.json": dict(name="installation_repositories", action="added",
                                                 installation_id=957387, extra={"repositories": ("Codertocat/Space",)}),
    "installation_repositories/removed.json": dict(name="installation_repositories", action="removed",
                                                   installation_id=2, extra={"repositories": ()}),
    "issue_comment/created.json": dict(name="issue_comment", action="created", number=1, is_pull_request=False,
                                       labels=("bug",), comment_id=492700400, comment_author="Codertocat"),
    "issue_comment/created.with-installation.json": dict(name="issue_comment", action="created", number=1,
                                                         installation_id=1, comment_id=492700400),
    "issue_comment/deleted.json": dict(name="issue_comment", action="deleted", number=1),
    "issue_comment/edited.json": dict(name="issue_comment", action="edited", number=1),
    "issues/edited.json": dict(name="issues", action="edited", number=1, is_pull_request=False, labels=("bug",)),
    "issues/labeled.json": dict(name="issues", action="labeled", number=1, labels=("bug",)),
    "issues/opened.json": dict(name="issues", action="opened", number=1, repo="Codertocat/Hello-World"),
    "issues/opened.with-empty-body.json": dict(name="issues", action="opened", number=1),
    "issues/reopened.json": dict(name="issues", action="reopened", number=1, installation_id=1),
    "issues/unlabeled.json": dict(name="issues", action="unlabeled", number=1),
    "ping/payload.json": dict(name="ping", action="", repo="Octocoders/Hello-World", extra={"app_id": None}),
    "ping/with-app_id.json": dict(name="ping", action="", extra={"app_id": 29310}),
    "pull_request/closed.json": dict(name="pull_request", action="closed", number=2, installation_id=1),
    "pull_request/converted_to_draft.json": dict(name="pull_request", action="converted_to_draft", number=2),
    "pull_request/labeled.json": dict(name="pull_request", action="labeled", number=2, labels=("bug",)),
    "pull_request/opened.json": dict(name="pull_request", action="opened", number=2, is_pull_request=True,
                                     head_sha=SHA, labels=("bug",), sender="Codertocat", sender_is_bot=False,
                                     installation_id=1, repo="Codertocat/Hello-World"),
    "pull_request/opened.with-null-body.json": dict(name="pull_request", action="opened", number=2),
    "pull_request/opened.with-organization.json": dict(name="pull_request", action="opened", number=2),
    "pull_request/ready_for_review.json": dict(name="pull_request", action="ready_for_review", number=2),
    "pull_request/reopened.json": dict(name="pull_request", action="reopened", number=2),
    "pull_request/review_requested.json": dict(name="pull_request", action="review_requested", number=2),
    "pull_request/synchronize.json": dict(name="pull_request", action="synchronize", number=2, head_sha=SHA),
    "pull_request/unlabeled.json": dict(name="pull_request", action="unlabeled", number=2),
    "pull_request_review/dismissed.json": dict(name="pull_request_review", action="dismissed", number=2,
                                               review_state="dismissed", is_pull_request=True, head_sha=SHA),
    "pull_request_review/submitted.json": dict(name="pull_request_review", action="submitted", number=2,
                                               review_state="commented"),
    "pull_request_review/submitted.with-organization.json": dict(name="pull_request_review", action="submitted",
                                                                 number=2, review_state="commented"),
    "status/payload.json": dict(name="check", action="completed", head_sha="6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                                extra={"check_name": "default", "app_id": None}, installation_id=None),
    "status/with-installation.json": dict(name="check", action="completed", installation_id=1),
}


def test_every_fixture_has_a_case():
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.json")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_fixture_parses(path):
    event = parse(headers(path.split("/")[0], "delivery-7"), fixture_bytes(path), app_id=29310)
    expected = dict(EXPECTED[path])
    comment_id, comment_author = expected.pop("comment_id", None), expected.pop("comment_author", None)
    assert event.forge == "github" and event.delivery_id == "delivery-7"
    for field, value in {"from_this_bot": False, **expected}.items():
        assert getattr(event, field) == value, field
    if event.name == "issue_comment":
        assert event.comment is not None and event.comment.body
        assert comment_id in (None, event.comment.id) and comment_author in (None, event.comment.author)
    if event.name in ("pull_request", "issues", "issue_comment", "pull_request_review"):
        assert event.entity == ("github", event.repo, event.number)


def test_status_pending_is_not_completed():
    payload = json.loads(fixture_bytes("status/payload.json")) | {"state": "pending"}
    assert parse(headers("status"), json.dumps(payload).encode()).action == "pending"


def test_headers_are_case_insensitive():
    body = fixture_bytes("issues/opened.json")
    lower = parse({"x-github-event": "issues", "x-github-delivery": "d"}, body)
    multi = parse(CIMultiDict({"X-GITHUB-EVENT": "issues", "X-Github-Delivery": "d"}), body)
    assert lower == multi and lower.name == "issues"


# -- malformed deliveries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "hdrs, body, message",
    [
        (headers("pull_request"), b"{not json", "malformed JSON"),
        (headers("pull_request"), b"\xff\xfe", "malformed JSON"),
        (headers("pull_request"), b"[1, 2]", "not a JSON object"),
        (headers("pull_request"), b'{"action": "opened"}', "pull_request"),
        (headers("pull_request"), b'{"action": "opened", "pull_request": {"number": 1, "head": {}}}', "head.sha"),
        (headers("pull_request_review"),
         b'{"action": "submitted", "pull_request": {"number": 1, "head": {"sha": "a"}}}', "review.state"),
        (headers("check_run"), b'{"action": "completed", "check_run": {"name": "x"}}', "head_sha"),
        (headers("status"), b'{"sha": "abc"}', "state"),
        (headers("issue_comment"), b'{"action": "created", "issue": {"number": 1}, "comment": {"id": 5, "body": "x"}}',
         "user.login"),
        (headers("installation"), b'{"action": "created"}', "installation"),
        ({"X-GitHub-Delivery": "d"}, b"{}", "X-GitHub-Event"),
        ({"X-GitHub-Event": "ping"}, b"{}", "X-GitHub-Delivery"),
    ],
    ids=["bad-json", "bad-utf8", "array", "no-pull-request", "no-head-sha", "no-review-state", "no-check-sha",
         "no-status-state", "no-comment-author", "no-installation", "no-event-header", "no-delivery-header"],
)
def test_malformed_payloads(hdrs, body, message):
    with pytest.raises(PayloadError, match=message):
        parse(hdrs, body)


def test_unknown_event_is_a_payload_error():
    with pytest.raises(UnknownEvent, match="'release'"):
        parse(headers("release"), b"{}")
    assert issubclass(UnknownEvent, PayloadError)


# -- anti-loop --------------------------------------------------------------------------------


def with_check_run(path: str, **changes) -> bytes:
    payload = json.loads(fixture_bytes(path))
    payload["check_run"]["app"]["id"] = changes.pop("app_id", 29310)
    payload.update(changes)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "event, body, app_id, bot_login, expected",
    [
        ("issue_comment", fixture_bytes("issue_comment/created.json"), None, "Codertocat", True),
        ("issue_comment", fixture_bytes("issue_comment/created.json"), None, "nexus-bot[bot]", False),
        ("check_run", with_check_run("check_run/created.json"), 29310, None, True),
        ("check_run", with_check_run("check_run/completed.json"), 29310, None, True),
        ("check_run", with_check_run("check_run/completed.json", app_id=15368), 29310, None, False),
        ("check_run", with_check_run("check_run/completed.json"), None, None, False),
        ("check_run", with_check_run("check_run/rerequested.json"), 29310, None, False),
        ("check_run", with_check_run("check_run/requested_action.json"), 29310, None, False),
        ("check_suite", fixture_bytes("check_suite/requested.json"), 29310, None, False),
        ("check_suite", fixture_bytes("check_suite/rerequested.json"), 29310, None, False),
        ("check_suite", fixture_bytes("check_suite/completed.json"), 29310, None, True),
        ("check_suite", fixture_bytes("check_suite/rerequested.json"), None, "octocoders-linter[bot]", True),
    ],
    ids=["own-comment", "someone-elses-comment", "own-check-created", "own-check-completed", "other-app-check",
         "app-unknown", "rerequested-by-a-person", "requested-action", "suite-requested-by-a-push",
         "suite-rerequested", "own-suite-completed", "sender-is-the-bot"],
)
def test_from_this_bot(event, body, app_id, bot_login, expected):
    assert parse(headers(event), body, app_id=app_id, bot_login=bot_login).from_this_bot is expected


# -- the fake's webhook builders, read back ---------------------------------------------------

REPO = "org/app"


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_pr(REPO, 7, author="alice", files=["a.py"], labels=["team:backend"], head_sha="sha-1")
    fake.add_issue(REPO, 3, "Approval e-mail", "As a syndic...", "bob", ["P1"])
    return fake


def read_back(fake: FakeGitHub, *args, **overrides):
    hdrs, body = fake.webhook(*args, **overrides)
    assert verify(fake.webhook_secret, body, hdrs["X-Hub-Signature-256"])
    if args[0] != "installation":
        assert json.loads(body)["repository"]["full_name"] == REPO
    return parse(hdrs, body, app_id=fake.app_id, bot_login=fake.bot_login)


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "edited", "labeled", "unlabeled",
                                    "ready_for_review", "closed"])
def test_pull_request_builders(fake, action):
    fake.push(REPO, 7, "sha-2")
    event = read_back(fake, "pull_request", action, REPO, 7)
    assert (event.name, event.action, event.repo, event.number) == ("pull_request", action, REPO, 7)
    assert event.head_sha == "sha-2" and event.labels == ("team:backend",) and event.sender == "alice"
    assert event.installation_id == fake.installation_id and event.is_pull_request


def test_synchronize_tells_before_and_after(fake):
    fake.push(REPO, 7, "sha-2")
    _, body = fake.webhook("pull_request", "synchronize", REPO, 7)
    payload = json.loads(body)
    assert (payload["before"], payload["after"]) == ("sha-1", "sha-2")


def test_review_builders(fake):
    review = fake.add_review(REPO, 7, "bob", "approved")
    event = read_back(fake, "pull_request_review", "submitted", REPO, 7)
    assert (event.name, event.review_state, event.sender, event.number) == ("pull_request_review", "approved", "bob", 7)
    fake.dismiss_review(REPO, 7, review)
    assert read_back(fake, "pull_request_review", "dismissed", REPO, 7).review_state == "dismissed"
    fake.add_review(REPO, 7, "carol", "CHANGES_REQUESTED")
    assert read_back(fake, "pull_request_review", "submitted", REPO, 7).review_state == "changes_requested"


def test_check_builders(fake):
    fake.add_check_run(REPO, "sha-1", "tests", conclusion="failure")
    event = read_back(fake, "check_run", "completed", REPO, 7)
    assert (event.name, event.action, event.head_sha, event.pr_numbers) == ("check", "completed", "sha-1", (7,))
    assert event.extra == {"check_name": "tests", "app_id": 15368} and not event.from_this_bot
    assert read_back(fake, "check_run", "rerequested", REPO, 7, name="tests").action == "rerequested"
    ours = fake.add_check_run(REPO, "sha-1", "Nexus DoD", app=(fake.app_id, fake.app_slug))
    assert read_back(fake, "check_run", "completed", REPO, check_run_id=ours).from_this_bot
    suite = read_back(fake, "check_suite", "completed", REPO, 7)
    assert (suite.name, suite.action, suite.head_sha, suite.pr_numbers) == ("check", "completed", "sha-1", (7,))
    fake.add_status(REPO, "sha-1", "ci/coverage", "pending", "running")
    status = read_back(fake, "status", None, REPO, 7)
    assert (status.action, status.head_sha, status.extra["check_name"]) == ("pending", "sha-1", "ci/coverage")


@pytest.mark.parametrize("action", ["opened", "edited", "labeled", "unlabeled", "reopened"])
def test_issue_builders(fake, action):
    event = read_back(fake, "issues", action, REPO, 3)
    assert (event.name, event.action, event.number, event.labels, event.sender) == ("issues", action, 3, ("P1",), "bob")
    assert not event.is_pull_request


def test_issue_comment_builders(fake):
    on_issue = fake.add_comment(REPO, 3, "carol", "/nexus deps")
    event = read_back(fake, "issue_comment", "created", REPO, 3)
    assert (event.comment.id, event.comment.body, event.sender) == (on_issue, "/nexus deps", "carol")
    assert not event.is_pull_request
    fake.add_comment(REPO, 7, fake.bot_login, "<!-- nexus-bot:dod -->", user_type="Bot")
    event = read_back(fake, "issue_comment", "created", REPO, 7)
    assert event.is_pull_request and event.comment.author_is_bot and event.sender_is_bot and event.from_this_bot


def test_installation_and_ping_builders(fake):
    installation = read_back(fake, "installation", "created", REPO, installation_id=99)
    assert (installation.name, installation.installation_id, installation.extra["repositories"]) == (
        "installation", 99, (REPO,))
    ping = read_back(fake, "ping", None, REPO)
    assert (ping.name, ping.extra["app_id"]) == ("ping", fake.app_id)


def test_builder_overrides(fake):
    hdrs, body = fake.webhook("pull_request", "opened", REPO, 7, delivery="fixed", sender="dependabot[bot]",
                              sender_type="Bot")
    event = parse(hdrs, body)
    assert (event.delivery_id, event.sender, event.sender_is_bot) == ("fixed", "dependabot[bot]", True)
    with pytest.raises(TypeError, match="nope"):
        fake.webhook("pull_request", "opened", REPO, 7, nope=1)
    with pytest.raises(ValueError, match="add_review"):
        fake.webhook("pull_request_review", "submitted", REPO, 7)


# ---- links the forge records ------------------------------------------------------------------

async def test_a_dependency_webhook_is_about_the_issue_of_its_repository_and_names_the_other():
    from tests.fakes.github import FakeGitHub

    fake = FakeGitHub()
    fake.add_issue("org/app", 71, "Approval e-mail")
    fake.add_issue("org/infra", 70, "Mail quota")
    for action, subject, other in (("blocked_by_added", ("org/app", 71), ("org/infra", 70)),
                                   ("blocking_removed", ("org/infra", 70), ("org/app", 71))):
        headers, body = fake.webhook("issue_dependencies", action, *subject, other=other)
        event = parse(headers, body)
        assert (event.name, event.action, event.repo, event.number) == ("issue_dependencies", action, *subject)
        assert event.extra["linked"] == list(other)
    headers, body = fake.webhook("sub_issues", "parent_issue_added", "org/app", 71, other=("org/infra", 70))
    event = parse(headers, body)
    assert (event.repo, event.number, event.extra["linked"]) == ("org/app", 71, ["org/infra", 70])
