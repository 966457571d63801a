"""Signing a person in with a Forgejo/Gitea instance, through an OAuth2 application registered on
it (Site administration or user settings → Applications).

The browser goes to ``{FORGEJO_URL}/login/oauth/authorize``; the code is exchanged at
``/login/oauth/access_token``; with the person's token, ``GET /api/v1/user`` says who they are and
``GET /api/v1/user/repos`` (every page, under the instance's page cap) which repositories they own,
collaborate on, or reach through their organisations' teams, private ones included.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from .forgejo_http import ForgejoHttp
from .oauth import Person, exchange_code


class ForgejoOAuth:
    def __init__(self, where: str, client_id: str, client_secret: str, *, url: str, timeout: float = 10.0):
        self.where = where  # the instance's name: "default", or NAME of FORGEJO_<NAME>_URL
        self.client_id = client_id
        self._secret = client_secret
        self.url = url.rstrip("/")
        self.title = f"Forgejo ({httpx.URL(self.url).host})"
        self._timeout = timeout
        self._http = httpx.AsyncClient(timeout=timeout, headers={"User-Agent": "nexus-bot"})

    def __repr__(self) -> str:
        return f"ForgejoOAuth({self.where!r}, {self.client_id!r}, url={self.url!r})"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        # read-only scopes (Forgejo and Gitea 1.23+; older ones ignore it): the token reads who the
        # person is and which repositories they may read, nothing else
        query = urlencode({"client_id": self.client_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "state": state, "scope": "read:user read:repository"})
        return f"{self.url}/login/oauth/authorize?{query}"

    async def person(self, code: str, redirect_uri: str) -> Person:
        token = await exchange_code(self._http, f"{self.url}/login/oauth/access_token", self.client_id, self._secret,
                                    code, redirect_uri, forge=self.title)
        api = ForgejoHttp(self.url, token, page_limit=None, timeout=self._timeout, attempts=2, backoff=0.2,
                          account=self.where)
        try:
            user = await api._json("GET", "/user")
            repos = await api._pages("/user/repos")
        finally:
            await api.aclose()
        return Person(login=user["login"], repos=frozenset(r["full_name"].lower() for r in repos))

    async def aclose(self) -> None:
        await self._http.aclose()
