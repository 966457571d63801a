"""Forgejo/Gitea webhooks: signatures, and every captured payload mapped onto the bot's ``Event``.

Headers are not part of the captured data: they come from ``manifest.json`` (what current Forgejo
sends with each payload), and for the 2018 go-scm payloads also as old Gitea sent them (only
``X-Gitea-Event``).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from bot.forges.base import PayloadError
from bot.forges.forgejo_webhooks import UnknownEvent, parse, verify

from tests.paths import FIXTURES
MANIFEST = [f for f in json.loads((FIXTURES / "manifest.json").read_text())["fixtures"] if f["forge"] != "github"]

# (event type, action in the payload) -> (Event.name, Event.action, review_state); None: UnknownEvent
EXPECTED = {
    ("pull_request", "opened"): ("pull_request", "opened", None),
    ("pull_request", "edited"): ("pull_request", "edited", None),
    ("pull_request", "closed"): ("pull_request", "closed", None),
    ("pull_request", "reopened"): ("pull_request", "reopened", None),
    ("pull_request_sync", "synchronized"): ("pull_request", "synchronize", None),
    ("pull_request_label", "label_updated"): ("pull_request", "labeled", None),
    ("pull_request_label", "label_cleared"): ("pull_request", "unlabeled", None),
    ("pull_request_assign", "assigned"): ("pull_request", "assigned", None),
    ("pull_request_assign", "unassigned"): ("pull_request", "unassigned", None),
    ("pull_request_milestone", "milestoned"): ("pull_request", "milestoned", None),
    ("pull_request_milestone", "demilestoned"): ("pull_request", "demilestoned", None),
    ("pull_request_review_request", "review_requested"): ("pull_request", "review_requested", None),
    ("pull_request_review_approved", "reviewed"): ("pull_request_review", "submitted", "approved"),
    ("pull_request_review_rejected", "reviewed"): ("pull_request_review", "submitted", "changes_requested"),
    ("pull_request_review_comment", "reviewed"): ("pull_request_review", "submitted", "commented"),
    ("issues", "opened"): ("issues", "opened", None),
    ("issues", "closed"): ("issues", "closed", None),
    ("issue_comment", "created"): ("issue_comment", "created", None),
    ("issue_comment", "edited"): ("issue_comment", "edited", None),
    ("issue_comment", "deleted"): ("issue_comment", "deleted", None),
    ("pull_request_comment", "created"): ("issue_comment", "created", None),
    ("pull_request_comment", "edited"): ("issue_comment", "edited", None),
    ("pull_request_comment", "deleted"): ("issue_comment", "deleted", None),
    ("push", None): ("push", "pushed", None),
    ("create", None): None,
    ("release", "published"): None,
}


def body_of(entry: dict) -> bytes:
    return (FIXTURES / entry["path"]).read_bytes()


def forgejo_headers(entry: dict, delivery: str = "d-1") -> dict[str, str]:
    return {
        "X-Forgejo-Event": entry["event"], "X-Forgejo-Event-Type": entry["event_type"], "X-Forgejo-Delivery": delivery,
    }


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["path"])
def test_every_captured_payload_maps_as_its_headers_say(entry):
    expected = EXPECTED[entry["event_type"], entry["action"]]
    if expected is None:
        with pytest.raises(UnknownEvent):
            parse(forgejo_headers(entry), body_of(entry), instance="codeberg")
        return
    payload = json.loads(body_of(entry))
    event = parse(forgejo_headers(entry), body_of(entry), instance="codeberg")
    assert (event.name, event.action, event.review_state) == expected
    assert event.forge == "forgejo" and event.instance == "codeberg" and event.delivery_id == "d-1"
    assert event.repo == payload["repository"]["full_name"]
    assert event.sender == (payload["sender"].get("login") or payload["sender"]["username"])
    if event.name == "push":  # about the repository: its branch and what the push changed
        assert event.number is None and event.entity == ("codeberg", event.repo, 0)
        assert event.extra["ref"] == payload["ref"] and event.extra["default_branch"] == payload["repository"].get("default_branch")
        commits = payload["commits"]
        assert event.extra["paths"] == (sorted({p for c in commits for k in ("added", "removed", "modified")
                                                for p in c[k]}) if commits else None)
        return
    item = payload.get("pull_request") or payload.get("issue")
    assert event.number == (payload.get("number") or item["number"])
    assert event.is_pull_request == (entry["event_type"] not in ("issues", "issue_comment"))
    if "pull_request" in payload:
        assert event.head_sha == payload["pull_request"]["head"]["sha"]
        labels = payload["pull_request"].get("labels")
        assert event.labels == (None if labels is None else tuple(label["name"] for label in labels))
    if event.name == "issue_comment":
        assert event.comment.id == payload["comment"]["id"] and event.comment.body == payload["comment"]["body"]


GO_SCM = [e for e in MANIFEST if e["path"].startswith("gitea/go-scm/")]


@pytest.mark.parametrize("entry", GO_SCM, ids=lambda e: e["path"])
def test_2018_gitea_payloads_with_only_the_event_header(entry):
    """Before X-Gitea-Event-Type existed; a comment on a pull request is told by ``issue.pull_request``."""
    headers = {"X-Gitea-Event": entry["event"], "X-Gitea-Delivery": "old-1"}
    event = parse(headers, body_of(entry), instance="default")
    name, action, _ = EXPECTED[entry["event_type"], entry["action"]]
    assert (event.name, event.action, event.delivery_id) == (name, action, "old-1")
    assert event.is_pull_request == (entry["event_type"] != "issues" and "issue_comment_" not in entry["path"])


def test_signature_vectors_from_signatures_json():
    vectors = json.loads((FIXTURES / "signatures.json").read_text())
    forgejo = [v for v in vectors if "X-Forgejo-Signature" in v.get("headers", {})]
    assert len(forgejo) == 2
    for v in forgejo:
        body = (FIXTURES / v["payload_file"]).read_bytes()
        secret = v["secret"].encode()
        assert verify(secret, body, v["headers"]["X-Forgejo-Signature"])
        assert verify(secret, body, v["headers"]["X-Gitea-Signature"])
        assert not verify(secret, body + b" ", v["headers"]["X-Forgejo-Signature"])
        assert not verify(b"other", body, v["headers"]["X-Forgejo-Signature"])
        assert not verify(secret, body, v["headers"]["X-Hub-Signature-256"]), "the sha256= form is GitHub's"


@pytest.mark.parametrize("header", [None, "", "   ", "zz", "é" * 64])
def test_missing_empty_or_garbled_signature_is_refused(header):
    assert not verify(b"fixture-secret", b"{}", header)


def test_empty_secret_accepts_nothing():
    assert not verify(b"", b"{}", hmac.new(b"", b"{}", hashlib.sha256).hexdigest())


def entry(path: str) -> dict:
    return next(e for e in MANIFEST if e["path"] == path)


def test_labels_cleared_is_unlabeled_with_the_remaining_labels():
    e = entry("forgejo/woodpecker/HookPullRequestLabelsCleared.json")
    event = parse(forgejo_headers(e), body_of(e), instance="codeberg")
    assert (event.name, event.action, event.number) == ("pull_request", "unlabeled", 1)
    assert event.labels == ("Kind/Enhancement", "Kind/Testing")


def test_review_approved_arrives_as_pull_request_review_approved():
    e = entry("gitea/woodpecker/HookPullRequestReviewAck.json")
    event = parse(forgejo_headers(e), body_of(e), instance="gitea.com", bot_login="nexus-bot")
    assert (event.name, event.action, event.review_state) == ("pull_request_review", "submitted", "approved")
    assert (event.repo, event.number, event.sender) == ("a_nice_user/hello_world_ci", 7, "a_nice_user")
    assert event.head_sha == "07977177c2cd7d46bad37b8472a9d50e7acb9d1f"
    assert not event.from_this_bot


def test_the_pull_request_comment_name_clash():
    """X-Forgejo-Event: pull_request_comment is a review comment; the event *type* of that name is an
    ordinary comment on a pull request. The type header decides."""
    review = entry("gitea/woodpecker/HookPullRequestReviewComment.json")
    headers = {"X-Forgejo-Event": "pull_request_comment", "X-Forgejo-Event-Type": "pull_request_review_comment",
               "X-Forgejo-Delivery": "r"}
    event = parse(headers, body_of(review), instance="x")
    assert (event.name, event.review_state) == ("pull_request_review", "commented")

    comment = entry("gitea/go-scm/pull_request_comment_created.json")
    headers = {"X-Forgejo-Event": "issue_comment", "X-Forgejo-Event-Type": "pull_request_comment",
               "X-Forgejo-Delivery": "c"}
    event = parse(headers, body_of(comment), instance="x")
    assert (event.name, event.action, event.is_pull_request, event.number) == ("issue_comment", "created", True, 2)
    assert event.comment.author == "unknwon"

    # A delivery without the type header: X-Forgejo-Event means what Forgejo means by it.
    headers = {"X-Forgejo-Event": "pull_request_comment", "X-Forgejo-Delivery": "r2"}
    event = parse(headers, body_of(review), instance="x")
    assert event.name == "pull_request_review"


def test_github_event_header_is_never_read():
    e = entry("forgejo/woodpecker/HookPullRequestEdited.json")
    with pytest.raises(PayloadError, match="X-Forgejo-Event-Type"):
        parse({"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "g"}, body_of(e), instance="x")


def test_gitea_only_headers(fake_forgejo):
    fake_forgejo.add_pr("acme/app", 3, title="t", author="bob", labels=["team:backend"])
    headers, body = fake_forgejo.webhook("pull_request_sync", "synchronized", "acme/app", 3, flavour="gitea")
    assert not any(h.startswith(("X-Forgejo", "X-GitHub", "X-Hub")) for h in headers)
    assert verify(fake_forgejo.webhook_secret, body, headers["X-Gitea-Signature"])
    event = parse(headers, body, instance="gitea")
    assert (event.name, event.action, event.number) == ("pull_request", "synchronize", 3)
    assert event.labels == ("team:backend",)
    assert event.delivery_id == headers["X-Gitea-Delivery"]


def test_fake_deliveries_carry_what_forgejo_sends(fake_forgejo):
    fake_forgejo.add_pr("acme/app", 4, author="bob")
    comment = fake_forgejo.add_comment("acme/app", 4, "nexus-bot", "<!-- nexus-bot:dod -->")
    headers, body = fake_forgejo.webhook("pull_request_comment", "edited", "acme/app", 4, comment_id=comment)
    assert headers["X-Forgejo-Event"] == headers["X-GitHub-Event"] == "issue_comment"
    assert headers["X-Hub-Signature-256"] == "sha256=" + headers["X-Forgejo-Signature"]
    assert b'"secret"' not in body
    event = parse(headers, body, instance="default", bot_login="nexus-bot")
    assert (event.name, event.action, event.is_pull_request) == ("issue_comment", "edited", True)
    assert event.comment.id == comment
    assert event.from_this_bot


def test_gitea_commit_status_is_a_check_event():
    body = json.dumps({"sha": "abc123", "state": "success", "context": "ci/tests", "repository": {"full_name": "o/r"},
                       "sender": {"login": "ci"}}).encode()
    event = parse({"X-Gitea-Event-Type": "status", "X-Gitea-Delivery": "s"}, body, instance="gitea")
    assert (event.name, event.action, event.head_sha) == ("check", "completed", "abc123")
    assert event.extra["check_name"] == "ci/tests"


@pytest.mark.parametrize(
    "headers, body, error",
    [
        ({"X-Forgejo-Event-Type": "pull_request", "X-Forgejo-Delivery": "d"}, b"{not json", "malformed JSON"),
        ({"X-Forgejo-Event-Type": "pull_request", "X-Forgejo-Delivery": "d"}, b"[1, 2]", "not a JSON object"),
        ({"X-Forgejo-Event-Type": "pull_request", "X-Forgejo-Delivery": "d"}, b'{"action": "x"}', "'pull_request'"),
        ({"X-Forgejo-Event-Type": "pull_request"}, b"{}", "X-Forgejo-Delivery"),
        ({"X-Forgejo-Delivery": "d"}, b"{}", "X-Forgejo-Event-Type"),
    ],
    ids=["malformed", "array", "missing-field", "no-delivery", "no-event"],
)
def test_payload_errors_say_what_is_wrong(headers, body, error):
    with pytest.raises(PayloadError, match=error) as raised:
        parse(headers, body, instance="x")
    assert not isinstance(raised.value, UnknownEvent)


def test_header_names_are_case_insensitive():
    e = entry("forgejo/woodpecker/HookPullRequestUpdated.json")
    headers = {k.lower(): v for k, v in forgejo_headers(e).items()}
    assert parse(headers, body_of(e), instance="x").action == "synchronize"
