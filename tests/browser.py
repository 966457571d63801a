"""A real headless Chromium for the tests: Debian's ``/usr/bin/chromium`` (installed by bin/setup),
driven by Playwright's async API (the tests run in pytest-asyncio's loop), never a browser of
Playwright's own.

``browser`` is a fixture (a fresh browser, so a fresh user data dir, per test); ``new_page`` opens
a page in a fresh context: desktop, ``PHONE`` (375x812), without JavaScript (``NO_JS``), or with the
page's Content-Security-Policy bypassed for axe (``FOR_AXE``). ``axe_violations``
runs axe-core (bin/setup puts ``axe.min.js`` in the venv) with the WCAG 2.1 A/AA rules;
``screenshot`` saves a PNG under ``build/test-artifacts/``.

Without Chromium, Playwright or axe-core the browser tests fail under CI (``CI`` set: the README
promises they run there) and are skipped elsewhere, both with a message that says what to run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "test-artifacts"
AXE_JS = Path(os.environ.get("NEXUS_AXE_JS") or Path(sys.prefix) / "share" / "axe-core" / "axe.min.js")
SYSTEM_CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
NO_JS = {"java_script_enabled": False}
# axe-core is added to the page as a script, which the board's pages forbid (CSP ``default-src 'none'``):
# open the pages axe checks with ``new_page(browser, **FOR_AXE)`` (the page renders the same: it has no script)
FOR_AXE = {"bypass_csp": True}
WCAG21 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def unavailable(what: str) -> None:
    """Fail under CI, skip elsewhere: ``what`` is missing and bin/setup installs it."""
    message = f"browser tests: {what}; run bin/setup"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def chromium() -> str:
    """The system Chromium: $NEXUS_CHROMIUM, else /usr/bin/chromium, else ``chromium`` on the PATH."""
    for candidate in (os.environ.get("NEXUS_CHROMIUM"), SYSTEM_CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    unavailable(f"no Chromium at {SYSTEM_CHROMIUM} (Debian's `chromium`), $NEXUS_CHROMIUM or on the PATH")


@pytest_asyncio.fixture
async def browser():
    """A headless Chromium launched for this test (its own temporary profile), closed after it."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (the `test` extra)")
    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser, **options):
    """A page in a new context (no cookies nor storage shared with other pages), e.g.
    ``new_page(browser, **PHONE, **NO_JS)``; it closes with the test's browser."""
    context = await browser.new_context(**options)
    return await context.new_page()


async def axe_violations(page, impact=("serious", "critical"), tags=WCAG21) -> list[str]:
    """axe-core's violations of ``impact`` on the page as it is now, one readable line each:
    ``rule (impact): help: selector, selector``. axe runs in the page: JavaScript must be on in its
    context (check a page seen without JavaScript by opening the same URL in a context with it), and
    a page whose Content-Security-Policy forbids scripts must be opened with ``FOR_AXE``."""
    if not AXE_JS.is_file():
        unavailable(f"axe-core is not at {AXE_JS}")
    try:
        await page.add_script_tag(path=str(AXE_JS))
    except Exception as exc:
        if "Content Security Policy" in str(exc):
            raise AssertionError("the page's Content-Security-Policy refused axe-core: open the page with "
                                 "new_page(browser, **FOR_AXE)") from exc
        raise
    assert await page.evaluate("typeof axe") == "object", "axe-core did not load: JavaScript is off in this context"
    result = await page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags)
    return [f"{v['id']} ({v['impact']}): {v['help']}: " + ", ".join(" ".join(n["target"]) for n in v["nodes"])
            for v in result["violations"] if v["impact"] in impact]


async def screenshot(page, name: str) -> Path:
    """The whole page as ``build/test-artifacts/<name>.png`` (kept after the run: CI's artifacts)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "-", name) + ".png")
    await page.screenshot(path=str(path), full_page=True)
    return path
