"""The Nexus board in a real headless Chromium (tests/browser.py), on GitHub and on Forgejo, as people
meet it: they open /board, are sent to the fake forge's authorize page, type their login and press
Authorize, and are back on the board; they see the sprint's figures, the cross-team pull request
with its DoD state and the team whose review is missing, the blocked dependency; they follow the
verdict's link on the forge to the pull request's page. Someone who cannot read a private
repository does not see it; an expired or forged session is sent back to sign in. Every page passes
axe-core (no serious or critical WCAG 2.1 AA violation), is usable from the keyboard, and reads on a
phone without JavaScript. Screenshots go to build/test-artifacts/ (``board-<forge>-…``).

The bot runs in this process (tests/harness.py) at ``http://127.0.0.1:PORT``, its ``BOARD_URL``:
the forge sends the browser back there, and the verdicts link there.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeTimedSerializer

from bot.service import sessions
from bot.service.sessions import COOKIE
from bot.service.signin import _page as signin_page
from tests import browser as b
from tests.board_world import BLOCKED, PR, cross_team_sprint, details_link, restart_with_signin
from tests.world import OTHER_REPO, REPO

SECRET_PR = 7  # in OTHER_REPO, a private repository
NIT, OUTSIDER = "nina", "bob"  # nina reads both repositories; bob only REPO
SCREEN = 375  # tests/browser.PHONE's width


@pytest.fixture
async def sprint(world):
    """The world of tests/board_world.cross_team_sprint with sign-in through its forge, and a
    pull request in the private ``OTHER_REPO`` that only nina may read."""
    await restart_with_signin(world)
    world.fake.let_read(NIT, REPO)
    world.fake.let_read(NIT, OTHER_REPO, private=True)
    world.fake.let_read(OUTSIDER, REPO)
    await cross_team_sprint(world)
    world.open_pr(SECRET_PR, files=["infra/deploy.tf"], title="Secret project", repo=OTHER_REPO)
    assert await world.send("opened", SECRET_PR, repo=OTHER_REPO) == 202
    await world.settle()
    return world


def pr_path(world, number: int = PR, repo: str = REPO) -> str:
    return f"/board/{world.instance}/{repo}/pull/{number}"


def row(repo: str, number: int) -> str:
    return "#pr-" + repo.replace("/", "-") + f"-{number}"


async def new_page(browser, **options):
    """tests/browser.new_page, waiting at most 10 s for what a test expects to see (not Playwright's 30)."""
    page = await b.new_page(browser, **options)
    page.context.set_default_timeout(10_000)
    return page


async def at_the_forge(page, world) -> None:
    """The page is the fake forge's authorize page: the person is asked to sign in."""
    await page.wait_for_url(world.fake.url + "/login/oauth/authorize?*")
    await page.get_by_role("heading", level=1, name="Authorize application").wait_for()


async def authorize(page, world, login: str, back_to: str) -> None:
    """On the forge's authorize page: type ``login``, press Authorize, and be back on ``back_to``."""
    await at_the_forge(page, world)
    await page.get_by_label("Login").fill(login)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(world.bot.url + back_to)


async def signed_in(browser, world, login: str, path: str = "/board", **options):
    """A new browser context where ``login`` opened ``path``, signed in through the forge and is
    back on it; its page."""
    page = await new_page(browser, **options)
    await page.goto(world.bot.url + path)
    await authorize(page, world, login, path)
    return page


async def no_serious_violation(page) -> None:
    assert await b.axe_violations(page) == [], page.url


async def test_a_person_signs_in_reads_the_board_and_follows_the_verdicts_link(browser, sprint):
    world, forge = sprint, sprint.forge
    page = await signed_in(browser, world, NIT, **b.FOR_AXE)
    await page.get_by_text(f"Signed in as {NIT}").wait_for()

    # what a person sees, and the JSON (read with the same session) says the same
    answer = await page.request.get(world.bot.url + "/board.json")
    assert answer.status == 200 and answer.headers["cache-control"] == "private, no-store"
    data = await answer.json()
    org = data["organisations"][0]
    assert (org["where"], org["owner"]) == (world.instance, "org")
    sprint_number = org["metrics"]["sprint"]["number"]
    await page.get_by_role("heading", level=2, name=f"Sprint of org ({world.instance})").wait_for()
    await page.get_by_role("heading", level=3, name="Figures").wait_for()
    figures = page.get_by_role("table", name=f"Sprint {sprint_number} per team")
    nexus = figures.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Nexus", exact=True))
    assert await nexus.locator('td[data-label="Blocked"]').inner_text() == str(org["metrics"]["nexus"]["blocked"]) == "1"

    pulls = {p["number"]: p for p in data["pulls"] if p["repo"] == REPO}
    pr = pulls[PR]
    assert pr["missing_reviews"] == ["frontend"] and pr["teams"] == ["backend", "frontend"]
    shown = page.locator(row(REPO, PR))
    await shown.get_by_role("link", name=f"{REPO}#{PR}").wait_for()
    assert await shown.locator(f".state-{pr['state']}").count() == 1
    assert f"{pr['done']}/{pr['applicable']} done" in await shown.locator('td[data-label="DoD"]').inner_text()
    assert await shown.locator('td[data-label="Teams"]').inner_text() == "Backend, Frontend"
    assert await shown.locator('td[data-label="Missing reviews"]').inner_text() == "Frontend"
    assert await shown.locator('td[data-label="Waivers"]').inner_text() == "rollback-plan (nina)"
    ids = await page.locator("tbody tr[id^='pr-']").evaluate_all("rows => rows.map(r => r.id)")
    assert ids == [p["id"] for p in data["pulls"]]  # the same pull requests, in the same order

    [blocked, *_] = org["dependencies"]  # blocked items first
    assert (blocked["ref"]["repo"], blocked["ref"]["number"], blocked["teams"]) == (REPO, BLOCKED, ["backend"])
    assert blocked["blocked_since"] and blocked["blocked_hours"] >= 0
    deps = page.get_by_role("table", name="Who blocks whom, blocked items first")
    first = deps.locator("tbody tr").first
    assert await first.get_attribute("id") == f"dep-org-app-{BLOCKED}"
    assert (await first.get_by_role("rowheader").inner_text()).startswith(f"{REPO}#{BLOCKED} ")
    assert (await first.locator('td[data-label="Blocked?"]').inner_text()).startswith("Yes, for ")
    assert await first.locator('td[data-label="Owner team"]').inner_text() == "Backend"
    await b.screenshot(page, f"board-{forge}-desktop")
    await no_serious_violation(page)

    # the keyboard: the first Tab stop is the skip link, and it moves the focus to the content
    await page.goto(world.bot.url + "/board")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to the content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "content"

    # the verdict's link on the forge leads to the pull request's page
    link = details_link(world, PR)
    assert link == world.bot.url + pr_path(world)
    response = await page.goto(link)
    assert response.status == 200
    await page.get_by_role("heading", level=1, name=f"{REPO}#{PR} Approve expenses").wait_for()
    items = page.get_by_role("table", name="Every item of the Definition of Done, with its evidence")
    published = world.published(PR)["items"]
    assert await items.locator("tbody tr").count() == len(published)
    for item in published:  # every item the forge shows, with its state and reason
        line = items.locator(f"#item-{item['id']}")
        assert await line.locator(f"td[data-label='State'] .state-{item['state']}").count() == 1, item
        assert item["reason"] in await line.locator('td[data-label="Why"]').inner_text(), item
    reviews = items.locator("#item-reviews")
    assert await reviews.locator(".state").inner_text() == "Waiting"
    assert "waiting for someone from Frontend" in await reviews.locator('td[data-label="Why"]').inner_text()
    evidence = await reviews.locator('td[data-label="Evidence"]').inner_text()
    assert "approvals: 1 of 2 (bob)" in evidence and "Frontend: none" in evidence
    waived = items.locator("#item-rollback-plan")
    assert await waived.locator(".state-waived").inner_text() == "Waived"
    assert await waived.locator('td[data-label="Rule from"]').inner_text() == "the organisation"
    waiver = page.get_by_role("table", name="Items waived, by whom, when and why").locator("tbody tr")
    assert await waiver.get_by_role("rowheader").inner_text() == "rollback-plan"
    assert await waiver.locator('td[data-label="By"]').inner_text() == NIT
    assert await waiver.locator('td[data-label="Why"]').inner_text() == "no schema change"
    await b.screenshot(page, f"board-{forge}-pull-request")
    await no_serious_violation(page)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#content"


async def test_only_readers_see_a_private_repository_and_stale_or_forged_sessions_sign_in_again(
        browser, sprint, monkeypatch):
    world, forge = sprint, sprint.forge
    nina = await signed_in(browser, world, NIT)
    await nina.locator(row(OTHER_REPO, SECRET_PR)).get_by_text("Secret project").wait_for()  # she reads it
    cookie = next(c for c in await nina.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and NIT not in cookie["value"]

    bob = await signed_in(browser, world, OUTSIDER, **b.FOR_AXE)
    await bob.locator(row(REPO, PR)).wait_for()
    assert await bob.locator(row(OTHER_REPO, SECRET_PR)).count() == 0
    assert "Secret project" not in await bob.content() and OTHER_REPO not in await bob.content()
    data = await (await bob.request.get(world.bot.url + "/board.json")).json()
    assert [p["repo"] for p in data["pulls"]] == [REPO]
    response = await bob.goto(world.bot.url + pr_path(world, SECRET_PR, OTHER_REPO))
    assert response.status == 404
    await bob.get_by_role("heading", level=1, name="Not found").wait_for()
    assert "Secret project" not in await bob.content()
    await b.screenshot(bob, f"board-{forge}-not-found")
    await no_serious_violation(bob)

    # nina's cookie, set in another browser, is her session (so a refused one below is refused for
    # what it holds); altered, or an id signed with another key, it is sent to sign in
    page = await new_page(browser)
    await page.context.add_cookies([{"name": COOKIE, "value": cookie["value"], "url": world.bot.url}])
    await page.goto(world.bot.url + "/board")
    await page.get_by_text(f"Signed in as {NIT}").wait_for()
    forged = [cookie["value"][:-2] + ("AA" if not cookie["value"].endswith("AA") else "BB"),
              URLSafeTimedSerializer("not-the-board-secret-but-32-chars-long", salt="nexus-board-session").dumps("x" * 43)]
    for value in forged:
        page = await new_page(browser)
        await page.context.add_cookies([{"name": COOKIE, "value": value, "url": world.bot.url}])
        await page.goto(world.bot.url + "/board")
        await at_the_forge(page, world)
    await b.screenshot(page, f"board-{forge}-forged-session-at-the-forge")

    # an expired session: nine hours later (sessions last eight), the person signs in again and is
    # back where they were going
    later = time.time() + 9 * 3600
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: later))
    await nina.goto(world.bot.url + pr_path(world))
    await authorize(nina, world, NIT, pr_path(world))
    await nina.get_by_role("heading", level=1, name=f"{REPO}#{PR} Approve expenses").wait_for()


async def test_the_board_on_a_phone_without_javascript(browser, sprint):
    world, forge = sprint, sprint.forge
    page = await signed_in(browser, world, NIT, **b.PHONE, **b.NO_JS)  # the sign-in needs no JavaScript either
    assert await page.evaluate("window.innerWidth") == SCREEN

    async def fits() -> None:
        widths = await page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert widths == [SCREEN, SCREEN], page.url  # nothing wider than the screen; tables scroll in their region

    await page.get_by_role("heading", level=3, name="Figures").wait_for()
    shown = page.locator(row(REPO, PR))
    assert await shown.locator('td[data-label="Missing reviews"]').inner_text() == "Frontend"
    assert await shown.get_by_role("link", name=f"{REPO}#{PR}").is_visible()
    box = await shown.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREEN
    # a stacked row reads "label: value" from the left, numbers too (right-aligned, they stood apart)
    aligns = await shown.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c).textAlign)")
    assert set(aligns) == {"left"}, aligns
    blocked = page.locator(f"#dep-org-app-{BLOCKED}")
    assert (await blocked.locator('td[data-label="Blocked?"]').inner_text()).startswith("Yes, for ")
    await fits()
    await b.screenshot(page, f"board-{forge}-phone-no-js")

    await shown.get_by_role("link", name=f"{REPO}#{PR}").click()
    await page.wait_for_url(world.bot.url + pr_path(world))
    await page.locator("#item-reviews").get_by_text("Frontend: none").wait_for()
    await fits()
    await b.screenshot(page, f"board-{forge}-pull-request-phone-no-js")

    # axe needs JavaScript: the same pages, the same session, on a phone with it on
    with_js = await new_page(browser, **b.PHONE, **b.FOR_AXE)
    await with_js.context.add_cookies(await page.context.cookies())
    for path in ("/board", pr_path(world)):
        await with_js.goto(world.bot.url + path)
        await with_js.locator("main h1").wait_for()
        await no_serious_violation(with_js)


async def test_the_pages_without_data_pass_axe(browser, world):
    """Without sign-in configured (the world's bot as it starts) the board is the page that says how
    to configure it; and the sign-in's own page, where a person chooses a forge when there are several."""
    page = await new_page(browser, **b.FOR_AXE)
    response = await page.goto(world.bot.url + "/board")
    assert response.status == 200
    await page.get_by_role("heading", level=1, name="Sign-in is not configured").wait_for()
    assert await page.get_by_role("rowheader", name="BOARD_SESSION_SECRET").is_visible()
    assert "org/app" not in await page.content()
    await b.screenshot(page, f"board-{world.forge}-setup")
    await no_serious_violation(page)

    choose = signin_page("Sign in to the Nexus board", forges=[
        {"title": "GitHub (github.example.org)", "url": "/signin/github?next=/board"},
        {"title": "Forgejo (code.example.org)", "url": "/signin/default?next=/board"}])
    await page.set_content(choose.text)
    await page.get_by_role("link", name="Sign in with Forgejo (code.example.org)").wait_for()
    await b.screenshot(page, f"board-{world.forge}-sign-in-choice")
    await no_serious_violation(page)
