"""Every command's handler and the dispatch, against an in-memory context that records each call."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.commands import answer_comment, dod, labels, reviewers, waive
from bot.commands.parser import Invocation, parse_commands
from bot.commands.registry import MAX_COMMANDS_PER_COMMENT, REGISTRY, Outcome
from bot.commands.reply import escape_user_text
from bot.config import Config, default_config_text, load_config
from bot.checks.deps import DepGraph, ItemInfo, build_graph
from bot.history import NexusHistory
from bot.model import ItemRef, LabelChange
from bot.model import Waiver

CONFIG = load_config(default_config_text())
STRICT_CONFIG = load_config(
    default_config_text(),
    ("org/api/.github/nexus.yml", "items:\n  - id: security-scan\n    waivable: false\n"),
)


@dataclass(frozen=True)
class Link:
    kind: str
    repo: str | None
    number: int


@dataclass
class FakeContext:
    """The CommandContext in memory. Fails on writes the forge would reject or that change nothing."""

    config: Config = CONFIG
    repo: str = "org/api"
    number: int = 7
    is_pull_request: bool = True
    author: str = "alice"
    permissions: dict[str, str] = field(default_factory=lambda: {"alice": "write"})
    members: dict[str, set[str]] = field(default_factory=lambda: {"nit": {"nina"}})
    current_labels: set[str] = field(default_factory=set)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    teams_to_ask: list[str] = field(default_factory=list)
    graph: DepGraph | None = None
    history: NexusHistory | None = None
    calls: list[tuple] = field(default_factory=list)

    async def permission(self, user: str) -> str:
        self.calls.append(("permission", user))
        return self.permissions.get(user, "read")

    async def is_member(self, team: str, user: str) -> bool:
        self.calls.append(("is_member", team, user))
        return user in self.members.get(team, set())

    async def labels(self) -> set[str]:
        return set(self.current_labels)

    async def set_labels(self, add: set[str], remove: set[str]) -> None:
        assert add or remove, "an empty label write"
        assert remove <= self.current_labels, f"removing labels that are not set: {remove - self.current_labels}"
        self.calls.append(("set_labels", frozenset(add), frozenset(remove)))
        self.current_labels = (self.current_labels - remove) | add

    async def evaluate_dod(self) -> str:
        self.calls.append(("evaluate_dod",))
        return "**19/23 done** · missing: changelog\n\n<!-- nexus-verdict {} -->"

    async def evaluate_ready(self) -> str:
        self.calls.append(("evaluate_ready",))
        return "Ready: 5/5 criteria met."

    async def request_team_reviews(self) -> list[str]:
        self.calls.append(("request_team_reviews",))
        return list(self.teams_to_ask)

    async def dependency_graph(self, depth: int) -> DepGraph:
        self.calls.append(("dependency_graph", depth))
        assert self.graph is not None
        return self.graph

    async def nexus_history(self) -> NexusHistory:
        self.calls.append(("nexus_history",))
        assert self.history is not None
        return self.history

    async def record_waiver(self, waiver: Waiver) -> None:
        self.calls.append(("record_waiver", waiver))
        self.waivers[waiver.item_id] = waiver

    async def remove_waiver(self, item_id: str) -> bool:
        self.calls.append(("remove_waiver", item_id))
        return self.waivers.pop(item_id, None) is not None

    @property
    def writes(self) -> list[tuple]:
        return [c for c in self.calls if c[0] in ("set_labels", "record_waiver", "remove_waiver")]


def command(line: str) -> Invocation:
    [invocation] = parse_commands(f"/nexus {line}")
    return invocation


async def run(ctx: FakeContext, line: str) -> Outcome:
    """One command through the dispatch (place, permission and arguments checked)."""
    [answer] = await REGISTRY.dispatch(ctx, [command(line)])
    return answer.outcome


# ----- help -----------------------------------------------------------------------------------

HELP_CASES = [
    ("reader on an issue", "read", False, {"help", "ready", "deps"}, {"dod", "priority", "waive", "reviewers"}),
    ("writer on a pull request", "write", True, {"dod", "priority", "remove-team", "reviewers"}, {"ready", "waive"}),
    ("admin on a pull request", "admin", True, {"waive", "unwaive", "points"}, {"ready"}),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "permission, on_pr, listed, hidden", [c[1:] for c in HELP_CASES], ids=[c[0] for c in HELP_CASES]
)
async def test_help_lists_only_what_this_person_may_run_here(permission, on_pr, listed, hidden) -> None:
    ctx = FakeContext(is_pull_request=on_pr, permissions={"alice": permission})
    outcome = await run(ctx, "help")
    assert outcome.ok
    for name in listed:
        assert f"`/nexus {name}" in outcome.message
    for name in hidden:
        assert f"`/nexus {name} " not in outcome.message and f"`/nexus {name}`" not in outcome.message
    assert ctx.calls.count(("permission", "alice")) == 1  # asked once, however many commands


@pytest.mark.asyncio
async def test_help_shows_usage_and_valid_values() -> None:
    outcome = await run(FakeContext(), "help")
    assert "`/nexus priority <priority>` | Set the priority. It replaces the current one. Valid: P0, P1, P2, P3." in (
        outcome.message
    )
    assert "`/nexus deps [depth]` or `/nexus dependencies`" in outcome.message


@pytest.mark.asyncio
async def test_nit_member_sees_waive() -> None:
    outcome = await run(FakeContext(author="nina", permissions={}), "help")
    assert "`/nexus waive <item> <reason…>`" in outcome.message


# ----- dispatch refusals ----------------------------------------------------------------------

REFUSALS = [
    ("unknown command suggests", FakeContext(), "hepl", "hepl is not a command. Did you mean `/nexus help`?"),
    ("pull request command on an issue", FakeContext(is_pull_request=False), "dod",
     "`/nexus dod` works on pull requests only."),
    ("issue command on a pull request", FakeContext(), "ready", "`/nexus ready` works on issues only."),
    ("labels need write access", FakeContext(permissions={"alice": "read"}), "priority P1",
     "`/nexus priority <priority>` can be run by people with write access to this repository only."),
    ("one priority at a time", FakeContext(), "priority P1 P2",
     "Wrong arguments. Usage: `/nexus priority <priority>`: Set the priority. It replaces the current one. "
     "Valid values: P0, P1, P2, P3."),
    ("help takes no arguments", FakeContext(), "help me", "Wrong arguments. Usage: `/nexus help`"),
    ("depth is a number", FakeContext(), "deps deep", "Wrong arguments. Usage: `/nexus deps [depth]`"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("ctx, line, message", [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
async def test_dispatch_refuses_with_the_reason(ctx: FakeContext, line: str, message: str) -> None:
    outcome = await run(ctx, line)
    assert not outcome.ok
    assert outcome.message.startswith(message)
    assert ctx.writes == []


@pytest.mark.asyncio
async def test_bare_prefix_answers_with_help() -> None:
    [answer] = await REGISTRY.dispatch(FakeContext(), [Invocation("", [], "/nexus", 1)])
    assert answer.outcome.message.startswith("Commands you can run on this pull request")


# ----- labels ---------------------------------------------------------------------------------

LABEL_CASES = [
    ("priority replaces the previous one", {"P2", "bug"}, "priority P1", {"P1"}, {"P2"}, "Added P1; removed P2."),
    ("priority in any case", set(), "priority p0", {"P0"}, set(), "Added P0."),
    ("type", {"feature"}, "type bug", {"bug"}, {"feature"}, "Added bug; removed feature."),
    ("points replace a value off the scale", {"points:4"}, "points 5", {"points:5"}, {"points:4"},
     "Added points:5; removed points:4."),
    ("points by label name", set(), "points points:8", {"points:8"}, set(), "Added points:8."),
    ("milestone by number", {"milestone:2"}, "milestone 3", {"milestone:3"}, {"milestone:2"},
     "Added milestone:3; removed milestone:2."),
    ("two teams add both", {"team:infra"}, "team backend frontend", {"team:backend", "team:frontend"}, set(),
     "Added team:backend, team:frontend."),
    ("remove one team", {"team:backend", "team:frontend"}, "remove-team frontend", set(), {"team:frontend"},
     "Removed team:frontend."),
    ("remove the priority", {"P1", "bug"}, "remove-priority", set(), {"P1"}, "Removed P1."),
    ("remove points by value", {"points:5"}, "remove-points 5", set(), {"points:5"}, "Removed points:5."),
    ("remove the milestone", {"milestone:6"}, "remove-milestone", set(), {"milestone:6"}, "Removed milestone:6."),
    ("remove the type", {"bug", "P1"}, "remove-type", set(), {"bug"}, "Removed bug."),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "before, line, added, removed, message", [c[1:] for c in LABEL_CASES], ids=[c[0] for c in LABEL_CASES]
)
async def test_label_commands(before, line, added, removed, message) -> None:
    ctx = FakeContext(current_labels=set(before))
    outcome = await labels.handle(ctx, command(line))
    assert outcome == Outcome(ok=True, message=message, reevaluate=True)
    assert ctx.writes == [("set_labels", frozenset(added), frozenset(removed))]


NO_CHANGE = [
    ("priority already set", {"P1"}, "priority P1", "Already labelled P1; nothing to change."),
    ("team already set", {"team:backend"}, "team backend", "Already labelled team:backend; nothing to change."),
    ("no priority to remove", {"bug"}, "remove-priority", "There is no priority label on this item; nothing to remove."),
    ("named team not set", set(), "remove-team ia", "team:ia is not set on this item; nothing to remove."),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("before, line, message", [c[1:] for c in NO_CHANGE], ids=[c[0] for c in NO_CHANGE])
async def test_label_commands_that_change_nothing_write_nothing(before, line, message) -> None:
    ctx = FakeContext(current_labels=set(before))
    outcome = await labels.handle(ctx, command(line))
    assert outcome == Outcome(ok=True, message=message)
    assert ctx.writes == []


OUTSIDE_TAXONOMY = [
    ("priority P9", "P9 is not a priority; valid: P0, P1, P2, P3"),
    ("points 4", "4 is not a story-point value on the Fibonacci scale; valid: 1, 2, 3, 5, 8, 13, 21"),
    ("type chore", "chore is not a type; valid: feature, bug, refactor, docs, test"),
    ("milestone 7", "7 is not a milestone; valid: 1, 2, 3, 4, 5, 6"),
    ("team backend ux", "ux is not a team; valid: backend, frontend, infra, ia"),
    ("remove-priority P7", "P7 is not a priority; valid: P0, P1, P2, P3"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("line, message", OUTSIDE_TAXONOMY, ids=[c[0] for c in OUTSIDE_TAXONOMY])
async def test_values_outside_the_taxonomy_are_refused_with_the_valid_ones(line: str, message: str) -> None:
    ctx = FakeContext(current_labels={"P1"})
    outcome = await labels.handle(ctx, command(line))
    assert outcome == Outcome(ok=False, message=message)
    assert ctx.writes == []


# ----- waive / unwaive ------------------------------------------------------------------------

@pytest.mark.asyncio
@pytest.mark.parametrize(
    "author, permissions, users",
    [("nina", {}, []), ("root", {"root": "admin"}, []), ("lead", {}, ["Lead"])],
    ids=["member of the nit team", "repository admin", "listed user, any case"],
)
async def test_waive_by_allowed_people(author: str, permissions: dict, users: list) -> None:
    config = CONFIG.model_copy(update={"waivers": CONFIG.waivers.model_copy(update={"users": users})})
    ctx = FakeContext(config=config, author=author, permissions=permissions)
    outcome = await run(ctx, 'waive Changelog "hotfix for prod" only')
    assert outcome.ok and outcome.reevaluate
    assert ctx.waivers == {"changelog": Waiver("changelog", author, "hotfix for prod only")}


@pytest.mark.asyncio
async def test_waive_by_someone_else_is_refused() -> None:
    ctx = FakeContext(author="mallory", permissions={"mallory": "write"})
    outcome = await run(ctx, "waive changelog trust me")
    assert outcome == Outcome(
        ok=False,
        message="`/nexus waive <item> <reason…>` can be run by members of nit; repository admins only.",
    )
    assert ctx.writes == []


@pytest.mark.asyncio
async def test_waive_without_reason_is_refused() -> None:
    ctx = FakeContext(author="nina")
    outcome = await run(ctx, "waive changelog")
    assert not outcome.ok
    assert "Usage: `/nexus waive <item> <reason…>`" in outcome.message and "the reason is mandatory" in outcome.message
    assert ctx.writes == []


WAIVE_REFUSALS = [
    ("misspelt item gets a suggestion", CONFIG, "waive chnagelog x",
     "chnagelog is not an item of the Definition of Done. Did you mean `changelog`?"),
    ("unknown item lists the waivable ones", CONFIG, "waive zzz x",
     "zzz is not an item of the Definition of Done. Items that can be waived: approved-pr, tests,"),
    ("not waivable", STRICT_CONFIG, "waive security-scan audit is down",
     "`security-scan` (Security scan OK \\(cargo audit, npm audit\\)) cannot be waived: the DoD marks it "
     "`waivable: false`."),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("config, line, message", [c[1:] for c in WAIVE_REFUSALS], ids=[c[0] for c in WAIVE_REFUSALS])
async def test_waive_refusals(config: Config, line: str, message: str) -> None:
    ctx = FakeContext(config=config, author="nina")
    outcome = await waive.handle_waive(ctx, command(line))
    assert not outcome.ok
    assert outcome.message.startswith(message)
    assert ctx.writes == []


@pytest.mark.asyncio
async def test_waive_by_item_number() -> None:
    ctx = FakeContext(author="nina")
    outcome = await waive.handle_waive(ctx, command("waive 9 no user-facing change"))
    assert outcome.message == "Waived `changelog` (CHANGELOG.md updated). Reason: no user-facing change"
    assert ctx.waivers["changelog"].reason == "no user-facing change"


@pytest.mark.asyncio
async def test_unwaive() -> None:
    ctx = FakeContext(author="nina", waivers={"changelog": Waiver("changelog", "nina", "x")})
    removed = await waive.handle_unwaive(ctx, command("unwaive changelog"))
    again = await waive.handle_unwaive(ctx, command("unwaive changelog"))
    assert removed == Outcome(ok=True, message="The waiver of `changelog` (CHANGELOG.md updated) is removed.",
                              reevaluate=True)
    assert again == Outcome(ok=True, message="`changelog` (CHANGELOG.md updated) was not waived; nothing to undo.")


# ----- dod, ready, reviewers, deps ------------------------------------------------------------

@pytest.mark.asyncio
async def test_dod_answers_with_the_summary() -> None:
    ctx = FakeContext()
    outcome = await dod.handle(ctx, command("dod"))
    assert outcome.ok and outcome.message.startswith("**19/23 done**")
    assert ctx.calls == [("evaluate_dod",)]


@pytest.mark.asyncio
async def test_ready_answers_with_the_summary() -> None:
    outcome = await run(FakeContext(is_pull_request=False), "ready")
    assert outcome == Outcome(ok=True, message="Ready: 5/5 criteria met.")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "asked, message",
    [
        (["backend", "frontend"], "Asked Backend, Frontend for a review."),
        ([], "No review to request: every team this change touches has approved or was already asked."),
    ],
    ids=["teams asked", "nothing to ask"],
)
async def test_reviewers(asked: list[str], message: str) -> None:
    ctx = FakeContext(teams_to_ask=asked)
    assert await reviewers.handle(ctx, command("reviewers")) == Outcome(ok=True, message=message)


@pytest.mark.asyncio
async def test_deps_answers_with_the_table_and_hands_over_label_changes() -> None:
    root, mail_quota = ItemRef("github", "org/api", 7), ItemRef("github", "org/infra", 3)
    items = {
        root: ItemInfo(root, "Approval e-mail", labels=frozenset({"team:backend"}), links=(Link("depends_on", "org/infra", 3),)),
        mail_quota: ItemInfo(mail_quota, "Mail quota", labels=frozenset({"team:infra"})),
    }

    async def fetch(ref: ItemRef) -> ItemInfo | None:
        return items.get(ref)

    ctx = FakeContext(graph=await build_graph(root, fetch, CONFIG, depth=1))
    outcome = await run(ctx, "deps 1")
    assert outcome.ok
    assert "| Backlog item | Owner team | Depends on | Status | Blocked? |" in outcome.message
    assert outcome.label_changes == (LabelChange(root, add=frozenset({"blocked"})),)
    assert ctx.calls == [("dependency_graph", 1)]


@pytest.mark.asyncio
async def test_deps_depth_is_bounded() -> None:
    ctx = FakeContext()
    outcome = await run(ctx, "deps 9")
    assert outcome == Outcome(ok=False, message="The depth is a number of links, from 1 to 5.")
    assert ctx.calls == []


# ----- one reply per comment ------------------------------------------------------------------

@pytest.mark.asyncio
async def test_one_reply_quotes_every_command_with_its_answer() -> None:
    ctx = FakeContext(current_labels={"P2"})
    body = "Triage:\n/nexus priority P1\n/nexus type bgu\n\n/nexus points 5\nthanks"
    answer = await answer_comment(ctx, body)
    assert answer is not None
    assert answer.reply == (
        "> /nexus priority P1\n\nAdded P1; removed P2.\n\n"
        "> /nexus type bgu\n\n**Not done:** bgu is not a type; valid: feature, bug, refactor, docs, test\n\n"
        "> /nexus points 5\n\nAdded points:5.\n"
    )
    assert answer.reevaluate
    assert ctx.current_labels == {"P1", "points:5"}


@pytest.mark.asyncio
async def test_no_command_no_reply() -> None:
    assert await answer_comment(FakeContext(), "LGTM\n> /nexus help\n```\n/nexus dod\n```") is None


@pytest.mark.asyncio
async def test_too_many_commands_are_answered_not_run() -> None:
    body = "\n".join(["/nexus ready"] * (MAX_COMMANDS_PER_COMMENT + 15))
    ctx = FakeContext(is_pull_request=False)
    answer = await answer_comment(ctx, body)
    assert answer is not None
    assert len(answer.answers) == MAX_COMMANDS_PER_COMMENT + 1
    assert answer.answers[-1].outcome == Outcome(
        ok=False, message="Not run, nor the 14 after it: a comment runs at most 10 commands."
    )
    assert ctx.calls.count(("evaluate_ready",)) == MAX_COMMANDS_PER_COMMENT


@pytest.mark.asyncio
async def test_reply_never_carries_a_hidden_marker() -> None:
    answer = await answer_comment(FakeContext(), "/nexus dod")
    assert answer is not None and "<!--" not in answer.reply


@pytest.mark.asyncio
async def test_reply_escapes_what_people_typed() -> None:
    body = "/nexus priority @org/backend\n/nexus type <script>alert(1)</script>\n/nexus team ](javascript:alert(1))"
    answer = await answer_comment(FakeContext(), body)
    assert answer is not None
    for dangerous in ("@org", "<script", "](javascript"):
        assert dangerous not in answer.reply


# ----- escaping -------------------------------------------------------------------------------

ESCAPES = [
    ("mention", "@org/team", "@\u200dorg/team"),
    ("html", "<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
    ("link", "[x](javascript:alert(1))", "\\[x\\]\\(javascript:alert\\(1\\)\\)"),
    ("verdict marker", "<!-- nexus-verdict {} -->", "&lt;\\!-- nexus-verdict \\{\\} --&gt;"),
    ("table cell and code", "a | `b`", "a \\| \\`b\\`"),
    ("new lines", "a\nb\r\nc", "a b  c"),
    ("emphasis and images", "*x* _y_ ![i](u)", "\\*x\\* \\_y\\_ \\!\\[i\\]\\(u\\)"),
    ("bidi override and zero-width characters", "a\u202eb\u200dc", "abc"),
    ("plain text", "P9", "P9"),
    ("long text is cut", "x" * 400, "x" * 299 + "…"),
]


@pytest.mark.parametrize("text, escaped", [c[1:] for c in ESCAPES], ids=[c[0] for c in ESCAPES])
def test_escape_user_text(text: str, escaped: str) -> None:
    assert escape_user_text(text) == escaped
    assert "<!--" not in escape_user_text(text)
