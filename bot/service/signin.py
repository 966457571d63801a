"""Sign-in to the Nexus board through a forge: GitHub (the GitHub App's OAuth client) and each
Forgejo/Gitea instance with an OAuth2 application. Implements ``viewer.SignIn``.

- ``GET /signin?next=/board…``: the forges to sign in with (straight to the one, when only one is
  configured).
- ``GET /signin/{where}``: to the forge's authorize page, with a random ``state`` that is also kept in
  a short-lived signed cookie (``Path=/signin``): the callback accepts only the browser that started.
- ``GET /signin/{where}/callback?code&state``: the state checked, the code exchanged by the forge's
  adapter for who the person is and what they may read, a session started (``sessions.py``), and
  back to ``next``: only a path of this site, never another site (no open redirect).
- ``POST /signout``: the session ends (no state-changing GET; a cross-site form is refused).

The forges' addresses and answers are the adapters' (``bot/forges/*_oauth.py``); this module never
sees a person's token, and never shows or logs the client secrets.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import quote, urlsplit

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..forges.base import ForgeError
from ..forges.forgejo_oauth import ForgejoOAuth
from ..forges.github_oauth import GitHubOAuth
from ..forges.oauth import OAuthClient, SignInRefused
from ..locales import DEFAULT_LANGUAGE
from .board_web import environment  # the board's pages' (HTML, autoescaped)
from .sessions import COOKIE, Sessions
from .settings import Settings
from .store import Store
from .viewer import SIGNIN, SIGNOUT_PATH, Viewer

log = logging.getLogger("nexus.signin")

DEFAULT_NEXT = "/board"
STATE_COOKIE = "nexus_signin"
STATE_SECONDS = 600  # from the sign-in link to the forge's callback
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """``value`` when it is a path of this site, else the board: never a redirect to elsewhere
    (``//evil.example``, ``/\\evil.example`` and ``https://…`` are other sites to a browser)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return DEFAULT_NEXT
    if any(ord(c) < 0x21 or c == "\x7f" for c in value):  # browsers drop tabs and newlines: "/\t/evil"
        return DEFAULT_NEXT
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else DEFAULT_NEXT


class ForgeSignIn:
    """``SignIn`` through the configured forges' OAuth clients."""

    def __init__(self, clients: dict[str, OAuthClient], sessions: Sessions, board_url: str, secret: str):
        self.clients = clients
        self.sessions = sessions
        self.board_url = board_url.rstrip("/")
        self._states = URLSafeTimedSerializer(secret, salt="nexus-signin-state")

    async def viewer(self, request: web.Request) -> Viewer | None:
        return await self.sessions.viewer(request.cookies.get(COOKIE))

    def signin_url(self, next_path: str) -> str:
        return f"/signin?next={quote(safe_next(next_path), safe='/')}"

    def redirect_uri(self, where: str) -> str:
        return f"{self.board_url}/signin/{where}/callback"

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    # -- routes

    async def choose(self, request: web.Request) -> web.StreamResponse:
        next_path = safe_next(request.query.get("next"))
        links = [{"title": c.title, "url": f"/signin/{where}?next={quote(next_path, safe='/')}"}
                 for where, c in self.clients.items()]
        if len(links) == 1:
            return _redirect(links[0]["url"])
        return _page("Sign in to the Nexus board", forges=links)

    async def start(self, request: web.Request) -> web.StreamResponse:
        where = request.match_info["where"]
        client = self.clients.get(where)
        if client is None:
            return _page("No such forge", f"The board signs nobody in with {where!r}.", again="/signin", status=404)
        state = secrets.token_urlsafe(32)
        response = _redirect(client.authorize_url(state, self.redirect_uri(where)))
        kept = self._states.dumps({"state": state, "where": where, "next": safe_next(request.query.get("next"))})
        response.set_cookie(STATE_COOKIE, kept, max_age=STATE_SECONDS, path="/signin", httponly=True,
                            samesite="Lax", secure=self.sessions.secure)
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        where = request.match_info["where"]
        client = self.clients.get(where)
        if client is None:
            return _page("No such forge", f"The board signs nobody in with {where!r}.", again="/signin", status=404)
        started = self._started(request, where)
        again = f"/signin/{where}?next={quote(started['next'] if started else DEFAULT_NEXT, safe='/')}"
        if started is None or not hmac.compare_digest(started["state"].encode(),
                                                       request.query.get("state", "").encode()):
            return _page("Sign-in could not be checked",
                         "This sign-in was not started in this browser, or it took more than ten minutes. "
                         "Nobody was signed in.", again=again, status=400)
        if "error" in request.query:  # the person did not authorize the board (access_denied), or the forge refused
            return _page("Not signed in", f"{client.title} did not sign you in: "
                         f"{request.query.get('error_description') or request.query['error']}", again=again,
                         status=403)
        code = request.query.get("code")
        if not code:
            return _page("Sign-in could not be checked", f"{client.title} sent no code back.", again=again,
                         status=400)
        try:
            person = await client.person(code, self.redirect_uri(where))
        except SignInRefused as exc:
            log.warning("board sign-in on %s refused: %s", where, exc)
            return _page("Not signed in", str(exc), again=again, status=400)
        except ForgeError as exc:
            log.warning("board sign-in on %s failed: %s", where, exc)
            return _page("Not signed in", f"{client.title} could not be asked who you are: {exc}. Try again later.",
                         again=again, status=502)
        response = _redirect(started["next"])
        self.sessions.set_cookie(response, await self.sessions.start(where, person))
        response.del_cookie(STATE_COOKIE, path="/signin", httponly=True, samesite="Lax", secure=self.sessions.secure)
        log.info("board: %s signed in on %s (%d repositories readable)", person.login, where, len(person.repos))
        return response

    async def signout(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and origin != _origin(self.board_url):  # a form on another site: the cookie stays
            return _page("Not signed out", "Sign out from the board's own page.", status=403)
        await self.sessions.end(request.cookies.get(COOKIE))
        response = _page("Signed out", "You are signed out of the Nexus board.", again="/signin")
        self.sessions.clear_cookie(response)
        return response

    def _started(self, request: web.Request, where: str) -> dict | None:
        try:
            started = self._states.loads(request.cookies.get(STATE_COOKIE, ""), max_age=STATE_SECONDS)
        except BadSignature:
            return None
        return started if isinstance(started, dict) and started.get("where") == where else None


def clients_of(settings: Settings) -> dict[str, OAuthClient]:
    """Each forge people may sign in with, by its ``where``: "github", or a Forgejo instance's name."""
    clients: dict[str, OAuthClient] = {}
    if settings.board_github_client:
        app = settings.board_github_client
        clients["github"] = GitHubOAuth(app.client_id, app.client_secret, web_url=settings.github_web_url,
                                        api_url=settings.github_api_url)
    for instance in settings.forgejo:
        if instance.board_client:
            app = instance.board_client
            clients[instance.name] = ForgejoOAuth(instance.name, app.client_id, app.client_secret, url=instance.url)
    return clients


def add_routes(app: web.Application, settings: Settings, store: Store) -> None:
    """The sign-in routes and ``app[SIGNIN]``, when sign-in is configured (else the board says how)."""
    if not settings.signin_configured:
        return
    sessions = Sessions(store, settings.board_session_secret, settings.board_session_hours,
                        secure=settings.board_url.startswith("https:"))
    signin = ForgeSignIn(clients_of(settings), sessions, settings.board_url, settings.board_session_secret)
    app[SIGNIN] = signin
    app.router.add_get("/signin", signin.choose)
    app.router.add_get("/signin/{where}", signin.start)
    app.router.add_get("/signin/{where}/callback", signin.callback)
    app.router.add_post(SIGNOUT_PATH, signin.signout)

    async def close(_: web.Application) -> None:
        await signin.aclose()

    app.on_cleanup.append(close)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **NO_STORE})


def _page(title: str, message: str = "", *, forges: list[dict] | None = None, again: str | None = None,
          status: int = 200) -> web.Response:
    text = environment(DEFAULT_LANGUAGE).get_template("signin.html.j2").render(title=title, message=message, forges=forges or [], again=again)
    return web.Response(text=text, status=status, content_type="text/html", headers=NO_STORE)
