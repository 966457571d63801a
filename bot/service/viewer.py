"""Who looks at the board: a person signed in through a forge (and what that forge says they may
read), or a script holding the board's read-only token. The board's pages ask ``current_viewer``;
the sign-in (``signin.py``) and the token are the only ways in."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True)
class Viewer:
    where: str  # the forge instance signed in on: "github", or a Forgejo instance's name ("default", ...)
    login: str
    repos: frozenset[str]  # "owner/repo", lower case: what the forge lists as readable by this person
    expires: float  # epoch seconds; after it, sign in again
    everything: bool = False  # the read-only token: every repository the bot keeps verdicts for

    def can_read(self, where: str, repo: str) -> bool:
        return self.everything or (where == self.where and repo.lower() in self.repos)


class SignIn(Protocol):
    """The forge sign-in, when configured (``signin.py``)."""

    async def viewer(self, request: web.Request) -> Viewer | None:
        """The signed-in person of this request (a valid, unexpired session), else None."""

    def signin_url(self, next_path: str) -> str:
        """Where to send a person who must sign in, back to ``next_path`` afterwards."""


SIGNIN = web.AppKey("signin", object)  # a SignIn, absent when no forge sign-in is configured
SIGNOUT_PATH = "/signout"  # POST (a form's button) ends the session
BOARD_TOKEN = web.AppKey("board_token", str)  # the optional read-only token for the JSON


def token_viewer(request: web.Request) -> Viewer | None:
    """The script holding the board's read-only token (``Authorization: Bearer …``), if any."""
    token = request.app.get(BOARD_TOKEN)
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return Viewer(where="*", login="token", repos=frozenset(), expires=float("inf"), everything=True)
    return None


async def current_viewer(request: web.Request) -> Viewer | None:
    """The token's viewer, else the signed-in person, else None (sign in, or sign-in not configured)."""
    viewer = token_viewer(request)
    if viewer is not None:
        return viewer
    signin = request.app.get(SIGNIN)
    return await signin.viewer(request) if signin is not None else None
