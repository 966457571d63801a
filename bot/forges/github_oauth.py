"""Signing a person in with GitHub (or GitHub Enterprise Server): the GitHub App's own OAuth
client, so the person authorizes the App, not a second application.

The browser goes to ``{GITHUB_WEB_URL}/login/oauth/authorize``; the code comes back and is
exchanged at ``{GITHUB_WEB_URL}/login/oauth/access_token`` (githubkit derives that address from the
API URL, which is wrong when GitHub Enterprise Server's web address differs, so the exchange is one
plain POST). With the person's token, ``GET /user`` says who they are and ``GET /user/repos`` (every
page) what they may read: with a GitHub App's user token, GitHub lists the repositories that both
the person can read and the App is installed on, private ones included.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from githubkit import TokenAuthStrategy

from .github_http import Calls, ConditionalReads, RetryPolicy, client_settings
from .oauth import Person, exchange_code

PER_PAGE = 100  # GitHub's largest page
RETRY = RetryPolicy(attempts=2)  # a person waits on the page: one retry, then an answer


class GitHubOAuth:
    where = "github"
    title = "GitHub"

    def __init__(self, client_id: str, client_secret: str, *, web_url: str, api_url: str, timeout: float = 10.0,
                 retry: RetryPolicy = RETRY):
        self.client_id = client_id
        self._secret = client_secret
        self.web_url = web_url.rstrip("/")
        self._settings = client_settings(api_url, timeout, retry)
        self._http = httpx.AsyncClient(timeout=timeout, headers={"User-Agent": "nexus-bot"})
        if self.web_url != "https://github.com":
            self.title = f"GitHub ({httpx.URL(self.web_url).host})"

    def __repr__(self) -> str:
        return f"GitHubOAuth({self.client_id!r}, web_url={self.web_url!r})"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        query = urlencode({"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state,
                           "allow_signup": "false"})
        return f"{self.web_url}/login/oauth/authorize?{query}"

    async def person(self, code: str, redirect_uri: str) -> Person:
        token = await exchange_code(self._http, f"{self.web_url}/login/oauth/access_token", self.client_id,
                                    self._secret, code, redirect_uri, forge="GitHub")
        reads = ConditionalReads(self._settings.client(TokenAuthStrategy(token), Calls(), "signin"), Calls())
        user = (await reads._request("GET", "/user")).json()
        repos = await reads._pages("/user/repos", {"per_page": PER_PAGE})
        return Person(login=user["login"], repos=frozenset(r["full_name"].lower() for r in repos))

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._settings.pool.shutdown()
