"""Hostile input, generated: signature checks, payload parsing, the config loader and the HTTP
endpoint on random bytes, random JSON, and real payloads with fields deleted or retyped.

The contracts: ``verify`` never raises and is True only for the right HMAC; ``parse`` gives an
``Event`` or raises ``PayloadError``; ``load_config`` gives a ``Config`` or raises ``ConfigError``;
the endpoint never answers 5xx and its workers survive whatever a signed delivery holds.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config, ConfigError, default_config_text, load_config
from bot.forges.base import PayloadError
from bot.model import Event
from bot.forges import forgejo_webhooks, github_webhooks
from bot.service.store_sqlite import SqliteStore
from bot.service.web import FORGEJO, GITHUB
from tests.harness import RunningBot, settings_for
from tests.paths import FIXTURES

ROOT = Path(__file__).resolve().parent.parent

# ``bench/fuzz`` runs this module as a campaign: NEXUS_FUZZ_SCALE multiplies every example count
SCALE = max(1, int(os.environ.get("NEXUS_FUZZ_SCALE", "1")))
FAST = settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=list(HealthCheck),
                database=None if SCALE > 1 else settings.default.database)

MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())["fixtures"]
GITHUB_FIXTURES = [f for f in MANIFEST if f["forge"] == "github"]
FORGEJO_FIXTURES = [f for f in MANIFEST if f["forge"] in ("forgejo", "gitea")]


def _payload(entry: dict) -> dict:
    return json.loads((FIXTURES / entry["path"]).read_text())


def github_headers(event: str, delivery: str = "d-1") -> dict:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}


def forgejo_headers(event: str, event_type: str | None = None, delivery: str = "d-1") -> dict:
    headers = {"X-Forgejo-Event": event, "X-Forgejo-Delivery": delivery, "Content-Type": "application/json"}
    if event_type:
        headers["X-Forgejo-Event-Type"] = event_type
    return headers


def record(what: str, count: int) -> None:
    """The campaign's count of inputs tried (bench/fuzz adds them up)."""
    path = os.environ.get("NEXUS_FUZZ_COUNTS")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"what": what, "count": count}) + "\n")


# ---- strategies ----------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63), st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)


def _paths(obj, prefix=()):
    """Every path (tuple of keys / indexes) into a JSON value."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _mutate(obj, path, new, delete: bool):
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new


@st.composite
def mutated(draw, payloads: list[dict]) -> dict:
    """A real payload with 1-4 fields deleted or replaced by a value of another type."""
    payload = copy.deepcopy(draw(st.sampled_from(payloads)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(payload) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        delete = draw(st.booleans())
        _mutate(payload, path, None if delete else draw(json_values), delete)
    return payload


# ---- signatures ------------------------------------------------------------------------------------

@FAST
@given(secret=st.binary(min_size=1, max_size=64), body=st.binary(max_size=512),
       header=st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"sha256=[0-9a-fA-F]{0,70}", fullmatch=True)))
def test_github_verify_never_raises_and_accepts_only_the_right_hmac(secret, body, header):
    record("signatures", 1)
    right = hmac.new(secret, body, hashlib.sha256).hexdigest()
    result = github_webhooks.verify(secret, body, header)
    assert result is (header is not None and header[:7] == "sha256=" and header[7:].lower() == right)
    assert github_webhooks.verify(secret, body, f"sha256={right}") is True
    assert github_webhooks.verify(secret, body + b"x", f"sha256={right}") is False
    assert github_webhooks.verify(secret + b"x", body, f"sha256={right}") is False


@FAST
@given(secret=st.binary(max_size=64), body=st.binary(max_size=512),
       header=st.one_of(st.none(), st.text(max_size=80), st.from_regex(r"[0-9a-fA-F]{0,70}", fullmatch=True)))
def test_forgejo_verify_never_raises_and_accepts_only_the_right_hmac(secret, body, header):
    record("signatures", 1)
    right = hmac.new(secret, body, hashlib.sha256).hexdigest()
    result = forgejo_webhooks.verify(secret, body, header)
    assert result is (bool(secret) and header is not None and header.strip().lower() == right)
    if secret:
        assert forgejo_webhooks.verify(secret, body, right) is True
        assert forgejo_webhooks.verify(secret, body + b"x", right) is False


# ---- payload parsing ------------------------------------------------------------------------------

def _github_parse(event: str, body: bytes):
    try:
        result = github_webhooks.parse(github_headers(event), body, app_id=4242, bot_login="nexus-bot[bot]")
    except PayloadError:
        return None
    assert isinstance(result, Event)
    return result


def _forgejo_parse(event: str, event_type: str | None, body: bytes):
    try:
        result = forgejo_webhooks.parse(forgejo_headers(event, event_type), body, instance="default",
                                        bot_login="nexus-bot")
    except PayloadError:
        return None
    assert isinstance(result, Event)
    return result


@FAST
@given(event=st.sampled_from(sorted(GITHUB.events) + ["push", ""]), body=st.binary(max_size=256))
def test_github_parse_of_random_bytes(event, body):
    record("payloads", 1)
    _github_parse(event, body)


@FAST
@given(event=st.sampled_from(sorted(FORGEJO.events) + ["push"]), body=st.binary(max_size=256))
def test_forgejo_parse_of_random_bytes(event, body):
    record("payloads", 1)
    _forgejo_parse(event, event, body)


@FAST
@given(event=st.sampled_from(sorted(GITHUB.events)), payload=json_values)
def test_github_parse_of_random_json(event, payload):
    record("payloads", 1)
    _github_parse(event, json.dumps(payload).encode())


@FAST
@given(event=st.sampled_from(sorted(FORGEJO.events)), payload=json_values)
def test_forgejo_parse_of_random_json(event, payload):
    record("payloads", 1)
    _forgejo_parse(event, event, json.dumps(payload).encode())


@FAST
@given(data=st.data())
def test_github_parse_of_real_payloads_with_fields_deleted_or_retyped(data):
    record("payloads", 1)
    entry = data.draw(st.sampled_from(GITHUB_FIXTURES))
    payload = data.draw(mutated([_payload(entry)]))
    _github_parse(entry["event"], json.dumps(payload).encode())


@FAST
@given(data=st.data())
def test_forgejo_parse_of_real_payloads_with_fields_deleted_or_retyped(data):
    record("payloads", 1)
    entry = data.draw(st.sampled_from(FORGEJO_FIXTURES))
    payload = data.draw(mutated([_payload(entry)]))
    _forgejo_parse(entry["event"], entry["event_type"], json.dumps(payload).encode())


def _fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


@pytest.mark.parametrize("event,path,change", [
    ("pull_request", "github/pull_request/opened.json", {"sender": "octocat"}),
    ("pull_request", "github/pull_request/opened.json", {"repository": ["org/app"]}),
    ("pull_request", "github/pull_request/opened.json", {"installation": 7}),
    ("installation", "github/installation/created.json", {"repositories": ["org/app"]}),
    ("issue_comment", "github/issue_comment/created.json", {"comment.created_at": 1700000000}),
    ("issue_comment", "github/issue_comment/created.json", {"comment.created_at": "yesterday"}),
], ids=["sender", "repository", "installation", "repositories", "created_at number", "created_at text"])
def test_github_fields_of_an_unexpected_type_are_a_payload_error(event, path, change):
    payload = _fixture(path)
    for dotted, value in change.items():
        _mutate(payload, tuple(dotted.split(".")), value, delete=False)
    _github_parse(event, json.dumps(payload).encode())


@pytest.mark.parametrize("change", [{"action": ["opened"]}, {"pull_request": "x", "number": None}],
                         ids=["action", "pull_request"])
def test_forgejo_fields_of_an_unexpected_type_are_a_payload_error(change):
    payload = _fixture("forgejo/woodpecker/HookPullRequest.json")
    payload.pop("number", None)
    payload.update({k: v for k, v in change.items() if v is not None})
    _forgejo_parse("pull_request", "pull_request", json.dumps(payload).encode())


def test_an_item_id_that_is_not_a_string_is_a_config_error():
    _load(ORG, (".github/nexus.yml", json.dumps({"items": [{"id": ["changelog"], "enabled": False}]})))


def test_every_unmutated_fixture_parses():
    for entry in GITHUB_FIXTURES:
        github_webhooks.parse(github_headers(entry["event"]), json.dumps(_payload(entry)).encode())
    for entry in FORGEJO_FIXTURES:
        if entry["event_type"] in forgejo_webhooks._MAPPERS:
            forgejo_webhooks.parse(forgejo_headers(entry["event"], entry["event_type"]),
                                   json.dumps(_payload(entry)).encode(), instance="default")


# ---- the config loader ----------------------------------------------------------------------------

ORG = default_config_text()
yaml_texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("abc: -[]{}#&*!|>'\"%@`\n\t ,?0129.")), max_size=200),
    json_values.map(lambda v: json.dumps(v)),  # JSON is YAML
)


def _load(*sources) -> None:
    try:
        result = load_config(*sources)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(result, Config)


@FAST
@given(text=yaml_texts)
def test_load_config_of_random_text(text):
    record("configs", 1)
    _load(ORG, (".github/nexus.yml", text))


@settings(max_examples=40, deadline=None)
@given(text=yaml_texts)
def test_load_config_of_random_text_as_the_organisation_config(text):
    record("configs", 1)
    _load(("dod.yml", text))


REPO_CONFIGS = [
    {"review": {"min_approvals": 2, "dismiss_stale": True}},
    {"items": [{"id": "changelog", "enabled": False}]},
    {"items": [{"id": "coverage", "evidence": {"kind": "metric", "names": ["coverage*"], "pattern": r"(\d+)%",
                                               "op": ">=", "threshold": 80}}]},
    {"teams": {"backend": {"paths": ["backend/**"]}}, "labels": {"ready": "ready"}},
]


@FAST
@given(data=st.data())
def test_load_config_of_repository_configs_with_fields_deleted_or_retyped(data):
    record("configs", 1)
    config = data.draw(mutated(REPO_CONFIGS))
    _load(ORG, (".github/nexus.yml", json.dumps(config)))


def _alias_bomb(depth: int) -> str:
    """A few hundred bytes of YAML whose aliases expand to 9**(depth+1) strings."""
    lines = ['x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, depth + 1)]
    return "\n".join(lines) + f"\nitems:\n  - id: changelog\n    labels: *x{depth}\n"


def test_a_yaml_alias_bomb_is_refused():
    """A 600-byte file whose aliases expand to billions of values: refused at once, where expanding
    it took 80 s of CPU (a hang guard of 60 s, not a speed test)."""
    code = ("import sys; from bot.config import load_config, default_config_text, ConfigError\n"
            "try: load_config(default_config_text(), ('.github/nexus.yml', sys.stdin.read()))\n"
            "except ConfigError: pass\n")
    # in a child process: the thread of a test could not be stopped when it hangs
    subprocess.run([sys.executable, "-c", code], input=_alias_bomb(7), text=True, timeout=60, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


# ---- the HTTP endpoint ----------------------------------------------------------------------------

header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
random_headers = st.dictionaries(
    st.sampled_from(["X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "Content-Type",
                     "X-Forgejo-Event", "X-Forgejo-Event-Type", "X-Gitea-Event", "X-Forgejo-Delivery",
                     "X-Forgejo-Signature", "X-Gitea-Signature", "Content-Encoding", "X-Whatever"]),
    header_values, max_size=6,
)


@pytest.fixture
async def live(tmp_path, fake_github, fake_forgejo):
    bot = await RunningBot(settings_for(tmp_path, github=fake_github, forgejo=fake_forgejo,
                                        MAX_BODY_BYTES=200_000)).start()
    yield bot, fake_github, fake_forgejo
    await bot.stop()


@st.composite
def requests(draw, github_secret: bytes, forgejo_secret: bytes):
    """(path, headers, body): random, or signed right and well-formed enough to reach the queue."""
    path = draw(st.sampled_from(["/webhooks/github", "/webhooks/forgejo", "/webhooks/forgejo/nope"]))
    kind = draw(st.sampled_from(["bytes", "json", "payload"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=600))
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    else:
        fixtures = GITHUB_FIXTURES if path == "/webhooks/github" else FORGEJO_FIXTURES
        entry = draw(st.sampled_from(fixtures))
        body = json.dumps(draw(mutated([_payload(entry)]))).encode()
    headers = draw(random_headers)
    if draw(st.booleans()):  # signed, with the headers a forge sends
        delivery = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
        if path == "/webhooks/github":
            event = entry["event"] if kind == "payload" else draw(st.sampled_from(sorted(GITHUB.events)))
            headers.update(github_headers(event, delivery))
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(github_secret, body, hashlib.sha256).hexdigest()
        else:
            event = entry["event_type"] if kind == "payload" else draw(st.sampled_from(sorted(FORGEJO.events)))
            headers.update(forgejo_headers(event, event, delivery))
            headers["X-Forgejo-Signature"] = hmac.new(forgejo_secret, body, hashlib.sha256).hexdigest()
    return path, headers, body


async def test_the_endpoint_never_answers_5xx_and_the_workers_survive(live):
    bot, github, forgejo = live
    github_secret = github.webhook_secret
    forgejo_secret = forgejo.webhook_secret if isinstance(forgejo.webhook_secret, bytes) else \
        forgejo.webhook_secret.encode()
    answers: list[int] = []

    @settings(max_examples=250 * SCALE, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(request=requests(github_secret, forgejo_secret))
    def run(request):
        path, headers, body = request
        examples.append((path, headers, body))

    examples: list = []
    run()  # hypothesis draws the requests; they are sent below, in this test's event loop
    for path, headers, body in examples:
        status, data = await bot.post(path, headers, body)
        assert status < 500, (status, data, path, headers, body[:200])
        answers.append(status)
    assert 202 in answers and 401 in answers
    record("endpoint requests", len(answers))

    await bot.settle(timeout=60)
    assert not bot.worker._task.done(), "the worker loop died"
    github.add_pr("org/app", 1, files=["docs/a.md"])
    assert (await bot.deliver(github.webhook("pull_request", "opened", "org/app", 1)))[0] == 202
    await bot.settle(timeout=60)
    assert github.check_runs_for("org/app", github._pull("org/app", 1).head_sha, "Nexus DoD")
    async with bot._session.get(bot.url + "/healthz") as resp:
        assert resp.status == 200


# ---- signed but hostile: the workers must survive what a parser lets through ----------------------

@pytest.mark.parametrize("number", [[1], {"n": 1}, 1.5, True, -3, "1/../../x"],
                         ids=["list", "object", "float", "bool", "negative", "path"])
async def test_a_signed_delivery_with_a_bad_number_is_rejected_and_the_workers_go_on(live, number):
    bot, github, _ = live
    github.add_pr("org/app", 1, files=["docs/a.md"])
    headers, body = github.webhook("pull_request", "opened", "org/app", 1)
    payload = json.loads(body)
    payload["pull_request"]["number"] = number
    payload.pop("number")
    body = json.dumps(payload).encode()
    headers = {**github_headers("pull_request", "hostile"),
               "X-Hub-Signature-256": "sha256=" + hmac.new(github.webhook_secret, body, hashlib.sha256).hexdigest()}
    assert (await bot.post("/webhooks/github", headers, body))[0] == 202
    github.add_pr("org/app", 2, files=["docs/a.md"])
    assert (await bot.deliver(github.webhook("pull_request", "opened", "org/app", 2)))[0] == 202
    await bot.settle(timeout=20)
    state, outcome = await bot.store.outcome("github", "github", "hostile")
    assert state == "failed" and outcome.startswith("rejected"), outcome
    assert github.check_runs_for("org/app", github._pull("org/app", 2).head_sha, "Nexus DoD")
    assert not github.check_runs_for("org/app", github._pull("org/app", 1).head_sha, "Nexus DoD")
    assert not bot.worker._task.done()


async def test_undecodable_bytes_in_the_delivery_header_get_400_and_the_service_goes_on(live):
    """The delivery id is not signed and is the queue's key: bytes that are not UTF-8 (aiohttp hands
    them on as lone surrogates, which SQLite cannot store) must not reach the database."""
    bot, github, _ = live
    github.add_pr("org/app", 1, files=["docs/a.md"])
    headers, body = github.webhook("pull_request", "opened", "org/app", 1)
    raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items() if k != "X-GitHub-Delivery")
    host, port = bot.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n" + raw + b"X-GitHub-Delivery: d\xff\xfe\r\n"
                     + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
    assert status_line.split()[1] == b"400", status_line
    assert (await bot.deliver(github.webhook("pull_request", "opened", "org/app", 1)))[0] == 202
    await bot.settle(timeout=20)
    assert github.check_runs_for("org/app", github._pull("org/app", 1).head_sha, "Nexus DoD")


async def test_a_row_the_database_refuses_does_not_leave_the_store_unusable(tmp_path):
    store = SqliteStore(str(tmp_path / "q.sqlite3"))
    try:
        with pytest.raises(UnicodeEncodeError):
            await store.accept("github", "github", "bad\udcff", {}, b"{}")
        assert await store.accept("github", "github", "good", {}, b"{}") is True
        (delivery,) = await store.claim()
        await store.finish(delivery.id, "ignored: pull_request.\udcff does not change a verdict")
        store.flush_finished()
        assert await store.outcome("github", "github", "good") == ("done", "ignored: pull_request.\\udcff does not change "
                                                                     "a verdict")
    finally:
        await store.close()


# ---- comments and bodies: the command parser, the command answer, the rules --------------------------

from bot.checks import evaluate as evaluate_dod  # noqa: E402
from bot.checks.ready import evaluate_ready  # noqa: E402
from bot.commands import answer_comment  # noqa: E402
from bot.checks.deps import DepGraph  # noqa: E402
from bot.model import ChangedFile, Issue, ItemRef, PullRequest  # noqa: E402
from tests.test_commands_unit import FakeContext  # noqa: E402

MARKDOWN_BITS = st.sampled_from([
    "/nexus ", "/nexus help", "/nexus waive changelog ", "/nexus team backend", "/nexus points 5", "/nexus deps",
    "```", "~~~", "````", "    ", "> ", "<!--", "-->", "- [x] ", "- [ ] ", "## Rollback", "Depends on #", "#12",
    "org/repo#3", "Given ", "When ", "Then ", "Étant donné ", "Alors ", "As a ", "I want ", "so that ", "\n",
    "\r\n", "\t", "*", "_", "`", "'", '"', "é", "\u202e", "\x00", "a" * 40, "(", ")", "[", "]", "!",
])
comments = st.one_of(st.text(max_size=300), st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=6)),
                                                     max_size=40).map("".join))
CONFIG = load_config(default_config_text())


@FAST
@given(body=comments, author=st.sampled_from(["alice", "nina", "rita"]), on_pr=st.booleans())
def test_any_comment_gets_an_answer_or_none_never_an_error(body, author, on_pr):
    graph = DepGraph(root=ItemRef("github", "org/api", 7), depth=2, blocked_label="blocked")
    ctx = FakeContext(author=author, is_pull_request=on_pr, permissions={"alice": "write", "nina": "admin"},
                      graph=graph)
    answer = asyncio.run(answer_comment(ctx, body))
    assert answer is None or answer.reply.strip()
    record("comments", 1)


@FAST
@given(body=comments, title=st.text(max_size=60), labels=st.lists(st.text(max_size=12), max_size=4))
def test_any_issue_body_gets_a_ready_verdict(body, title, labels):
    verdict = evaluate_ready(Issue("github", "org/app", 1, title, body, "alice", tuple(labels)), CONFIG)
    assert len(verdict.criteria) == 5
    record("issue bodies", 1)


@FAST
@given(body=comments, files=st.lists(st.text(min_size=1, max_size=30), max_size=20),
       labels=st.lists(st.text(max_size=12), max_size=4))
def test_any_pull_request_body_and_files_get_a_dod_verdict(body, files, labels):
    pr = PullRequest("github", "org/app", 1, "t", body, "alice", "main", "f", "sha", tuple(labels),
                     tuple(ChangedFile(f) for f in files))
    assert evaluate_dod(pr, CONFIG).items
    record("pull request bodies", 1)
