"""One error type for every forge, and one answer to "ask again later, or not?" for every caller.

Before, five status lists disagreed: the worker retried a 403 while the command path gave up on it,
the dependency walk took a 401 (the bot's credentials) for an item out of reach, and the DoD let a
refused review request stand while ``/nexus reviewers`` failed the comment.
"""

from __future__ import annotations


import pytest

from bot.app.items import fetch_item
from bot.forges.base import ForgeError
from bot.model import ItemRef

CASES = [
    # status, retry_after, transient, out of reach (for a read)
    (None, None, True, False),  # no answer: timeout, connection refused
    (500, None, True, False),
    (502, None, True, False),
    (429, None, True, False),
    (403, 30.0, True, True),  # a rate limit
    (403, None, True, True),  # GitHub's rate limits sometimes come without their headers
    (401, None, True, False),  # the bot's credentials, not the item: fixed by the operator
    (404, None, False, True),
    (410, None, False, True),
    (422, None, False, False),  # a team that does not exist, a label refused
    (400, None, False, False),
]


@pytest.mark.parametrize("status,retry_after,transient,out_of_reach", CASES)
def test_a_forge_error_says_whether_to_ask_again(status, retry_after, transient, out_of_reach):
    error = ForgeError("x", status=status, retry_after=retry_after)
    assert error.transient is transient and error.refused is (not transient)
    assert error.out_of_reach is out_of_reach


class Unreadable:
    """A forge on which reading an item fails with ``status``."""

    name = "github"
    bot_login = "nexus[bot]"

    def __init__(self, status: int):
        self.status = status

    async def issue(self, repo, number):
        raise ForgeError(f"GET /repos/{repo}/issues/{number}: {self.status}", status=self.status)


@pytest.mark.parametrize("status", [403, 404, 410])
async def test_an_item_out_of_reach_is_shown_as_such(status):
    assert await fetch_item(Unreadable(status), ItemRef("github", "org/secret", 9)) is None


@pytest.mark.parametrize("status", [401, 502])
async def test_a_failing_forge_fails_the_walk_so_that_it_is_retried(status):
    with pytest.raises(ForgeError):
        await fetch_item(Unreadable(status), ItemRef("github", "org/app", 9))
