"""Dependencies the forge records (GitHub's "blocked by" / "blocking" and sub-issues, Forgejo's issue
dependencies), end to end: signed webhooks over HTTP to the real bot, fake forges on sockets whose
answers and webhooks are checked against githubkit's models and Forgejo's swagger.

A native link meets Ready's "dependencies identified", shows in ``/nexus deps`` marked as the
forge's (beside the links written in text), and moves the ``blocked`` label; on GitHub its webhook
re-judges both items at once. Forgejo sends no webhook when a dependency changes: the item is
re-judged at its next event."""

from __future__ import annotations

import re

from bot.config import default_config_text

from .test_e2e_commands import command, reply
from .world import OTHER_REPO, REPO, only

READY, REFINE, BLOCKED = "ready", "needs-refinement", "blocked"

# Ready in every respect but its dependencies: no "Teams:" line, no link, no "Dependencies: none".
NO_DEPENDENCIES = """\
User Story: As a syndic, I want to submit an expense for approval, so that the council can
review it before payment.
Acceptance criteria:
- Given: expense in Draft state
- When: syndic clicks "Submit for approval"
- Then: expense state = PendingApproval
Estimation: 5 points
"""


def ready_comment(world, number: int, repo: str = REPO) -> str:
    found = [body for body in world.bot_comments(number, repo=repo) if "nexus-bot:ready" in body]
    assert len(found) == 1, found
    return found[0]


async def judge(world, number: int) -> None:
    """The item's next event: GitHub and Forgejo both send one when its text is edited."""
    assert await world.send("issue_edited", number) == 202
    await world.settle()


async def test_a_native_dependency_makes_the_item_ready_and_shows_in_deps(world):
    world.open_issue(61, "Mail quota", labels=["team:infra"])
    world.open_issue(60, "Approval e-mail", NO_DEPENDENCIES, labels=["team:backend"])
    await judge(world, 60)
    assert REFINE in world.issue_labels(60) and READY not in world.issue_labels(60)
    assert "❌ **Dependencies identified" in ready_comment(world, 60)

    world.depend(60, 61)  # recorded on the forge: nothing written in the issue
    await judge(world, 60)
    assert READY in world.issue_labels(60) and REFINE not in world.issue_labels(60)
    assert "all five Ready criteria are met" in ready_comment(world, 60)

    world.permission("carol", "write")
    answer = reply(world, 60, await command(world, 60, "/nexus deps"))
    assert re.search(r"\| \*\*\[#60\]\(.*\)\*\* Approval e-mail \| Backend \| #61 \(forge\) \| Ready \| "
                     r"Yes: waits for #61 \(Infra\) \|", answer), answer
    assert "*forge*: a dependency recorded on the forge" in answer
    assert BLOCKED in world.issue_labels(60)


async def test_written_and_native_links_are_merged_and_told_apart(world):
    world.open_issue(62, "Approval API", labels=["team:backend"])
    world.open_issue(63, "Approval UI", "Depends on #62\nDepends on #64", labels=["team:frontend"])
    world.open_issue(64, "Approval copy", labels=["team:frontend"])
    world.open_issue(65, "Mail quota", labels=["team:infra"])
    world.depend(63, 62)  # written and recorded
    world.depend(63, 65, on_repo=REPO)  # recorded only
    world.permission("carol", "write")
    answer = reply(world, 63, await command(world, 63, "/nexus deps"))
    row = next(line for line in answer.splitlines() if line.startswith("| **[#63]"))
    assert "| #62 (forge, text), #64 (text), #65 (forge) |" in row, row


@only("github")
async def test_a_dependency_added_then_removed_on_github_rejudges_both_items(world):
    world.open_issue(70, "Mail quota", labels=["team:infra"], repo=OTHER_REPO)
    world.open_issue(71, "Approval e-mail", NO_DEPENDENCIES, labels=["team:backend"])
    await judge(world, 71)
    assert REFINE in world.issue_labels(71)

    world.depend(71, 70, on_repo=OTHER_REPO)
    assert await world.send("blocked_by_added", 71, other=(OTHER_REPO, 70)) == 202
    await world.settle()
    assert READY in world.issue_labels(71) and BLOCKED in world.issue_labels(71)
    # the other side was judged by the same delivery: its dependencies are identified (its story is not)
    assert "✅ **Dependencies identified" in ready_comment(world, 70, repo=OTHER_REPO)

    world.undepend(71, 70, on_repo=OTHER_REPO)
    assert await world.send("blocked_by_removed", 71, other=(OTHER_REPO, 70)) == 202
    await world.settle()
    assert REFINE in world.issue_labels(71) and READY not in world.issue_labels(71)
    assert BLOCKED not in world.issue_labels(71)


@only("github")
async def test_sub_issues_count_as_identified_dependencies_and_block_nobody(world):
    world.open_issue(80, "Expense approval", NO_DEPENDENCIES, labels=["team:backend"])
    world.open_issue(81, "Approval API", labels=["team:backend"])
    world.open_issue(82, "Approval UI", labels=["team:frontend"])
    world.fake.add_sub_issue(REPO, 80, REPO, 81)
    world.fake.add_sub_issue(REPO, 80, REPO, 82)
    assert await world.send("sub_issue_added", 80, other=(REPO, 82)) == 202
    await world.settle()
    assert READY in world.issue_labels(80)

    world.permission("carol", "write")
    answer = reply(world, 80, await command(world, 80, "/nexus deps"))
    assert "- #80: #81, #82" in answer
    assert "-.->|sub-issue|" in answer
    assert BLOCKED not in world.issue_labels(80)


@only("github")
async def test_items_without_native_links_cost_no_dependency_call(world):
    """GitHub's issue JSON summarises the links: an item with none is not asked for them."""
    world.open_issue(90, "Approval e-mail", NO_DEPENDENCIES, labels=["team:backend"])
    await judge(world, 90)
    world.permission("carol", "write")
    reply(world, 90, await command(world, 90, "/nexus deps"))
    assert world.fake.count("GET", r"/dependencies/|/sub_issues") == 0


async def test_written_links_are_mirrored_as_native_ones_when_the_organisation_asks(world):
    world.set_org_config(default_config_text()[1].replace("mirror_written_links: false", "mirror_written_links: true"))
    world.open_issue(44, "Mail quota", labels=["team:infra"])
    world.open_issue(45, "Approval UI", labels=["team:frontend"])
    world.open_issue(47, "Audit log", labels=["team:backend"])
    world.open_issue(48, "Audit export", labels=["team:backend"])
    world.open_issue(7, "Mail relay", labels=["team:infra"], repo="elsewhere/infra")
    body = NO_DEPENDENCIES + ("Depends on #44\nBlocks #45\nDepends on ORG/APP#47\nDepends on #48\n"
                              "Depends on elsewhere/infra#7\n")
    world.open_issue(40, "Approval e-mail", body, labels=["team:backend"])
    world.depend(40, 47)  # a person's link, written nowhere else: the bot leaves it (and its case does not matter)
    world.depend(48, 40)  # the forge records the other way round: mirroring #48 would make a cycle
    await judge(world, 40)
    assert world.native_dependencies(40) == {47, 44}
    assert world.native_dependencies(45) == {40}
    assert len(world.writes_to(r"/dependencies")) == 2  # not the cycle, not another owner's item

    await judge(world, 40)  # nothing new to write
    assert len(world.writes_to(r"/dependencies")) == 2


async def test_nothing_is_mirrored_by_default(world):
    world.open_issue(44, "Mail quota", labels=["team:infra"])
    world.open_issue(40, "Approval e-mail", NO_DEPENDENCIES + "Depends on #44\n", labels=["team:backend"])
    await judge(world, 40)
    assert READY in world.issue_labels(40)
    assert world.writes_to(r"/dependencies") == []


def test_a_link_concerns_the_other_item_only_when_it_is_well_formed_and_of_the_same_owner():
    from bot.model import Event
    from bot.service.worker import _linked

    def linked(value):
        event = Event(forge="github", delivery_id="d", name="issue_dependencies", action="blocked_by_added",
                      repo="org/app", number=71, extra={"linked": value})
        return [(key, e.repo, e.number) for key, e in _linked(event)]

    assert [(repo, number) for _, repo, number in linked(["Org/infra", 70])] == [("Org/infra", 70)]
    assert linked(["other/infra", 70]) == []  # another owner: another installation's delivery
    assert linked(["org/app", 71]) == []  # itself
    assert linked(["org/app", -1]) == linked(["not a repo", 3]) == linked("org/app#3") == linked([None, 3]) == []


@only("github")
async def test_the_bots_own_link_is_not_acted_on(world):
    world.open_issue(44, "Mail quota", labels=["team:infra"])
    world.open_issue(40, "Approval e-mail", NO_DEPENDENCIES, labels=["team:backend"])
    world.depend(40, 44)
    assert await world.send("blocked_by_added", 40, other=(REPO, 44), sender=world.bot_login) == 202
    await world.settle()
    assert world.api_writes() == []
