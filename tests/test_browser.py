"""The browser tests' ground (tests/browser.py) proven on a page the bot serves: /setup, in a real
headless Chromium, as a person sees it on a desktop and on a phone without JavaScript."""

import pytest

from tests import browser as b
from tests.process import BotProcess


@pytest.fixture
async def bot(tmp_path):
    bot = await BotProcess(tmp_path / "bot").start()  # no GitHub App configured: /setup is served
    yield bot
    await bot.close()


async def test_the_setup_page_reads_and_passes_axe_in_a_real_browser(browser, bot):
    page = await b.new_page(browser)
    response = await page.goto(bot.url + "/setup")
    assert response.status == 200
    assert await page.get_by_role("heading", level=1, name="Set up nexus-bot").is_visible()
    assert await page.get_by_role("button", name="Register the GitHub App").is_visible()
    assert (await b.screenshot(page, "setup-desktop")).stat().st_size > 0
    assert await b.axe_violations(page) == []


async def test_the_setup_page_fits_a_phone_without_javascript(browser, bot):
    page = await b.new_page(browser, **b.PHONE, **b.NO_JS)
    await page.goto(bot.url + "/setup")
    assert await page.get_by_role("heading", level=1, name="Set up nexus-bot").is_visible()
    # laid out at the phone's width (a viewport meta), nothing wider than the screen
    assert await page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]") == [375, 375]
    button = await page.get_by_role("button", name="Register the GitHub App").bounding_box()
    assert 0 <= button["x"] and button["x"] + button["width"] <= 375
    await b.screenshot(page, "setup-phone-no-js")


async def test_axe_violations_reports_what_it_finds(browser):
    """axe_violations does report what it finds (a test that always returns [] would prove nothing)."""
    page = await b.new_page(browser)
    await page.set_content("<html lang=en><title>t</title><main><h1>T</h1><img src=x.png></main></html>")
    assert [v.split(" ")[0] for v in await b.axe_violations(page, impact=("critical",))] == ["image-alt"]


def test_without_chromium_the_browser_tests_fail_under_ci_and_skip_elsewhere(monkeypatch):
    monkeypatch.setattr(b, "SYSTEM_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("NEXUS_CHROMIUM", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no Chromium at /nonexistent/chromium.*run bin/setup"):
        b.chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="run bin/setup"):
        b.chromium()
