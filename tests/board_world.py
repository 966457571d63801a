"""The Nexus board's world, shared by its tests over HTTP (test_e2e_board.py, test_e2e_signin.py)
and in a real browser (test_browser_board.py), on GitHub and on Forgejo (the ``world`` fixture):

- ``signin_settings``: the bot's settings for people to sign in to the board through the fake
  forge's OAuth application;
- ``restart``: the world's bot again with more settings, on a chosen port when the board's address
  must be known before it starts (the forge sends the browser back to ``BOARD_URL``);
- ``cross_team_sprint``: a sprint with a cross-team pull request missing a team's review, a waiver,
  and a backlog item blocked by another team's.
"""

from __future__ import annotations

from .process import free_port
from .test_e2e_commands import command
from .world import REPO

SESSION_SECRET = "a-board-session-secret-of-32-chars-at-least"
CROSS = ["backend/src/expenses.rs", "frontend/src/App.svelte", "CHANGELOG.md"]  # Backend's and Frontend's code
PR = 5  # the cross-team pull request of ``cross_team_sprint``
BLOCKED, BLOCKER = 13, 14  # its backlog item (Backend's), blocked by Infra's


def signin_settings(forge: str, fake, board_url: str) -> dict[str, str]:
    """People sign in to the board at ``board_url`` through ``fake`` ("github" or "forgejo")."""
    common = {"BOARD_URL": board_url, "BOARD_SESSION_SECRET": SESSION_SECRET}
    if forge == "github":
        return {**common, "GITHUB_WEB_URL": fake.url, "BOARD_GITHUB_CLIENT_ID": fake.oauth.client_id,
                "BOARD_GITHUB_CLIENT_SECRET": fake.oauth.client_secret}
    return {**common, "BOARD_FORGEJO_CLIENT_ID": fake.oauth.client_id,
            "BOARD_FORGEJO_CLIENT_SECRET": fake.oauth.client_secret}


async def restart(world, port: int = 0, **settings: str) -> None:
    """The world's bot stopped and started again with ``settings`` added (its store is kept)."""
    await world.bot.stop()
    world.settings.update(settings)
    await world.start(port)


async def restart_with_signin(world, **settings: str) -> str:
    """The world's bot with sign-in through its forge, served at the ``BOARD_URL`` a browser on this
    machine reaches (``http://127.0.0.1:PORT``, the port picked before the bot starts); that URL."""
    port = free_port()
    board_url = f"http://127.0.0.1:{port}"
    await restart(world, port, **signin_settings(world.forge, world.fake, board_url), **settings)
    assert world.bot.url == board_url
    return board_url


async def cross_team_sprint(world) -> None:
    """Teams Backend (alice, bob), Frontend (fay), Infra (ivan) and the NIT (nina); Backend's item
    #13 depends on Infra's #14 (so it is blocked); pull request #5 closes #13 and changes Backend's
    and Frontend's code; bob (Backend) approved it, Frontend has not; nina waived its rollback plan."""
    world.team("backend", ["alice", "bob"])
    world.team("frontend", ["fay"])
    world.team("infra", ["ivan"])
    world.team("nit", ["nina"])
    world.open_issue(BLOCKER, "Mail quota", "Teams: Infra", labels=["team:infra"])
    world.open_issue(BLOCKED, "Approval e-mail", f"Depends on #{BLOCKER}", labels=["team:backend", "blocked"])
    for n in (BLOCKER, BLOCKED):
        assert await world.send("issue_opened", n) == 202
    world.open_pr(PR, files=CROSS, title="Approve expenses", body=f"Closes #{BLOCKED}")
    assert await world.send("opened", PR) == 202
    await world.settle()
    world.review(PR, "bob", "APPROVED")
    assert await world.send("review", PR) == 202
    await world.settle()
    await command(world, PR, '/nexus waive rollback-plan "no schema change"', user="nina")


def details_link(world, number: int, repo: str = REPO) -> str:
    """The link the forge shows with the verdict: the GitHub check run's ``details_url``, the
    Forgejo commit status's ``target_url``."""
    if world.forge == "github":
        return world.check_run(number, repo=repo)["details_url"]
    return world.dod_status(number, repo=repo)["target_url"]
