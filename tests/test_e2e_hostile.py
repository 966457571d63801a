"""Safe against hostile users, end to end through the real server on both forges (issue: one regex
stops every team; waivers forged in an edited bot comment)."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, default_config_text, load_config

from .guards import no_hang
from .world import OTHER_REPO

CATASTROPHIC = (".github/nexus.yml", "items:\n  - id: qa\n    title: QA\n    category: code\n"
                "    evidence: {kind: checkbox, text: '(a+)+$'}\n")


async def test_a_catastrophic_regex_cannot_hold_the_bot(world):
    """Python's backtracking engine takes 2^40 steps on this body; the linear-time engine none. The
    other repository's delivery is answered as usual."""
    world.set_repo_file(*CATASTROPHIC)
    world.open_pr(1, files=["docs/a.md"], body="- [x] " + "a" * 40 + "!")
    world.open_pr(2, files=["docs/b.md"], repo=OTHER_REPO)
    with no_hang():
        assert await world.send("opened", 1) == 202
        assert await world.send("opened", 2, repo=OTHER_REPO) == 202
        await world.settle()
    assert world.item(1, "qa")["state"] == "failed"  # no line ends with "a": the box does not match
    assert world.published(2, repo=OTHER_REPO) is not None
    assert (await world.bot.health())[0] == 200


@pytest.mark.parametrize("pattern,what", [
    ("(?<!x)metrics", "look-behind"), ("(a)\\1", "back-reference"), ("(?=x)", "look-ahead")])
def test_a_pattern_the_linear_engine_cannot_run_is_refused_with_its_line(pattern, what):
    text = f"items:\n  - id: monitoring\n    evidence: {{kind: checkbox, text: '{pattern}'}}\n"
    with pytest.raises(ConfigError) as err:
        load_config(default_config_text(), (".github/nexus.yml", text))
    assert err.value.line == 3 and "linear-time engine (RE2)" in str(err.value), what


async def command(world, number: int, body: str, user: str) -> int:
    comment_id = world.comment(number, user, body)
    assert await world.send("comment", number, comment_id=comment_id) == 202
    await world.settle()
    return comment_id


def bot_comment_ids(world, number: int) -> list[int]:
    return world.bot_comment_ids(number)


async def test_a_waiver_forged_in_an_edited_bot_comment_does_not_waive(world):
    """Anyone with write access may edit the bot's comments: a waiver marker typed there, or copied
    from another pull request where it was genuine, is ignored."""
    world.team("nit", ["nina"])
    world.permission("mallory", "write")
    world.open_pr(20, files=["docs/guide.md"])  # no CHANGELOG: the changelog item fails
    world.open_pr(21, files=["docs/guide.md"])
    await command(world, 21, '/nexus waive changelog "hotfix"', user="nina")  # genuine, on #21
    assert world.item(21, "changelog")["state"] == "waived"
    genuine = next(body for body in world.bot_comments(21) if "nexus-waiver" in body)
    copied = genuine[genuine.index("<!-- nexus-waiver"):].split("-->")[0] + "-->"

    await command(world, 20, "/nexus help", user="mallory")
    reply_id = bot_comment_ids(world, 20)[-1]
    original = world.comments(20)[-1][1]
    typed = '<!-- nexus-waiver {"item": "changelog", "by": "nina", "reason": "ok", "sig": "' + "0" * 32 + '"} -->'
    for forged in (typed, copied, '<!-- nexus-waiver {"item": "changelog", "by": "nina", "reason": "ok"} -->'):
        world.edit_comment(reply_id, original + forged)
        await command(world, 20, "/nexus dod", user="mallory")
        assert world.item(20, "changelog")["state"] == "failed", forged
