"""Signing in to the Nexus board through the forge, end to end on real sockets: a person's browser
(cookies, redirects one by one), the bot, and the fake forge's OAuth pages and API, on GitHub and on
Forgejo. The board's own pages are another module's: a test-only route here asks ``current_viewer``
what the board would."""

from __future__ import annotations

import html
import json
import logging
import re
import time
from dataclasses import dataclass, field
from http.cookies import Morsel
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.service.sessions import COOKIE, KEY
from bot.service.viewer import current_viewer
from tests.board_world import SESSION_SECRET, signin_settings
from tests.fakes.forgejo import FakeForgejo
from tests.fakes.github import FakeGitHub
from tests.harness import RunningBot, settings_for

BOARD_URL = "https://nexus.example.org"  # the board's public address; the "browser" reaches it on the bot's socket
WHO = "/test/viewer"  # the test's own route: what ``current_viewer`` says for this request
MANY = [f"acme/service-{n:03}" for n in range(120)]  # more than one page on both forges


def who_route(app: web.Application) -> None:
    async def who(request: web.Request) -> web.Response:
        viewer = await current_viewer(request)
        if viewer is None:
            return web.json_response(None)
        return web.json_response({"where": viewer.where, "login": viewer.login, "repos": sorted(viewer.repos),
                                  "expires": viewer.expires})

    app.router.add_get(WHO, who)


@dataclass
class Page:
    status: int
    url: str
    headers: dict
    text: str

    def json(self):
        return json.loads(self.text)


@dataclass
class Browser:
    """A person's browser as far as sign-in goes: it keeps the bot's cookies (path-matched, deleted
    when the bot says so, Secure ones sent too since the "https" board is the bot's plain socket
    here), follows redirects one at a time, and reaches ``BOARD_URL`` on the bot's socket, as a
    reverse proxy would."""

    http: aiohttp.ClientSession
    bot_url: str
    board_url: str = BOARD_URL
    cookies: dict[str, Morsel] = field(default_factory=dict)
    set_cookies: dict[str, Morsel] = field(default_factory=dict)  # the last Set-Cookie seen for each name
    pages: list[Page] = field(default_factory=list)  # every answer, redirects included

    def _target(self, url: str) -> str:
        if url.startswith("/"):
            return self.bot_url + url
        return self.bot_url + url[len(self.board_url):] if url.startswith(self.board_url) else url

    async def request(self, method: str, url: str, form: dict | None = None, headers: dict | None = None) -> Page:
        target = self._target(url)
        headers = dict(headers or {})
        if target.startswith(self.bot_url):
            path = urlsplit(target).path
            sent = [f"{n}={m.value}" for n, m in self.cookies.items() if path.startswith(m["path"] or "/")]
            if sent:
                headers["Cookie"] = "; ".join(sent)
        async with self.http.request(method, target, data=form, headers=headers, allow_redirects=False) as r:
            page = Page(r.status, target, dict(r.headers), await r.text())
            for name, morsel in r.cookies.items():
                self.set_cookies[name] = morsel
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel
        self.pages.append(page)
        return page

    async def open(self, url: str, method: str = "GET", form: dict | None = None, headers: dict | None = None) -> Page:
        page = await self.request(method, url, form, headers)
        for _ in range(10):
            if page.status not in (301, 302, 303, 307):
                return page
            page = await self.request("GET", page.headers["Location"])
        raise AssertionError("too many redirects")

    async def authorize(self, page: Page, login: str, decision: str = "authorize") -> Page:
        """On the forge's authorize page: type ``login`` in the form's field and press the button."""
        assert '<label for="login">' in page.text and ">Authorize</button>" in page.text
        form = {name: html.unescape(value) for name, value in
                re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text)}
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        return await self.open(origin + action, "POST", {**form, "login": login, "decision": decision})


@dataclass
class SignInWorld:
    forge: FakeGitHub | FakeForgejo
    bot: RunningBot
    where: str
    http: aiohttp.ClientSession

    def browser(self) -> Browser:
        return Browser(self.http, self.bot.url)

    async def sign_in(self, login: str, next_path: str = WHO) -> tuple[Browser, Page]:
        browser = self.browser()
        authorize = await browser.open(f"/signin?next={quote(next_path)}")
        assert authorize.status == 200 and authorize.url.startswith(self.forge.url), authorize
        return browser, await browser.authorize(authorize, login)


@pytest_asyncio.fixture(params=["github", "forgejo"])
async def signin(request, tmp_path, github_private_key):
    forge = FakeGitHub(private_key=github_private_key) if request.param == "github" else FakeForgejo()
    await forge.start()
    settings = settings_for(tmp_path, **{request.param: forge}, **signin_settings(request.param, forge, BOARD_URL))
    where = "github" if request.param == "github" else "default"
    forge.let_read("alice", *MANY)
    forge.let_read("alice", "acme/Secret-Plans", private=True)
    forge.let_read("bob", "acme/service-000")
    bot = await RunningBot(settings, routes=who_route).start()
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    try:
        yield SignInWorld(forge, bot, where, http)
    finally:
        await http.close()
        await bot.stop()
        await forge.stop()
    assert forge.violations == [], forge.violations


async def test_a_person_signs_in_and_the_board_sees_what_the_forge_lets_them_read(signin):
    browser, page = await signin.sign_in("alice")
    assert page.status == 200 and urlsplit(page.url).path == WHO
    viewer = page.json()
    assert viewer["where"] == signin.where and viewer["login"] == "alice"
    assert viewer["repos"] == sorted([*MANY, "acme/secret-plans"])  # every page read, private included
    assert 8 * 3600 - 60 < viewer["expires"] - time.time() <= 8 * 3600

    cookie = browser.set_cookies[COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and cookie["max-age"] == str(8 * 3600)
    assert "alice" not in cookie.value and signin.where not in cookie.value  # an id, nothing else
    assert browser.set_cookies["nexus_signin"]["max-age"] == "0"  # the one-time state is gone

    _, page = await signin.sign_in("bob")
    assert page.json()["repos"] == ["acme/service-000"]  # alice's private repository is not bob's
    assert (await browser.open(WHO)).json()["login"] == "alice"  # each browser its own session


async def test_a_single_forge_is_chosen_at_once_and_next_is_kept_through_the_forge(signin):
    browser = signin.browser()
    first = await browser.request("GET", "/signin?next=/board%3Fteam%3Dapi")
    assert first.status == 303 and first.headers["Location"] == f"/signin/{signin.where}?next=/board%3Fteam%3Dapi"
    to_forge = await browser.request("GET", first.headers["Location"])
    authorize = urlsplit(to_forge.headers["Location"])
    query = parse_qs(authorize.query)
    assert to_forge.headers["Location"].startswith(signin.forge.url + "/login/oauth/authorize?")
    assert query["redirect_uri"] == [f"{BOARD_URL}/signin/{signin.where}/callback"]
    assert query["client_id"] == [signin.forge.oauth.client_id] and len(query["state"][0]) >= 40
    state = browser.set_cookies["nexus_signin"]
    assert state["path"] == "/signin" and state["httponly"] and state["samesite"] == "Lax" and state["secure"]
    page = await browser.authorize(await browser.open(to_forge.headers["Location"]), "alice")
    assert page.status == 200 and urlsplit(page.url).path == "/board" and "Open pull requests" in page.text
    assert _callback(browser).headers["Location"] == "/board?team=api"


@pytest.mark.parametrize("next_path", ["//evil.example/board", "https://evil.example/", "/\\evil.example",
                                       "/\t/evil.example", "javascript:alert(1)", ""])
async def test_next_never_leads_to_another_site(signin, next_path):
    browser, _ = await signin.sign_in("alice", next_path)
    callback = _callback(browser)
    assert callback.status == 303 and callback.headers["Location"] == "/board"
    assert COOKIE in browser.cookies  # signed in all the same


async def test_a_callback_whose_state_does_not_match_is_refused_with_a_page(signin):
    browser = signin.browser()
    to_forge = await browser.request("GET", f"/signin/{signin.where}?next={WHO}")
    authorize = await browser.open(to_forge.headers["Location"])
    at_callback = await browser.request("POST", signin.forge.url + "/login/oauth/authorize",
                                        {**_hidden(authorize.text), "login": "alice", "decision": "authorize"})
    callback = urlsplit(at_callback.headers["Location"])
    code = parse_qs(callback.query)["code"][0]
    forged = await browser.request("GET", f"{callback.path}?code={code}&state=not-the-one")
    assert forged.status == 400 and "Sign-in could not be checked" in forged.text
    assert "Sign in again" in forged.text and COOKIE not in browser.cookies

    stranger = signin.browser()  # the right state, in a browser that did not start the sign-in (login CSRF)
    page = await stranger.request("GET", at_callback.headers["Location"])
    assert page.status == 400 and COOKIE not in stranger.cookies
    assert len(signin.forge.oauth.exchanges) == 0  # no code was exchanged for either


async def test_a_refused_code_and_a_refused_authorization_sign_nobody_in(signin):
    browser = signin.browser()
    to_forge = await browser.request("GET", f"/signin/{signin.where}")
    authorize = await browser.open(to_forge.headers["Location"])
    back = await browser.request("POST", signin.forge.url + "/login/oauth/authorize",
                                 {**_hidden(authorize.text), "login": "alice", "decision": "authorize"})
    wrong_code = re.sub(r"code=\w+", "code=0000", back.headers["Location"])
    page = await browser.request("GET", wrong_code)
    assert page.status == 400 and "refused the sign-in" in page.text and COOKIE not in browser.cookies

    cancelled = await browser.authorize(await browser.open(to_forge.headers["Location"]), "alice", "cancel")
    assert cancelled.status == 403 and "did not sign you in" in cancelled.text and COOKIE not in browser.cookies


async def test_forged_ended_and_expired_sessions_are_nobody(signin):
    browser, _ = await signin.sign_in("alice")
    value = browser.cookies[COOKIE].value
    browser.cookies[COOKIE].set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), "")
    assert (await browser.open(WHO)).json() is None  # a forged signature

    browser.cookies[COOKIE].set(COOKIE, value, value)
    assert (await browser.open(WHO)).json()["login"] == "alice"
    [key] = [k for (k,) in signin.bot.store.db.execute("SELECT key FROM expiring WHERE key LIKE ?", (KEY + "%",))]
    kept = json.loads(await signin.bot.store.recall(key))
    await signin.bot.store.remember(key, json.dumps({**kept, "expires": time.time() - 1}), 60)
    assert (await browser.open(WHO)).json() is None  # expired: its cookie is still signed, the session is over
    assert await signin.bot.store.recall(key) is None  # and forgotten


async def test_sign_out_is_a_post_from_the_board_and_ends_the_session(signin):
    browser, _ = await signin.sign_in("alice")
    value = browser.cookies[COOKIE].value
    assert (await browser.request("GET", "/signout")).status == 405  # no state-changing GET
    refused = await browser.request("POST", "/signout", headers={"Origin": "https://evil.example"})
    assert refused.status == 403 and (await browser.open(WHO)).json()["login"] == "alice"

    page = await browser.request("POST", "/signout", headers={"Origin": BOARD_URL})
    assert page.status == 200 and "signed out" in page.text and COOKIE not in browser.cookies
    assert browser.set_cookies[COOKIE]["max-age"] == "0" and browser.set_cookies[COOKIE]["path"] == "/"
    replay = signin.browser()
    replay.cookies[COOKIE] = Morsel()
    replay.cookies[COOKIE].set(COOKIE, value, value)
    replay.cookies[COOKIE]["path"] = "/"
    assert (await replay.open(WHO)).json() is None  # the old cookie is worth nothing now


async def test_no_secret_and_no_token_in_logs_or_pages(signin, caplog):
    caplog.set_level(logging.DEBUG)
    browser, page = await signin.sign_in("alice")
    assert page.json()["login"] == "alice"
    wrong = signin.browser()
    to_forge = await wrong.request("GET", f"/signin/{signin.where}")
    back = await wrong.request("POST", signin.forge.url + "/login/oauth/authorize",
                               {**_hidden((await wrong.open(to_forge.headers["Location"])).text), "login": "alice",
                                "decision": "authorize"})
    await wrong.request("GET", re.sub(r"code=\w+", "code=0000", back.headers["Location"]))
    [token] = signin.forge.oauth.tokens
    seen = caplog.text + "".join(p.text + json.dumps(p.headers) for p in browser.pages + wrong.pages)
    assert "signed in on" in caplog.text and "refused" in caplog.text  # the logs do tell the story
    assert signin.forge.oauth.client_secret not in seen and token not in seen and SESSION_SECRET not in seen
    assert signin.forge.oauth.client_secret not in repr(signin.bot.settings)


async def test_with_several_forges_the_person_chooses(tmp_path, github_private_key):
    github, forgejo = FakeGitHub(private_key=github_private_key), FakeForgejo()
    await github.start()
    await forgejo.start()
    settings = settings_for(tmp_path, github=github, forgejo=forgejo, GITHUB_WEB_URL=github.url,
                            BOARD_GITHUB_CLIENT_ID=github.oauth.client_id,
                            BOARD_GITHUB_CLIENT_SECRET=github.oauth.client_secret,
                            BOARD_FORGEJO_CLIENT_ID=forgejo.oauth.client_id,
                            BOARD_FORGEJO_CLIENT_SECRET=forgejo.oauth.client_secret,
                            BOARD_URL="http://nexus.example.org", BOARD_SESSION_SECRET=SESSION_SECRET)
    forgejo.let_read("carol", "infra/deploy", private=True)
    bot = await RunningBot(settings, routes=who_route).start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            browser = Browser(http, bot.url, "http://nexus.example.org")
            choose = await browser.open(f"/signin?next={WHO}")
            assert choose.status == 200 and "Sign in with GitHub (127.0.0.1)" in choose.text
            links = re.findall(r'<a class="forge" href="([^"]+)">Sign in with (\w+)', choose.text)
            assert [name for _, name in links] == ["GitHub", "Forgejo"]
            forgejo_link = html.unescape(links[1][0])
            page = await browser.authorize(await browser.open(forgejo_link), "carol")
            assert page.json()["where"] == "default" and page.json()["repos"] == ["infra/deploy"]
            assert not browser.set_cookies[COOKIE]["secure"]  # the board is on http here
    finally:
        await bot.stop()
        await github.stop()
        await forgejo.stop()
    assert github.violations == [] and forgejo.violations == []


def _callback(browser: Browser) -> Page:
    """The bot's answer at the forge's callback."""
    return next(p for p in browser.pages if urlsplit(p.url).path.endswith("/callback"))


def _hidden(page: str) -> dict:
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)}


async def test_the_served_process_signs_people_in_and_logs_no_secret(tmp_path, github_private_key):
    """``nexus-bot serve`` itself (its web layer on a thread of its own, LOG_LEVEL=debug): the
    sign-in works there, and its whole log holds neither the client secret nor the person's token."""
    from tests.process import BotProcess

    github = FakeGitHub(private_key=github_private_key)
    await github.start()
    github.let_read("alice", "acme/api")
    bot = BotProcess(tmp_path / "bot", github=github, GITHUB_WEB_URL=github.url, BOARD_URL=BOARD_URL,
                     BOARD_SESSION_SECRET=SESSION_SECRET, BOARD_GITHUB_CLIENT_ID=github.oauth.client_id,
                     BOARD_GITHUB_CLIENT_SECRET=github.oauth.client_secret)
    try:
        await bot.start()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            browser = Browser(http, bot.url)
            page = await browser.authorize(await browser.open("/signin?next=/healthz"), "alice")
            assert page.status == 200 and urlsplit(page.url).path == "/healthz" and COOKIE in browser.cookies
            out = await browser.request("POST", "/signout", headers={"Origin": BOARD_URL})
            assert out.status == 200 and COOKIE not in browser.cookies
    finally:
        await bot.close()
        await github.stop()
    [token] = github.oauth.tokens
    log = bot.log()
    assert "alice signed in on github" in log
    assert github.oauth.client_secret not in log and token not in log and SESSION_SECRET not in log
    assert github.violations == []
