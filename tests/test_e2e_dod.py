"""The DoD check end to end: signed webhooks over HTTP to the real service, a fake forge on a real
socket, and assertions on what the forge received. Every test runs on GitHub and on Forgejo (the
``world`` fixture, tests/world.py) unless marked ``@only(...)``; Forgejo's own cases are in
tests/test_e2e_forgejo.py."""

from __future__ import annotations

import json

import pytest

from .world import REPO, only

GREEN_CI = ["tests", "lint", "unit-tests", "security: cargo audit", "deploy staging (smoke)"]


def green(world, sha, extra=()):
    for name in [*GREEN_CI, *extra]:
        world.ci(sha, name, "success")


async def test_missing_changelog_fails_then_passes_after_a_push_and_green_ci(world):
    world.open_pr(1, files=["docs/guide.md"])
    assert await world.send("opened", 1) == 202
    await world.settle()
    assert world.state(1) == "failure"
    changelog = world.item(1, "changelog")
    assert changelog["state"] == "failed" and "CHANGELOG.md" in changelog["reason"]
    assert "Add an entry to CHANGELOG.md" in world.report(1).summary  # says what to do

    sha = world.push(1, ["docs/guide.md", "CHANGELOG.md"])
    await world.send("synchronize", 1)
    await world.settle()
    assert world.state(1) == "pending"  # CI and review not in yet: waiting, not failing
    assert world.item(1, "changelog")["state"] == "passed"

    green(world, sha)
    world.review(1, "bob", "APPROVED")
    await world.send("ci_completed", 1)  # Forgejo announces no CI completion: see ForgejoWorld.delivery
    await world.settle()
    assert world.state(1) == "success", world.published(1)
    assert world.published(1)["head_sha"] == sha


async def test_an_approval_after_green_ci_turns_the_check_green(world):
    world.open_pr(11, files=["docs/guide.md", "CHANGELOG.md"])
    green(world, world.head(11))
    await world.send("opened", 11)
    await world.settle()
    assert world.state(11) == "pending" and world.item(11, "approved-pr")["state"] == "pending"

    world.review(11, "bob", "APPROVED")
    await world.send("review", 11)
    await world.settle()
    assert world.item(11, "approved-pr")["state"] == "passed"
    assert world.state(11) == "success", world.published(11)


@pytest.mark.parametrize("coverage,expected", [("85.0", "failed"), ("91.0", "passed")])
async def test_backend_coverage_threshold(world, coverage, expected):
    world.open_pr(2, files=["backend/src/expenses.rs", "CHANGELOG.md"])
    world.ci(world.head(2), "coverage / backend", "success", f"Line coverage: {coverage}%")
    await world.send("opened", 2)
    await world.settle()
    item = world.item(2, "coverage")
    assert item["state"] == expected, item
    assert coverage.rstrip("0").rstrip(".") in item["reason"]


async def test_running_ci_is_pending_then_turns_when_the_suite_completes(world):
    world.open_pr(3, files=["docs/a.md", "CHANGELOG.md"])
    sha = world.head(3)
    world.ci(sha, "tests", "running")
    await world.send("opened", 3)
    await world.settle()
    assert world.state(3) == "pending"
    assert world.item(3, "tests") == {"id": "tests", "state": "pending", "reason": "tests still running", "required": True}

    world.ci(sha, "tests", "failure")  # the re-run of the job, newer id
    await world.send("ci_completed", 3)
    await world.settle()
    assert world.item(3, "tests")["state"] == "failed"
    assert world.state(3) == "failure"


async def test_the_same_delivery_five_times_gives_one_verdict_and_one_evaluation(world):
    world.open_pr(4, files=["docs/a.md"])
    delivery = world.delivery("opened", 4)
    statuses = [(await world.bot.deliver(delivery, world.path))[0] for _ in range(5)]
    await world.settle()
    assert statuses == [202, 200, 200, 200, 200]
    assert world.report(4) is not None
    assert len(world.verdict_writes()) == 1
    assert world.bot.worker.evaluations == 1


async def test_bad_signature_gets_401_and_no_api_call(world):
    world.open_pr(5, files=["docs/a.md"])
    headers, body = world.delivery("opened", 5)
    for name in world.signature_headers:
        headers[name] = "0" * 64 if world.forge != "github" else "sha256=" + "0" * 64
    status, data = await world.bot.post(world.path, headers, body)
    for name in world.signature_headers:
        del headers[name]
    missing, _ = await world.bot.post(world.path, headers, body)
    await world.settle()
    assert (status, missing) == (401, 401) and "signature" in data["error"]
    assert world.fake.requests == []


async def test_broken_repository_config_fails_the_check_naming_the_line(world):
    world.set_repo_file(".github/nexus.yml", "review:\n  min_approvals: 1\n  dismis_stale: yes\n")
    world.open_pr(6, files=["docs/a.md"])
    await world.send("opened", 6)
    await world.settle()
    assert world.state(6) == "failure"
    report = world.report(6)
    assert ".github/nexus.yml:3" in report.title and "dismis_stale" in report.title
    assert "unknown setting" in report.summary


async def test_config_is_read_from_the_base_branch_never_the_head(world):
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: changelog\n    enabled: false\n", ref="feature-7")
    world.open_pr(7, files=["docs/a.md"])
    await world.send("opened", 7)
    await world.settle()
    assert world.item(7, "changelog")["state"] == "failed"  # the head's config cannot switch it off


async def test_team_labels_follow_the_paths(world):
    world.open_pr(8, files=["backend/src/a.rs", "frontend/src/App.svelte", "CHANGELOG.md"])
    await world.send("opened", 8)
    await world.settle()
    assert {"team:backend", "team:frontend", "nexus"} <= world.labels(8)
    assert world.requested_teams(8) == {"backend", "frontend"}  # cross-team: each team asked to review

    world.push(8, ["frontend/src/App.svelte", "CHANGELOG.md"])
    await world.send("synchronize", 8)
    await world.settle()
    labels = world.labels(8)
    assert "team:frontend" in labels and "team:backend" not in labels and "nexus" not in labels


@only("github")
async def test_the_check_reruns_on_request(world):
    world.open_pr(12, files=["docs/a.md"])
    await world.send("opened", 12)
    await world.settle()
    before = len(world.verdict_writes())
    await world.send("rerun", 12, sender="carol")
    await world.settle()
    assert len(world.verdict_writes()) == before + 1  # re-evaluated and the check updated


async def test_asking_nexus_dod_in_a_comment_re_evaluates_and_answers(world):
    """The way to refresh the verdict on any forge (on Forgejo, the only way once CI has finished)."""
    world.open_pr(13, files=["docs/a.md", "CHANGELOG.md"])
    world.ci(world.head(13), "tests", "running")
    await world.send("opened", 13)
    await world.settle()
    assert world.item(13, "tests")["state"] == "pending"

    world.ci(world.head(13), "tests", "success")
    asked = world.comment(13, "carol", "/nexus dod")
    assert await world.send("comment", 13, comment_id=asked) == 202
    await world.settle()
    assert world.item(13, "tests")["state"] == "passed"
    assert world.reactions(asked) == [(world.bot_login, "eyes")]
    answers = [body for body in world.bot_comments(13) if body.startswith("> /nexus dod")]
    assert len(answers) == 1 and "CHANGELOG.md updated" in answers[0]


async def test_events_caused_by_the_bot_itself_are_ignored(world):
    world.open_pr(9, files=["docs/a.md"], labels=["team:backend"])
    await world.send("labeled", 9, label="team:backend", sender=world.bot_login)
    await world.settle()
    assert world.report(9) is None and world.api_writes() == []


@only("github")
@pytest.mark.parametrize("body,headers,status,words", [
    (b'{"action": "opened"', {}, 400, "JSON"),
    (b"[1, 2]", {}, 400, "JSON object"),
    (b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    (b"{}", {"X-GitHub-Delivery": ""}, 400, "X-GitHub-Delivery"),
], ids=["truncated JSON", "not an object", "form encoded", "no delivery id"])
async def test_bad_input_gets_a_clear_4xx(world, body, headers, status, words):
    headers, body = world.signed("pull_request", body, **headers)
    got, data = await world.bot.post(world.path, {k: v for k, v in headers.items() if v != ""}, body)
    assert got == status and words in data["error"]
    assert (await world.bot.store.counts()) == {}  # nothing was queued


async def test_a_payload_missing_fields_is_recorded_and_the_service_goes_on(world):
    body = json.dumps({"action": "opened", "number": 1}).encode()
    assert (await world.bot.post(world.path, *world.signed("pull_request", body, delivery="broken-1")))[0] == 202
    world.open_pr(10, files=["docs/a.md"])
    await world.send("opened", 10)
    await world.settle()
    assert (await world.outcome("broken-1"))[0] == "failed"
    assert world.report(10) is not None


@only("github")
async def test_no_sticky_comment_on_github_by_default(world):
    """The check run says it all on GitHub."""
    world.open_pr(30, files=["docs/a.md"])
    await world.send("opened", 30)
    await world.settle()
    assert world.check_run(30) is not None and world.bot_comments(30) == []


@only("github")
async def test_the_sticky_comment_is_an_option_on_github(world):
    """``reporting.sticky_comment_github`` adds the same report as one comment, edited in place."""
    world.set_repo_file(".github/nexus.yml", "reporting:\n  sticky_comment_github: true\n")
    world.open_pr(31, files=["docs/a.md"])
    await world.send("opened", 31)
    await world.settle()
    world.push(31, ["docs/a.md", "CHANGELOG.md"])
    await world.send("synchronize", 31)
    await world.settle()
    [comment] = world.bot_comments(31)
    assert '"id":"changelog","state":"passed"' in comment  # the latest verdict, machine-readable
    assert world.item(31, "changelog")["state"] == "passed"


# ---- the description is read as a person sees it (bot/checks/text.py) ------------------------------

@pytest.mark.parametrize("body,state", [
    ("````\n```\n- [x] Logs anonymised (no PII)\n```\n````\n", "failed"),  # quoted code, not a ticked box
    ("```\n~~~\n```\n- [x] Logs anonymised (no PII)\n", "passed"),  # ~~~ inside ``` did not close it
    ("- [✅] Logs anonymised (no PII)\n", "passed"),
], ids=["a box in a four-backtick fence", "a box after tildes inside backticks", "a box ticked with ✅"])
async def test_a_checkbox_counts_only_where_a_person_sees_one(world, body, state):
    world.open_pr(60, files=["backend/src/log.rs", "CHANGELOG.md"], body=body)
    assert await world.send("opened", 60) == 202
    await world.settle()
    assert world.item(60, "logs-anonymised")["state"] == state, world.item(60, "logs-anonymised")


# ---- a pull request bigger than the forge lists (GitHub: 3,000 files) ------------------------------

@only("github")
async def test_a_pull_request_of_3001_files_is_judged_on_3000_and_the_report_says_so(world):
    """GitHub lists 3,000 files of a PR at most, 100 a page: the report says the list is cut, which
    items may be judged wrongly, and counts the teams of the PR's labels as touched too."""
    files = [f"frontend/src/c{i:04}.svelte" for i in range(3000)] + ["CHANGELOG.md"]  # the changelog is not listed
    world.open_pr(70, files=files, labels=["team:backend"])
    assert await world.send("opened", 70) == 202
    await world.settle()

    pages = [r for r in world.fake.requests if r.method == "GET" and r.path == f"/repos/{REPO}/pulls/70/files"]
    assert len(pages) == 30 and all(r.query.get("per_page") == "100" for r in pages)
    report = world.report(70)
    assert "listed 3,000 of the 3,001 changed files" in report.summary
    cut = report.verdict["files_truncated"]
    assert (cut["listed"], cut["changed"]) == (3000, 3001)
    assert {"changelog", "reviews", "integration-tests", "backend-openapi"} <= set(cut["items"])
    assert not {"tests", "lint", "approved-pr"} & set(cut["items"])  # they do not depend on the files
    section = report.summary.split("may be judged wrongly", 1)[1].split("What to do:", 1)[0]
    assert "CHANGELOG.md updated" in section and "Code reviewed" in section
    assert "Look for a changed file" in section
    todo = report.summary.split("What to do:", 1)[1].split("What to do next", 1)[0]
    assert "split the pull request" in todo and "`team:backend`" in todo and "/nexus waive" in todo

    # teams: the frontend's from the listed files, the backend's from the label; so cross-team
    assert cut["teams"] == {"files": ["frontend"], "labels": ["backend"]}
    assert "(Frontend) plus those of the pull request's team labels (Backend)" in " ".join(report.summary.split())
    assert world.item(70, "integration-tests")["state"] != "not_applicable"  # a backend item applies
    assert {"team:frontend", "team:backend", "nexus"} <= world.labels(70)
    assert world.requested_teams(70) == {"backend", "frontend"}


async def test_a_pull_request_the_forge_lists_whole_says_nothing_of_cut_lists(world):
    world.open_pr(71, files=["frontend/src/App.svelte"], labels=["team:backend"])
    await world.send("opened", 71)
    await world.settle()
    report = world.report(71)
    assert "files_truncated" not in report.verdict and "changed files**" not in report.summary
    assert world.item(71, "integration-tests")["state"] == "not_applicable"  # a label alone adds no team


# ---- labels as the forge shows them ------------------------------------------------------------------

async def test_a_taxonomy_label_is_created_with_its_colour_and_description_in_one_write(world):
    assert world.repo_label("team:backend") is None
    world.open_pr(72, files=["backend/src/a.rs", "CHANGELOG.md"])
    await world.send("opened", 72)
    await world.settle()

    assert world.labels(72) == {"team:backend"}
    assert world.repo_label("team:backend") == ("1d76db", "Touches the code or work of team backend")  # dod.yml
    created = world.writes_to(rf"^/repos/{REPO}/labels$")
    assert len(created) == 1 and created[0].method == "POST"
    assert {**created[0].body, "color": created[0].body["color"].lstrip("#")} == {
        "name": "team:backend", "color": "1d76db", "description": "Touches the code or work of team backend"}
    label_writes = world.writes_to(r"/labels")
    assert [w.path for w in label_writes] == [f"/repos/{REPO}/labels", f"/repos/{REPO}/issues/72/labels"]  # no PATCH

    world.open_pr(73, files=["backend/src/b.rs"])  # the label exists now: adding it is the one write
    await world.send("opened", 73)
    await world.settle()
    assert world.labels(73) == {"team:backend"}
    assert [w.path for w in world.writes_to(r"/labels")[len(label_writes):]] == [f"/repos/{REPO}/issues/73/labels"]
