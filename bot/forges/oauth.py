"""Signing a person in through a forge (OAuth 2.0 authorization code flow), whatever the forge.

The service asks an ``OAuthClient`` two things: where to send the browser (``authorize_url``), and
who came back with a code (``person``). ``person`` exchanges the code for the person's token, reads
who they are and which repositories the forge lets them read, and returns only that: the token
never leaves the adapter (it is not returned, kept or logged). The per-forge clients are
``github_oauth.py`` and ``forgejo_oauth.py``; the exchange itself is the same on both forges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from .base import ForgeError


@dataclass(frozen=True)
class Person:
    """A person signed in on a forge, and what that forge says they may read."""

    login: str
    repos: frozenset[str]  # "owner/repo", lower case


class SignInRefused(ForgeError):
    """The forge refused the code (expired, used already, for another client or redirect URI)."""


class OAuthClient(Protocol):
    where: str  # the forge instance: "github", or a Forgejo instance's name
    title: str  # what a person reads on the sign-in page: "GitHub", "Forgejo (codeberg.org)"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """The forge's page where the person signs in and authorizes the board."""

    async def person(self, code: str, redirect_uri: str) -> Person:
        """Who came back with ``code``. Raises SignInRefused, or ForgeError when the forge fails."""

    async def aclose(self) -> None: ...


async def exchange_code(http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str, code: str,
                        redirect_uri: str, *, forge: str) -> str:
    """The access token for ``code`` (RFC 6749 §4.1.3, the client's secret in the form body: GitHub
    and Forgejo/Gitea both take it so). Error answers are reported by their ``error`` fields only,
    never by their body."""
    form = {"grant_type": "authorization_code", "client_id": client_id, "client_secret": client_secret,
            "code": code, "redirect_uri": redirect_uri}
    try:
        r = await http.post(token_url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise ForgeError(f"{forge}: the token endpoint cannot be reached ({type(exc).__name__})") from None
    try:
        data = r.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    token = data.get("access_token")
    if r.is_success and isinstance(token, str) and token:
        return token
    # GitHub answers 200 with an "error" field; Forgejo 400 (invalid_grant) or 401 (invalid_client)
    error = str(data.get("error") or f"HTTP {r.status_code}")[:80]
    detail = str(data.get("error_description") or "")[:200]
    message = f"{forge} refused the sign-in: {error}" + (f" ({detail})" if detail else "")
    if r.status_code >= 500:
        raise ForgeError(message, status=r.status_code)
    raise SignInRefused(message, status=r.status_code if not r.is_success else 400)
