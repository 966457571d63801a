"""The board's sign-in settings: configured fully or not at all, and a partial configuration is a
clear error at start; the session cookie's own age limit."""

from __future__ import annotations

import json
import time

import pytest

from bot.forges.oauth import Person
from bot.service.sessions import Sessions
from bot.service.settings import Settings, SettingsError
from bot.service.store_sqlite import SqliteStore

SECRET = "0123456789abcdef0123456789abcdef"
GITHUB = {"BOARD_GITHUB_CLIENT_ID": "Iv1.abc", "BOARD_GITHUB_CLIENT_SECRET": "shh"}
FORGEJO = {"FORGEJO_URL": "https://codeberg.org", "FORGEJO_TOKEN": "t", "FORGEJO_WEBHOOK_SECRET": "w"}
BOARD = {"BOARD_URL": "https://nexus.example.org", "BOARD_SESSION_SECRET": SECRET}


@pytest.mark.parametrize("env, error", [
    pytest.param({**BOARD, "BOARD_GITHUB_CLIENT_ID": "Iv1.abc"},
                 "BOARD_GITHUB_CLIENT_SECRET is not set, but BOARD_GITHUB_CLIENT_ID is", id="id without secret"),
    pytest.param({**BOARD, "BOARD_GITHUB_CLIENT_SECRET": "shh"},
                 "BOARD_GITHUB_CLIENT_ID is not set, but BOARD_GITHUB_CLIENT_SECRET is", id="secret without id"),
    pytest.param({**GITHUB, "BOARD_URL": "https://nexus.example.org"},
                 "BOARD_SESSION_SECRET is not set, but BOARD_GITHUB_CLIENT_ID is", id="no session secret"),
    pytest.param(BOARD, "BOARD_SESSION_SECRET is set, but no forge's sign-in is", id="no forge"),
    pytest.param({**GITHUB, **BOARD, "BOARD_SESSION_SECRET": "short"}, "at least 32 characters", id="weak secret"),
    pytest.param({**GITHUB, "BOARD_SESSION_SECRET": SECRET}, "BOARD_URL is not set", id="no board url"),
    pytest.param({**GITHUB, **BOARD, "BOARD_URL": "nexus.example.org"}, "BOARD_URL must be an http(s) address",
                 id="board url without scheme"),
    pytest.param({**GITHUB, **BOARD, "BOARD_SESSION_HOURS": "0"}, "BOARD_SESSION_HOURS must be more than 0",
                 id="no hours"),
    pytest.param({**BOARD, "BOARD_FORGEJO_CLIENT_ID": "c", "BOARD_FORGEJO_CLIENT_SECRET": "s"},
                 "BOARD_FORGEJO_CLIENT_ID is set, but FORGEJO_URL is not", id="forgejo client without instance"),
    pytest.param({**BOARD, **FORGEJO, "BOARD_FORGEJO_WORK_CLIENT_ID": "c", "BOARD_FORGEJO_WORK_CLIENT_SECRET": "s"},
                 "BOARD_FORGEJO_WORK_CLIENT_ID: there is no Forgejo instance 'work'", id="unknown named instance"),
    pytest.param({**BOARD, **FORGEJO, "FORGEJO_INSTANCES": "work", "FORGEJO_WORK_URL": "https://git.work",
                  "FORGEJO_WORK_TOKEN": "t", "FORGEJO_WORK_WEBHOOK_SECRET": "w", "BOARD_FORGEJO_WORK_CLIENT_ID": "c"},
                 "BOARD_FORGEJO_WORK_CLIENT_SECRET is not set", id="named instance without secret"),
    pytest.param({**FORGEJO, "FORGEJO_INSTANCES": "github", "FORGEJO_GITHUB_URL": "https://git.work",
                  "FORGEJO_GITHUB_TOKEN": "t", "FORGEJO_GITHUB_WEBHOOK_SECRET": "w"},
                 "a Forgejo instance may not be named 'github'", id="instance named github"),
])
def test_a_partial_sign_in_configuration_is_refused_at_start(env, error):
    with pytest.raises(SettingsError, match=error.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_sign_in_with_github_and_named_forgejo_instances():
    settings = Settings.from_env({
        **BOARD, **GITHUB, **FORGEJO, "FORGEJO_INSTANCES": "work", "FORGEJO_WORK_URL": "https://git.work",
        "FORGEJO_WORK_TOKEN": "t", "FORGEJO_WORK_WEBHOOK_SECRET": "w",
        "BOARD_FORGEJO_WORK_CLIENT_ID": "work-id", "BOARD_FORGEJO_WORK_CLIENT_SECRET": "work-secret",
        "BOARD_SESSION_HOURS": "2.5"})
    assert settings.signin_configured and settings.board_session_hours == 2.5
    assert settings.board_github_client.client_id == "Iv1.abc"
    assert {i.name: i.board_client and i.board_client.client_id for i in settings.forgejo} == {
        "default": None, "work": "work-id"}
    assert "work-secret" not in repr(settings) and "shh" not in repr(settings) and SECRET not in repr(settings)


def test_without_sign_in_settings_nothing_is_configured():
    settings = Settings.from_env({**FORGEJO})
    assert not settings.signin_configured and settings.board_session_hours == 8


async def test_a_session_cookie_older_than_the_session_is_nobody_even_if_kept(tmp_path, monkeypatch):
    store = SqliteStore(str(tmp_path / "bot.sqlite3"))
    sessions = Sessions(store, SECRET, hours=1, secure=True)
    cookie = await sessions.start("github", Person("alice", frozenset({"acme/api"})))
    assert (await sessions.viewer(cookie)).login == "alice"
    [(key, kept)] = store.db.execute("SELECT key, value FROM expiring").fetchall()
    await store.remember(key, json.dumps({**json.loads(kept), "expires": time.time() + 86400}), 86400)  # kept longer
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)  # itsdangerous reads the cookie's age from time.time
    assert await sessions.viewer(cookie) is None
    assert await Sessions(store, "another-secret-of-32-characters-xx", 1, secure=True).viewer(cookie) is None
    await store.close()
