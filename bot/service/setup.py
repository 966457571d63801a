"""Registering the GitHub App in three clicks, as Probot does (GitHub's manifest flow).

While no App is configured, ``GET /setup`` shows a page whose button sends the manifest
(``app.yml``, with this bot's own address as webhook and redirect URL) to GitHub. GitHub creates the
App and sends the browser back to ``/setup/callback`` with a one-time code, which the bot exchanges
for the App's id, key and webhook secret. They are written to ``.env`` and ``github-app.pem`` in the
working directory (mode 0600), never logged nor shown: restart the bot and it serves the App.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import secrets
from pathlib import Path

import httpx
from aiohttp import web
from ruamel.yaml import YAML

from .settings import Settings

log = logging.getLogger("nexus.setup")

MANIFEST = Path(__file__).resolve().parent / "app.yml"
KEY_FILE = "github-app.pem"
STATES = web.AppKey("setup_states", set)


def manifest(public_url: str) -> dict:
    """``app.yml`` with this bot's address: where GitHub sends webhooks and the browser back."""
    data = YAML(typ="safe").load(MANIFEST.read_text(encoding="utf-8"))
    data["url"] = public_url
    data["hook_attributes"] = {"url": f"{public_url}/webhooks/github", "active": True}
    data["redirect_url"] = f"{public_url}/setup/callback"
    return data


def _public_url(request: web.Request, settings: Settings) -> str:
    return settings.public_url or f"{request.scheme}://{request.host}"


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (f"<!doctype html><html lang=en><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<main style='max-width:40rem;margin:2rem auto;padding:0 1rem;font-family:sans-serif'><h1>{html.escape(title)}</h1>"
            f"{body}</main></html>")
    return web.Response(text=text, content_type="text/html", status=status)


def _already(settings: Settings) -> web.Response | None:
    if settings.app_id:
        return _page("nexus-bot is set up", "<p>A GitHub App is configured (APP_ID); there is nothing to do here.</p>",
                     404)
    return None


async def start(request: web.Request, settings: Settings) -> web.Response:
    if (done := _already(settings)) is not None:
        return done
    state = secrets.token_urlsafe(24)
    request.app[STATES].add(state)
    org = request.query.get("org", "")
    target = f"{settings.github_web_url}/organizations/{org}/settings/apps/new" if org else \
        f"{settings.github_web_url}/settings/apps/new"
    data = json.dumps(manifest(_public_url(request, settings)))
    body = (
        "<p>This registers nexus-bot as a GitHub App" + (f" of the organisation <b>{html.escape(org)}</b>" if org else
                                                         " of your account (add <code>?org=NAME</code> for an organisation)")
        + ", with the permissions and events of <code>app.yml</code>.</p>"
        f"<form method=post action='{html.escape(target)}?state={state}'>"
        f"<input type=hidden name=manifest value='{html.escape(data, quote=True)}'>"
        "<button type=submit>Register the GitHub App</button></form>"
    )
    return _page("Set up nexus-bot", body)


async def callback(request: web.Request, settings: Settings) -> web.Response:
    if (done := _already(settings)) is not None:
        return done
    code, state = request.query.get("code", ""), request.query.get("state", "")
    if not code or state not in request.app[STATES]:
        return _page("Setup link expired", "<p>Start again from <a href='/setup'>/setup</a>.</p>", 400)
    request.app[STATES].discard(state)
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            answer = await client.post(f"{settings.github_api_url}/app-manifests/{code}/conversions",
                                       headers={"Accept": "application/vnd.github+json"})
        answer.raise_for_status()
        app = answer.json()
        workdir = Path.cwd()
        _write(workdir / KEY_FILE, app["pem"])
        _append_env(workdir / ".env", {"APP_ID": str(app["id"]), "APP_SLUG": app["slug"],
                                       "WEBHOOK_SECRET": app["webhook_secret"],
                                       "PRIVATE_KEY_PATH": str(workdir / KEY_FILE)})
    except (httpx.HTTPError, KeyError, ValueError, OSError) as exc:
        log.error("the GitHub App could not be registered: %s", type(exc).__name__)
        return _page("Registration failed", f"<p>{html.escape(type(exc).__name__)}: start again from "
                                            "<a href='/setup'>/setup</a>.</p>", 502)
    log.info("GitHub App %s (%s) registered; its credentials are in .env and %s", app["id"], app["slug"], KEY_FILE)
    install = f"{app.get('html_url', '')}/installations/new"
    return _page("GitHub App registered", (
        f"<p>The App <b>{html.escape(app['slug'])}</b> (id {app['id']}) exists. Its id, webhook secret and "
        f"private key are saved in <code>.env</code> and <code>{KEY_FILE}</code> in the bot's working "
        "directory (readable by its user only).</p><ol><li>Restart nexus-bot.</li>"
        f"<li><a href='{html.escape(install)}'>Install the App</a> on your organisation's repositories.</li></ol>"))


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _append_env(path: Path, values: dict[str, str]) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [line for line in old.splitlines() if line.split("=", 1)[0].strip() not in values]
    lines += [f"{k}={v}" for k, v in values.items()]
    _write(path, "\n".join(lines) + "\n")


def add_routes(app: web.Application, settings: Settings) -> None:
    app[STATES] = set()
    app.router.add_get("/setup", functools.partial(start, settings=settings))
    app.router.add_get("/setup/callback", functools.partial(callback, settings=settings))
