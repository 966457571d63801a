"""The Nexus board end to end, on GitHub and on Forgejo: signed webhooks over HTTP to the real
service, the bot judges a cross-team pull request against the fake forge, then ``/board.json``,
``/board`` and the pull request's page, read over a real socket with the board's read-only token,
show what the NIT needs: the PR's state, the team whose review is missing, a waiver with who and
why, a blocked cross-team dependency with its age, every item with its evidence and where its rule
came from. The verdict links to the PR's page. Without sign-in configured and without the token,
the board shows how to configure it and no data."""

from __future__ import annotations

import aiohttp

from .board_world import CROSS, cross_team_sprint, details_link, restart
from .world import REPO

TOKEN = "board-token-for-tests"
BOARD_URL = "https://nexus.example.org"


async def get(world, path: str, token: str | None = TOKEN) -> tuple[int, str, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(world.bot.url + path, headers=headers, allow_redirects=False) as resp:
            return resp.status, await resp.text(), dict(resp.headers)


async def test_the_board_shows_a_cross_team_pr_its_missing_review_and_a_blocked_dependency(world):
    await restart(world, BOARD_TOKEN=TOKEN, BOARD_URL=BOARD_URL)
    await cross_team_sprint(world)

    page = f"/board/{world.instance}/{REPO}/pull/5"
    status, text, headers = await get(world, "/board.json")
    assert status == 200 and headers["Cache-Control"] == "private, no-store"
    board = __import__("json").loads(text)
    pr = next(p for p in board["pulls"] if p["number"] == 5)
    assert pr["repo"] == REPO and pr["page"] == page and pr["id"] == "pr-org-app-5"
    assert pr["state"] == world.published(5)["state"]  # the verdict the forge shows
    assert pr["teams"] == ["backend", "frontend"] and pr["missing_reviews"] == ["frontend"]
    assert [(w["item"], w["by"], w["reason"]) for w in pr["waivers"]] == [("rollback-plan", "nina", "no schema change")]
    assert pr["done"] < pr["applicable"] and pr["waited_hours"] is not None
    org = board["organisations"][0]
    assert (org["where"], org["owner"]) == (world.instance, "org")
    blocked = org["dependencies"][0]
    assert (blocked["ref"]["number"], blocked["teams"]) == (13, ["backend"]) and blocked["blocked_hours"] >= 0
    assert [d["ref"]["number"] for d in blocked["depends_on"]] == [14]
    assert org["metrics"]["sprint"]["number"] >= 1 and org["metrics"]["nexus"]["blocked"] == 1
    backlog = {row["team"]: row for row in org["backlog"]}
    assert backlog["backend"]["needs_refinement"] + backlog["backend"]["ready"] == 1

    status, html, _ = await get(world, "/board")
    assert status == 200 and '<html lang="en">' in html
    row = html.split('id="pr-org-app-5"', 1)[1].split("</tr>", 1)[0]
    assert f'href="{page}"' in row and "Frontend" in row.split('data-label="Missing reviews"', 1)[1]
    assert "org/app#13" in html and "Yes, for " in html  # the blocked dependency and its age
    assert "<svg" in html and "Velocity of the last sprints" in html

    status, html, _ = await get(world, "/board?team=infra")
    assert status == 200 and 'id="pr-org-app-5"' not in html  # the PR touches no Infra code

    status, html, _ = await get(world, page)
    assert status == 200
    reviews = html.split('id="item-reviews"', 1)[1].split("</tr>", 1)[0]
    assert "approvals: 1 of 2 (bob)" in reviews and "Frontend: none" in reviews
    waived = html.split('id="item-rollback-plan"', 1)[1].split("</tr>", 1)[0]
    assert "Waived" in waived and "the organisation" in waived
    assert "no schema change" in html.split('id="waivers"', 1)[1] and "nina" in html.split('id="waivers"', 1)[1]

    assert details_link(world, 5) == BOARD_URL + page

    world.close(5, merged=True)  # merged: it leaves the board, and its details link still answers
    assert await world.send("closed", 5) == 202
    await world.settle()
    status, text, _ = await get(world, "/board.json")
    assert status == 200 and all(p["number"] != 5 for p in __import__("json").loads(text)["pulls"])
    status, html, _ = await get(world, page)
    assert status == 200 and "This pull request is closed" in html


async def test_without_sign_in_or_token_the_board_says_how_to_configure_it_and_shows_nothing(world):
    world.open_pr(6, files=CROSS, title="Secret project")
    assert await world.send("opened", 6) == 202
    await world.settle()
    status, html, _ = await get(world, "/board", token=None)
    assert status == 200
    assert "BOARD_GITHUB_CLIENT_ID" in html and "BOARD_SESSION_SECRET" in html and "BOARD_TOKEN" in html
    assert "Secret project" not in html and "org/app" not in html
    status, text, _ = await get(world, "/board.json", token=None)
    assert status == 401 and "Secret project" not in text
    status, html, _ = await get(world, f"/board/{world.instance}/{REPO}/pull/6", token="not-the-token")
    assert status == 200 and "Secret project" not in html
