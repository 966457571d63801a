"""The board's sessions: who signed in, on which forge, and what that forge let them read.

The person's forge token is never kept. At sign-in the readable repositories are read once and kept
in the store (SQLite or Redis, so every replica knows the session) under a random session id; the
cookie holds only that id, signed (itsdangerous), so a forged or altered cookie is refused before
the store is asked, and the store itself holds only a hash of the id. A session ends when its hours
are over (checked on every read, by the signature's age and by the kept expiry; the store forgets
it then, read or not), or at sign-out.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..forges.oauth import Person
from .store import Store
from .viewer import Viewer

COOKIE = "nexus_session"
KEY = "board-session:"  # + the hash of a session id


class Sessions:
    def __init__(self, store: Store, secret: str, hours: float, *, secure: bool):
        self.store = store
        self.seconds = hours * 3600
        self.secure = secure  # the board is served over https: the cookie is never sent in clear
        self._ids = URLSafeTimedSerializer(secret, salt="nexus-board-session")

    async def start(self, where: str, person: Person) -> str:
        """A new session for ``person``; returns the cookie's value."""
        session_id = secrets.token_urlsafe(32)
        kept = {"where": where, "login": person.login, "repos": sorted(person.repos),
                "expires": time.time() + self.seconds}
        await self.store.remember(_key(session_id), json.dumps(kept), self.seconds)  # then gone by itself
        return self._ids.dumps(session_id)

    async def viewer(self, cookie: str | None) -> Viewer | None:
        """The session's viewer; None for a missing, forged, expired, ended or unknown session."""
        session_id = self._session_id(cookie)
        if session_id is None:
            return None
        raw = await self.store.recall(_key(session_id))
        if not raw:
            return None
        kept = json.loads(raw)
        if kept["expires"] <= time.time():
            await self.store.forget(_key(session_id))
            return None
        return Viewer(where=kept["where"], login=kept["login"], repos=frozenset(kept["repos"]),
                      expires=kept["expires"])

    async def end(self, cookie: str | None) -> None:
        session_id = self._session_id(cookie)
        if session_id is not None:
            await self.store.forget(_key(session_id))

    def set_cookie(self, response: web.StreamResponse, value: str) -> None:
        response.set_cookie(COOKIE, value, max_age=int(self.seconds), path="/", httponly=True, samesite="Lax",
                            secure=self.secure)

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=self.secure)

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._ids.loads(cookie, max_age=self.seconds)
        except BadSignature:  # forged, altered, or older than a session lasts (SignatureExpired)
            return None


def _key(session_id: str) -> str:
    return KEY + hashlib.sha256(session_id.encode()).hexdigest()
