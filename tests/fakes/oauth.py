"""A forge's OAuth 2.0 authorization server as a person and the bot meet it, shared by the fake
GitHub and the fake Forgejo (the two forges run the same authorization code flow).

- ``GET /login/oauth/authorize?client_id&redirect_uri&state``: a page with a real form, where a
  person types their login (``<label for=login>``) and presses "Authorize" (or "Cancel"); a browser
  test drives it as a person would.
- ``POST /login/oauth/authorize``: that form; back to ``redirect_uri?code&state`` (or
  ``error=access_denied``).
- ``POST /login/oauth/access_token``: the code, once, for the client that asked for it with its
  secret and the same ``redirect_uri``; answered the way the forge answers (``flavour``): GitHub
  says ``error`` in a 200, Forgejo in a 400 (``invalid_grant``, ``invalid_client``).

A browser on those pages also asks the site for ``/favicon.ico``: answered 404, as a web page of the
forge (``web_page(path)``), never taken for a call to the API the fake checks.

Tokens given out are known to the fake's API (``login_of``) as the person's. Every exchange is
recorded (``exchanges``) without the secret.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web


def web_page(path: str) -> bool:
    """Whether ``path`` is one of the forge's web pages a person's browser meets here, not its API."""
    return path.startswith("/login/oauth/") or path == "/favicon.ico"


@dataclass
class FakeOAuth:
    client_id: str
    client_secret: str
    flavour: str  # "github" | "forgejo": how the token endpoint words its answers
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (login, redirect_uri)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> login
    exchanges: list[tuple[str, int]] = field(default_factory=list)  # (outcome, status) of each token request

    def login_of(self, token: str) -> str | None:
        return self.tokens.get(token)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/login/oauth/authorize", self.authorize_page)
        app.router.add_post("/login/oauth/authorize", self.authorize)
        app.router.add_post("/login/oauth/access_token", self.access_token)
        app.router.add_get("/favicon.ico", self.handle)  # the browser's own request: 404

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """For a fake that routes everything itself (the fake Forgejo)."""
        route = (request.method, request.path)
        if route == ("GET", "/login/oauth/authorize"):
            return await self.authorize_page(request)
        if route == ("POST", "/login/oauth/authorize"):
            return await self.authorize(request)
        if route == ("POST", "/login/oauth/access_token"):
            return await self.access_token(request)
        return web.Response(status=404, text="Not Found")

    async def authorize_page(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != self.client_id or not q.get("redirect_uri"):
            return web.Response(status=404, text="unknown OAuth application", content_type="text/html")
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(q.get(k, ""))}">'
                         for k in ("client_id", "redirect_uri", "state"))
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize application</title></head>'
            '<body><main><h1>Authorize application</h1>'
            '<form method="post" action="/login/oauth/authorize">'
            f'{hidden}<label for="login">Login</label> <input id="login" name="login" autocomplete="username" required>'
            '<button type="submit" name="decision" value="authorize">Authorize</button>'
            '<button type="submit" name="decision" value="cancel" formnovalidate>Cancel</button>'
            "</form></main></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def authorize(self, request: web.Request) -> web.Response:
        form = await request.post()
        redirect_uri, state = str(form.get("redirect_uri", "")), str(form.get("state", ""))
        if form.get("client_id") != self.client_id or not redirect_uri:
            return web.Response(status=400, text="unknown OAuth application")
        if form.get("decision") != "authorize" or not form.get("login"):
            answer = {"error": "access_denied", "error_description": "The user has denied your application access.",
                      "state": state}
        else:
            code = secrets.token_hex(10)
            self.codes[code] = (str(form["login"]), redirect_uri)
            answer = {"code": code, "state": state}
        raise web.HTTPFound(f"{redirect_uri}?{urlencode(answer)}")

    async def access_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._refuse("invalid_client", "incorrect_client_credentials",
                                "The client_id and/or client_secret passed are incorrect.")
        if self.flavour == "forgejo" and form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type", "", "Only refresh_token or authorization_code grant type "
                                "is supported")
        found = self.codes.pop(str(form.get("code", "")), None)  # a code serves once
        if found is None:
            return self._refuse("invalid_grant", "bad_verification_code", "The code passed is incorrect or expired.")
        login, redirect_uri = found
        if form.get("redirect_uri") != redirect_uri:
            return self._refuse("invalid_grant", "redirect_uri_mismatch",
                                "The redirect_uri MUST match the registered callback URL for this application.")
        token = ("gho_" if self.flavour == "github" else "") + secrets.token_hex(20)
        self.tokens[token] = login
        self.exchanges.append(("token", 200))
        if self.flavour == "github":  # a GitHub App's user token: no scopes, it expires
            body = {"access_token": token, "token_type": "bearer", "scope": "", "expires_in": 28800,
                    "refresh_token": "ghr_" + secrets.token_hex(20), "refresh_token_expires_in": 15811200}
        else:
            body = {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                    "refresh_token": secrets.token_hex(20)}
        return web.json_response(body)

    def _refuse(self, forgejo_error: str, github_error: str, description: str) -> web.Response:
        if self.flavour == "github":  # GitHub answers its OAuth errors with a 200
            self.exchanges.append((github_error, 200))
            return web.json_response({"error": github_error, "error_description": description,
                                      "error_uri": "https://docs.github.com/apps/troubleshooting"})
        self.exchanges.append((forgejo_error, 400))  # Forgejo answers every token error with a 400
        return web.json_response({"error": forgejo_error, "error_description": description}, status=400)
