"""Slash commands end to end: a command typed in a comment, the signed webhook the forge sends, the
real service, and what the fake forge received (the one reply, labels, reactions, the DoD check).
Every test runs on GitHub and on Forgejo (the ``world`` fixture, tests/world.py) unless marked
``@only(...)``.

Regenerate the golden files with ``UPDATE_GOLDEN=1 python -m pytest tests/test_e2e_commands.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .test_e2e_dod import GREEN_CI
from .world import OTHER_REPO, REPO, only

GOLDEN = Path(__file__).parent / "golden"
MARKERS = re.compile(r"<!--.*?-->\n?", re.DOTALL)

READY_STORY = """User Story: As a syndic, I want to submit an expense for approval, so that the council can
review it before payment.
Acceptance criteria:
- Given: expense in Draft state
- When: syndic clicks "Submit for approval"
- Then: expense state = PendingApproval
Estimation: 5 points
Dependencies: none
"""


# ---- helpers -------------------------------------------------------------------------------------

async def command(world, number: int, body: str, user: str = "carol") -> int:
    """``user`` writes ``body`` as a comment on ``number``; the forge tells the bot. The comment's id."""
    comment_id = world.comment(number, user, body)
    assert await world.send("comment", number, comment_id=comment_id) == 202
    await world.settle()
    return comment_id


def replies(world, number: int, comment_id: int) -> list[str]:
    """The bot's replies to one comment (there should be one at most)."""
    marker = re.compile(rf"<!-- nexus-bot:reply {comment_id} [0-9a-f]+ -->")  # signed: see bot/markers.py
    return [body for body in world.bot_comments(number) if marker.search(body)]


def reply(world, number: int, comment_id: int) -> str:
    """The bot's one reply to a comment, as a reader sees it (hidden markers left out)."""
    found = replies(world, number, comment_id)
    assert len(found) == 1, f"{len(found)} replies to comment {comment_id}: {found}"
    return visible(found[0])


def visible(markdown: str) -> str:
    return MARKERS.sub("", markdown).strip() + "\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8")


def approval_pr(world, number: int) -> None:
    """A PR whose only missing required DoD item is the changelog: green CI and an approval."""
    world.open_pr(number, files=["docs/guide.md"])
    for name in GREEN_CI:
        world.ci(world.head(number), name, "success")
    world.review(number, "bob", "APPROVED")


def expense_backlog(world) -> None:
    """#43 depends on #44 (same team) and on org/infra#3 (Infra, open), and blocks #45 (Frontend)."""
    world.open_issue(43, "Approval e-mail", "Depends on #44\nBlocks #45\nDepends on org/infra#3",
                     labels=["team:backend"])
    world.open_issue(44, "POST /expenses/:id/approve", labels=["team:backend"])
    world.open_issue(45, "Approval UI", labels=["team:frontend"])
    world.open_issue(3, "Mail quota", labels=["team:infra"], repo=OTHER_REPO)


# ---- acknowledgement, one reply, retries ---------------------------------------------------------

async def test_a_command_is_acknowledged_with_eyes_and_answered_once(world):
    world.open_issue(20, "Export")
    asked = await command(world, 20, "/nexus help")
    assert world.reactions(asked) == [(world.bot_login, "eyes")]
    assert reply(world, 20, asked).startswith("> /nexus help\n")


async def test_three_commands_in_one_comment_get_one_reply_quoting_each(world):
    world.permission("carol", "write")
    world.open_issue(21, "Export")
    asked = await command(world, 21, "Triage:\n/nexus priority P1\n/nexus type bug\n/nexus points 5\nThanks")
    answer = reply(world, 21, asked)
    assert [line for line in answer.splitlines() if line.startswith("> ")] == [
        "> /nexus priority P1", "> /nexus type bug", "> /nexus points 5"]
    assert "Added P1." in answer and "Added bug." in answer and "Added points:5." in answer
    assert world.labels(21) >= {"P1", "bug", "points:5"}
    # one reply; the bot's only other comment is the Ready summary of the issue, a separate matter
    assert [body for body in world.bot_comments(21) if "nexus-bot:ready" not in body] == replies(world, 21, asked)


async def test_a_redelivered_comment_gets_one_reply(world):
    world.permission("carol", "write")
    world.open_issue(22, "Export")
    asked = world.comment(22, "carol", "/nexus priority P2")
    delivery = world.delivery("comment", 22, comment_id=asked)
    statuses = [(await world.bot.deliver(delivery, world.path))[0] for _ in range(3)]
    await world.settle()
    assert statuses == [202, 200, 200]
    assert len(replies(world, 22, asked)) == 1
    assert world.labels(22) >= {"P2"}


async def test_a_retried_comment_with_a_new_delivery_id_is_answered_once(world):
    world.permission("carol", "write")
    world.open_issue(23, "Export")
    asked = await command(world, 23, "/nexus priority P2\n/nexus help")
    first = replies(world, 23, asked)
    writes = world.api_writes()
    assert await world.send("comment", 23, comment_id=asked) == 202  # the forge retries: new delivery id
    await world.settle()
    assert replies(world, 23, asked) == first  # the same one reply, still saying what was done
    assert "Added P2." in first[0]
    assert world.api_writes() == writes  # answered once: nothing is written again, not even a reaction


async def test_a_retried_unwaive_does_not_bring_the_waiver_back(world):
    world.team("nit", ["nina"])
    approval_pr(world, 47)
    await command(world, 47, '/nexus waive changelog "hotfix"', user="nina")
    assert world.state(47) == "success"
    unwaive = await command(world, 47, "/nexus unwaive changelog", user="nina")
    assert world.state(47) == "failure"

    assert await world.send("comment", 47, comment_id=unwaive) == 202  # retried: new delivery id
    await world.settle()
    assert "is removed" in reply(world, 47, unwaive)
    await world.send("synchronize", 47)
    await world.settle()
    assert world.state(47) == "failure" and world.item(47, "changelog")["state"] == "failed"


# ---- what is not a command -----------------------------------------------------------------------

async def test_the_bots_own_comment_never_triggers_anything(world):
    world.open_issue(24, "Export")
    mine = world.comment(24, world.bot_login, "/nexus priority P0\n/nexus help")
    assert await world.send("comment", 24, comment_id=mine, sender=world.bot_login) == 202
    assert await world.send("comment", 24, comment_id=mine) == 202  # sender left to the fake: the author
    await world.settle()
    assert world.api_writes() == []
    assert world.reactions(mine) == [] and len(world.bot_comments(24)) == 1


@pytest.mark.parametrize("body", [
    "```\n/nexus priority P0\n```",
    "~~~sh\n/nexus priority P0\n~~~",
    "Example:\n\n    /nexus priority P0",
    "> /nexus priority P0\n\nWhy did you ask for that?",
    "<!-- /nexus priority P0 -->",
    "Just type `/nexus priority P0` here.",
], ids=["fenced", "tilde fence", "indented code", "quote", "html comment", "inline code"])
async def test_commands_in_code_or_quotes_are_not_run(world, body):
    world.permission("carol", "write")
    world.open_issue(25, "Export")
    asked = await command(world, 25, body)
    assert world.api_writes() == [] and world.reactions(asked) == []
    assert world.labels(25) == set()


async def test_an_unknown_command_gets_a_short_reply_saying_what_would_work(world):
    world.open_issue(26, "Export")
    asked = await command(world, 26, "/nexus dpes")
    answer = reply(world, 26, asked)
    assert "**Not done:** dpes is not a command." in answer
    assert "Did you mean `/nexus deps`?" in answer and "`/nexus help` lists the commands" in answer
    assert len(answer.splitlines()) <= 4


async def test_text_echoed_back_holds_no_live_mention_and_no_html(world):
    world.permission("carol", "write")
    world.open_issue(27, "Export")
    asked = await command(world, 27, "/nexus team @org/backend <script>alert(1)</script> <img src=x>")
    raw = replies(world, 27, asked)[0]
    answer = visible(raw)
    assert "**Not done:**" in answer and "is not a team; valid: backend, frontend, infra, ia" in answer
    assert not re.search(r"@org/", raw)  # every @ is followed by a zero-width joiner: no mention
    assert "@\u200dorg/backend" in answer
    assert "<script" not in raw and "<img" not in raw
    assert "&lt;script&gt;" in answer
    assert world.labels(27) == set()


# ---- /nexus help ---------------------------------------------------------------------------------

async def test_help_lists_only_what_this_person_may_run(world):
    world.permission("carol", "write")
    world.team("nit", ["nina"])
    world.open_issue(28, "Export")
    world.open_pr(29, files=["docs/a.md"])

    reader = reply(world, 28, await command(world, 28, "/nexus help", user="rita"))  # read access only
    assert "`/nexus deps [depth]`" in reader and "`/nexus ready`" in reader
    assert "/nexus priority" not in reader and "/nexus dod" not in reader and "/nexus waive" not in reader

    writer_on_issue = reply(world, 28, await command(world, 28, "/nexus help"))
    assert "`/nexus priority <priority>`" in writer_on_issue and "Valid: P0, P1, P2, P3." in writer_on_issue
    assert "/nexus dod" not in writer_on_issue and "/nexus reviewers" not in writer_on_issue

    writer_on_pr = reply(world, 29, await command(world, 29, "/nexus help"))
    assert "`/nexus dod`" in writer_on_pr and "`/nexus reviewers`" in writer_on_pr
    assert "/nexus ready" not in writer_on_pr and "/nexus waive" not in writer_on_pr

    nit_on_pr = reply(world, 29, await command(world, 29, "/nexus help", user="nina"))
    assert "`/nexus waive <item> <reason…>`" in nit_on_pr and "`/nexus unwaive <item>`" in nit_on_pr
    assert "/nexus priority" not in nit_on_pr  # nina has no write access to the repository


@only("github")
async def test_golden_help_on_a_pull_request_for_someone_with_write_access(world):
    world.permission("carol", "write")
    world.open_pr(30, files=["docs/a.md"])
    assert_golden("commands_help.md", reply(world, 30, await command(world, 30, "/nexus help")))


async def test_a_bare_prefix_answers_with_help(world):
    world.open_issue(31, "Export")
    answer = reply(world, 31, await command(world, 31, "/nexus"))
    assert "Commands you can run on this issue:" in answer


# ---- /nexus dod and /nexus ready -----------------------------------------------------------------

async def test_dod_on_a_pull_request_evaluates_answers_with_the_summary_and_refreshes_the_check(world):
    approval_pr(world, 32)
    world.ci(world.head(32), "tests", "running")
    await world.send("opened", 32)
    await world.settle()
    assert world.item(32, "tests")["state"] == "pending"

    world.ci(world.head(32), "tests", "success")
    asked = await command(world, 32, "/nexus dod")
    assert world.item(32, "tests")["state"] == "passed"  # the check was refreshed
    assert world.state(32) == "failure" and world.item(32, "changelog")["state"] == "failed"
    answer = reply(world, 32, asked)
    assert answer.startswith("> /nexus dod\n") and "Add an entry to CHANGELOG.md" in answer
    assert "nexus-verdict" not in replies(world, 32, asked)[0]  # the verdict marker stays in the check


async def test_dod_on_an_issue_is_refused_saying_where_it_works(world):
    world.open_issue(33, "Export")
    answer = reply(world, 33, await command(world, 33, "/nexus dod"))
    assert "**Not done:** `/nexus dod` works on pull requests only." in answer


async def test_ready_on_an_issue_answers_with_the_criteria_and_converges_the_labels(world):
    world.open_issue(34, "Faster", "Please make the export faster.")
    answer = reply(world, 34, await command(world, 34, "/nexus ready"))
    assert "❌" in answer and "Given" in answer
    assert "needs-refinement" in world.labels(34) and "ready" not in world.labels(34)

    world.edit_issue(34, body=READY_STORY)
    answer = reply(world, 34, await command(world, 34, "/nexus ready"))
    assert "✅" in answer
    assert "ready" in world.labels(34) and "needs-refinement" not in world.labels(34)


async def test_ready_on_a_pull_request_is_refused(world):
    world.open_pr(35, files=["docs/a.md"])
    answer = reply(world, 35, await command(world, 35, "/nexus ready"))
    assert "**Not done:** `/nexus ready` works on issues only." in answer


# ---- label commands ------------------------------------------------------------------------------

async def test_label_commands_set_replace_and_remove_labels_of_the_taxonomy(world):
    world.permission("carol", "write")
    world.open_issue(36, "Export")
    await command(world, 36, "/nexus team backend frontend\n/nexus priority P1\n/nexus type bug\n"
                             "/nexus points 5\n/nexus milestone 3")
    assert world.labels(36) >= {"team:backend", "team:frontend", "P1", "bug", "points:5", "milestone:3"}

    answer = reply(world, 36, await command(world, 36, "/nexus priority P2\n/nexus points 8"))
    assert "Added P2; removed P1." in answer and "Added points:8; removed points:5." in answer
    assert {"P2", "points:8"} <= world.labels(36) and not {"P1", "points:5"} & world.labels(36)

    await command(world, 36, "/nexus remove-team frontend\n/nexus remove-priority\n/nexus remove-type\n"
                             "/nexus remove-points\n/nexus remove-milestone 3")
    assert world.labels(36) & {"team:frontend", "P2", "bug", "points:8", "milestone:3"} == set()
    assert "team:backend" in world.labels(36)


async def test_a_priority_outside_the_taxonomy_is_refused_with_the_valid_values(world):
    world.permission("carol", "write")
    world.open_issue(37, "Export", labels=["P2"])
    answer = reply(world, 37, await command(world, 37, "/nexus priority P9"))
    assert "**Not done:** P9 is not a priority; valid: P0, P1, P2, P3" in answer
    assert world.labels(37) == {"P2"} and world.writes_to(r"/labels") == []


async def test_commands_on_an_issue_follow_the_repository_config_of_the_default_branch(world):
    world.permission("carol", "write")
    world.set_repo_file(".github/nexus.yml", "labels:\n  priorities: [P0, P1, P2, P3, P4]\n")
    world.open_issue(48, "Export")
    assert "Added P4." in reply(world, 48, await command(world, 48, "/nexus priority P4"))


async def test_commands_on_a_pull_request_follow_the_repository_config_of_its_base_branch(world):
    """As its DoD does: a waiver the DoD of the base branch would ignore is refused, not "done"."""
    world.team("nit", ["nina"])
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: changelog\n    waivable: false\n", ref="release/1")
    world.fake.add_pr(REPO, 49, files=["docs/a.md"], base_ref="release/1")  # both fakes: a PR into release/1
    answer = reply(world, 49, await command(world, 49, '/nexus waive changelog "hotfix"', user="nina"))
    assert "cannot be waived" in answer and "nexus-waiver" not in "".join(world.bot_comments(49))


async def test_label_commands_need_write_access(world):
    world.open_issue(38, "Export")
    answer = reply(world, 38, await command(world, 38, "/nexus priority P1", user="rita"))
    assert "can be run by people with write access to this repository only" in answer
    assert world.labels(38) == set() and world.writes_to(r"/labels") == []


async def test_label_commands_work_on_a_pull_request_too(world):
    world.permission("carol", "write")
    world.open_pr(39, files=["docs/a.md"])
    await command(world, 39, "/nexus type docs")
    assert "docs" in world.labels(39)


# ---- /nexus reviewers ----------------------------------------------------------------------------

async def test_reviewers_asks_each_team_the_change_touches_once(world):
    world.permission("carol", "write")
    world.open_pr(40, files=["backend/src/a.rs", "frontend/src/App.svelte", "CHANGELOG.md"])
    answer = reply(world, 40, await command(world, 40, "/nexus reviewers"))
    assert "Asked Backend, Frontend for a review." in answer
    assert world.requested_teams(40) == {"backend", "frontend"}

    again = reply(world, 40, await command(world, 40, "/nexus reviewers"))
    assert "No review to request" in again


@only("github")  # Forgejo's adapter asks only the teams it finds, so Forgejo never refuses this request
async def test_a_refused_review_request_is_answered_and_not_retried(world):
    """The DoD has always let a refused review request stand; the command does the same now, and
    says so instead of failing the comment."""
    world.permission("carol", "write")
    del world.fake.teams[("org", "frontend")]  # a team the organisation names, gone from GitHub
    world.open_pr(47, files=["backend/src/a.rs", "frontend/src/App.svelte", "CHANGELOG.md"])
    answer = reply(world, 47, await command(world, 47, "/nexus reviewers"))
    assert "**Not done:** The forge refused to ask Backend, Frontend for a review (HTTP 422)" in answer
    assert set((await world.bot.store.counts())) == {"done"}  # answered once, nothing failed or queued again
    again = reply(world, 47, await command(world, 47, "/nexus reviewers"))
    assert "No review to request" in again  # a refused request is not made again

    world.open_pr(46, files=["backend/src/a.rs", "frontend/src/App.svelte", "CHANGELOG.md"])
    assert await world.send("opened", 46) == 202  # the DoD's own request, refused alike
    await world.settle()
    assert world.published(46) is not None and set((await world.bot.store.counts())) == {"done"}  # the verdict stands
    assert world.requested_teams(46) == set()


async def test_points_follow_the_configured_scale(world):
    """/nexus points accepts what the Ready check accepts: the configured scale, not a fixed one."""
    world.permission("carol", "write")
    world.set_repo_file(".github/nexus.yml", "ready:\n  scale: [1, 2, 3, 5, 8, 13, 21, 34]\n")
    world.open_issue(35, "Export", READY_STORY.replace("Estimation: 5 points\n", ""))
    assert "Added points:34." in reply(world, 35, await command(world, 35, "/nexus points 34"))
    assert "ready" in world.labels(35)  # the Ready check, re-run after the command, takes it too
    refused = reply(world, 35, await command(world, 35, "/nexus points 4"))
    assert "4 is not a story-point value on the scale; valid: 1, 2, 3, 5, 8, 13, 21, 34" in refused


# ---- waivers -------------------------------------------------------------------------------------

async def test_waive_by_someone_outside_the_nit_is_refused_and_changes_nothing(world):
    world.permission("carol", "write")
    world.team("nit", ["nina"])
    approval_pr(world, 41)
    await world.send("opened", 41)
    await world.settle()
    assert world.state(41) == "failure"
    writes = len(world.verdict_writes())

    answer = reply(world, 41, await command(world, 41, '/nexus waive changelog "hotfix"'))
    assert "**Not done:** `/nexus waive <item> <reason…>` can be run by members of nit" in answer
    assert world.state(41) == "failure" and world.item(41, "changelog")["state"] == "failed"
    assert len(world.verdict_writes()) == writes
    assert "nexus-waiver" not in "".join(world.bot_comments(41))


async def test_a_nit_waiver_turns_the_check_green_survives_restarts_and_unwaive_turns_it_red(world, tmp_path):
    world.team("nit", ["nina"])
    approval_pr(world, 42)
    await world.send("opened", 42)
    await world.settle()
    assert world.state(42) == "failure"
    assert [i["id"] for i in world.published(42)["items"] if i["state"] == "failed" and i["required"]] == ["changelog"]

    answer = reply(world, 42, await command(world, 42, '/nexus waive changelog "hotfix"', user="nina"))
    assert "Waived `changelog` (CHANGELOG.md updated). Reason: hotfix" in answer
    assert world.state(42) == "success"
    changelog = world.item(42, "changelog")
    assert changelog["state"] == "waived" and changelog["reason"].startswith("waived by nina: hotfix")
    assert "waived by nina: hotfix" in world.report(42).summary  # shown: by whom, why

    # the same database after a restart, then a new one: waivers live in the bot's replies
    for database in (None, tmp_path / "fresh.sqlite3"):
        await world.stop()
        if database:
            world.settings["DATABASE_PATH"] = str(database)
        await world.start()
        sha = world.push(42, ["docs/guide.md", "docs/more.md"])
        for name in GREEN_CI:
            world.ci(sha, name, "success")
        world.review(42, "bob", "APPROVED")
        await world.send("synchronize", 42)
        await world.settle()
        assert world.published(42)["head_sha"] == sha
        assert world.state(42) == "success", world.published(42)
        assert world.item(42, "changelog")["state"] == "waived"
    assert world.bot.settings.database_path.endswith("fresh.sqlite3")

    answer = reply(world, 42, await command(world, 42, "/nexus unwaive changelog", user="nina"))
    assert "The waiver of `changelog` (CHANGELOG.md updated) is removed." in answer
    assert world.state(42) == "failure" and world.item(42, "changelog")["state"] == "failed"


async def test_an_item_marked_not_waivable_cannot_be_waived(world):
    world.team("nit", ["nina"])
    world.set_repo_file(".github/nexus.yml", "items:\n  - id: changelog\n    waivable: false\n")
    approval_pr(world, 46)
    await world.send("opened", 46)
    await world.settle()
    answer = reply(world, 46, await command(world, 46, '/nexus waive changelog "hotfix"', user="nina"))
    assert "**Not done:** `changelog` (CHANGELOG.md updated) cannot be waived" in answer
    assert world.state(46) == "failure" and world.item(46, "changelog")["state"] == "failed"
    assert "nexus-waiver" not in "".join(world.bot_comments(46))


# ---- /nexus deps ---------------------------------------------------------------------------------

async def test_deps_renders_the_table_and_graph_and_labels_the_blocked_items(world):
    world.permission("carol", "write")
    expense_backlog(world)
    answer = reply(world, 43, await command(world, 43, "/nexus deps"))
    assert "| Backlog item | Owner team | Depends on | Status | Blocked? |" in answer
    rows = {re.search(r"\[(.+?)\]\(", line)[1]: line for line in answer.splitlines()
            if line.startswith("| ") and "](" in line}
    assert set(rows) == {"#43", "#44", "#45", "org/infra#3"}
    assert "| Backend | #44, org/infra#3 | Backlog | Yes: waits for org/infra#3 (Infra) |" in rows["#43"]
    assert "| Frontend | #43 | Backlog | Yes: waits for #43 (Backend) |" in rows["#45"]
    assert rows["#44"].endswith("| Backend | — | Backlog | No |")
    assert "```mermaid\ngraph LR\n" in answer
    assert "n1 -->|depends on| n2" in answer and "n3 -->|depends on| n1" in answer
    assert "Now labelled blocked: #43, #45." in answer
    assert "blocked" in world.labels(43) and "blocked" in world.labels(45)
    assert "blocked" not in world.labels(44)

    world.close(3, repo=OTHER_REPO)  # Infra raised the mail quota
    answer = reply(world, 43, await command(world, 43, "/nexus deps"))
    assert "No longer blocked: #43." in answer
    assert "blocked" not in world.labels(43)
    assert "blocked" in world.labels(45)  # still waits for #43, which Backend has not finished


@only("github")
async def test_golden_deps_on_github(world):
    """The expense backlog, #44 done, and #46 (Frontend) found through its mention in #43's timeline."""
    expense_backlog(world)
    world.close(44)
    world.open_issue(46, "Approval reminder", "Depends on #43", labels=["team:frontend"])
    world.cross_reference(43, REPO, 46)
    assert_golden("commands_deps.md", reply(world, 43, await command(world, 43, "/nexus deps")))


async def test_deps_finds_the_items_that_depend_on_this_one(world):
    world.open_issue(50, "Mail quota", labels=["team:infra"])
    world.open_issue(51, "Approval e-mail", "Depends on #50", labels=["team:backend"])
    world.cross_reference(50, REPO, 51)  # the forge shows the mention in #50's timeline
    world.open_issue(7, "Alerting", "Depends on org/app#50", labels=["team:infra"], repo=OTHER_REPO)
    world.cross_reference(50, OTHER_REPO, 7)
    answer = reply(world, 50, await command(world, 50, "/nexus deps"))
    dependent = r"\| \[#51\]\(.*\) Approval e-mail \| Backend \| #50 \| Backlog \| Yes: waits for #50 \(Infra\) \|"
    assert re.search(dependent, answer), answer
    assert re.search(r"\| \[org/infra#7\]\(.*\) Alerting \| Infra \| #50 \| Backlog \| No \|", answer), answer
    assert "blocked" in world.labels(51) and "blocked" not in world.labels(7, repo=OTHER_REPO)


async def test_deps_reads_a_link_written_on_the_other_side(world):
    """#53 says nothing; #54 writes that it blocks #53: #53's row shows it depends on #54."""
    world.open_issue(52, "Approval UI", "Blocked by #54", labels=["team:frontend"])
    world.open_issue(54, "Approval API", "Blocks #52\nBlocks #53", labels=["team:backend"])
    world.open_issue(53, "Approval e-mail", labels=["team:backend"])
    answer = reply(world, 52, await command(world, 52, "/nexus deps"))
    assert re.search(r"\[#53\]\(.*\) Approval e-mail \| Backend \| #54 \| Backlog \| No \|", answer), answer


async def test_deps_reports_a_cycle(world):
    world.open_issue(55, "Export", "Depends on #56", labels=["team:backend"])
    world.open_issue(56, "Import", "Depends on #57", labels=["team:frontend"])
    world.open_issue(57, "Schema", "Depends on #55", labels=["team:ia"])
    answer = reply(world, 55, await command(world, 55, "/nexus deps"))
    assert "**Cycles** (each item waits for the next; one of these links has to go):" in answer
    assert "- #55 → #56 → #57 → #55" in answer


async def test_deps_shows_a_deleted_or_unreachable_item_as_such(world):
    world.open_issue(58, "Export", "Depends on #404\nDepends on org/secret#9", labels=["team:backend"])
    answer = reply(world, 58, await command(world, 58, "/nexus deps"))
    assert "| #404 \\(deleted or out of reach\\) | — | — | Unknown | Unknown |" in answer
    assert "| org/secret#9 \\(deleted or out of reach\\) | — | — | Unknown | Unknown |" in answer
    assert "class n2,n3 unreachable" in answer
    assert "blocked" not in world.labels(58)  # an item that cannot be finished blocks nobody


async def test_deps_works_on_a_pull_request(world):
    world.open_pr(59, files=["backend/a.rs", "CHANGELOG.md"], body="Depends on #60", labels=["team:backend"])
    world.open_issue(60, "Mail quota", labels=["team:infra"])
    answer = reply(world, 59, await command(world, 59, "/nexus deps"))
    assert "Yes: waits for #60 (Infra)" in answer and "blocked" in world.labels(59)


async def test_a_reply_too_long_for_one_comment_keeps_its_marker_and_stays_one_reply(world):
    """Three tables of 50 items with long titles are more than a comment holds (65,536 characters on
    GitHub): whole answers are left out, never the hidden marker that makes the reply one reply."""
    title = "Approval e-mail with a rather long title, " * 6
    world.open_issue(100, title, "Depends on " + ", ".join(f"#{n}" for n in range(101, 150)),
                     labels=["team:backend"])
    for number in range(101, 150):
        world.open_issue(number, title, labels=["team:backend"])
    asked = await command(world, 100, "/nexus deps\n/nexus deps 1\n/nexus deps 3")
    assert len(replies(world, 100, asked)[0]) <= 65_536
    answer = reply(world, 100, asked)
    assert answer.startswith("> /nexus deps\n") and answer.count("```") % 2 == 0
    assert "> /nexus deps 3" not in answer
    assert re.search(r"\d more answers? left out \(the commands ran\): a comment holds 65,536 characters", answer)

    assert await world.send("comment", 100, comment_id=asked) == 202  # retried
    await world.settle()
    assert len(replies(world, 100, asked)) == 1
