"""The Nexus board's pages: ``GET /board`` (HTML), ``GET /board.json`` (the same data, for scripts and
dashboards) and ``GET /board/{where}/{owner}/{repo}/pull/{number}`` (one pull request's verdict),
with ``?team=&repo=`` filters in the URL. Server-rendered from ``templates/board/*.html.j2`` (jinja2,
autoescaped, in the organisation config's ``language``); no JavaScript, nothing to build.

Who sees what: ``viewer.current_viewer`` (the read-only token, else the person signed in through a
forge), and only what ``Viewer.can_read`` allows. Without sign-in configured and without the token,
the HTML answers with how to configure it and shows no data; with sign-in configured and nobody
signed in, HTML is sent to sign in (303) and the JSON answers 401. Every route only reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..app.board import Board
from ..board import Filters, row_id
from ..locales import DEFAULT_LANGUAGE, LANGUAGES, install
from .board_store import StoreBoard
from .history_store import StoreHistory
from .settings import Settings
from .store import Store
from .viewer import BOARD_TOKEN, SIGNIN, Viewer, current_viewer

log = logging.getLogger("nexus.board")

BOARD = web.AppKey("board", Board)
WARMING = web.AppKey("board_warming", asyncio.Task)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FILTER_CHARS = 200  # a filter value longer than this is no team or repository
PAGE_ROWS = 100  # open pull requests per HTML page (``?page=N``); the JSON has them all
HEADERS = {
    "Cache-Control": "private, no-store",  # private repositories' data: never kept by a proxy
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
}


@lru_cache(maxsize=None)
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html.j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    install(env, language if language in LANGUAGES else DEFAULT_LANGUAGE)
    env.filters["when"] = when
    env.filters["row_id"] = row_id
    return env


def when(iso: str | None) -> str:
    """An ISO 8601 time as people read it on the board, in UTC and saying so ("" when unknown)."""
    if not iso:
        return ""
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def render(template: str, language: str, **values: Any) -> str:
    return environment(language).get_template(f"board/{template}").render(**values)


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=HEADERS)


def filters_of(request: web.Request) -> Filters:
    def one(name: str) -> str | None:
        value = request.query.get(name, "").strip()
        return value if value and len(value) <= FILTER_CHARS else None

    return Filters(team=one("team"), repo=one("repo"))


def _scope(viewer: Viewer) -> tuple:
    """Viewers with the same scope read the same repositories (the figures are computed once for them)."""
    return ("*",) if viewer.everything else (viewer.where, viewer.repos)


async def _viewer(request: web.Request, as_json: bool) -> Viewer | web.Response:
    viewer = await current_viewer(request)
    if viewer is not None:
        return viewer
    signin = request.app.get(SIGNIN)
    if signin is None:
        if as_json:
            return _json({"error": "sign-in is not configured: send the board's read-only token "
                                   "(Authorization: Bearer BOARD_TOKEN)"}, 401)
        return _html(render("setup.html.j2", DEFAULT_LANGUAGE))
    if as_json:
        return _json({"error": "sign in, or send the board's read-only token (Authorization: Bearer …)"}, 401)
    raise web.HTTPSeeOther(signin.signin_url(request.path_qs), headers=HEADERS)


async def board_page(request: web.Request) -> web.Response:
    viewer = await _viewer(request, as_json=False)
    if isinstance(viewer, web.Response):
        return viewer
    filters = filters_of(request)
    data = await request.app[BOARD].data(viewer.can_read, _scope(viewer), filters)
    pages = max(1, -(-len(data["pulls"]) // PAGE_ROWS))
    asked = request.query.get("page", "")
    page = min(max(1, int(asked) if re.fullmatch(r"[0-9]{1,6}", asked) else 1), pages)
    query = {k: v for k, v in (("team", filters.team), ("repo", filters.repo)) if v}
    link = lambda n: str(request.rel_url.with_query({**query, "page": n}))  # noqa: E731
    shown = data["pulls"][(page - 1) * PAGE_ROWS: page * PAGE_ROWS]
    return _html(render("board.html.j2", data["language"], board=data, viewer=viewer, shown=shown, page=page,
                        pages=pages, first=(page - 1) * PAGE_ROWS + 1 if shown else 0,
                        last=(page - 1) * PAGE_ROWS + len(shown),
                        previous=link(page - 1) if page > 1 else None, next=link(page + 1) if page < pages else None))


async def board_json(request: web.Request) -> web.Response:
    viewer = await _viewer(request, as_json=True)
    if isinstance(viewer, web.Response):
        return viewer
    return _json(await request.app[BOARD].data(viewer.can_read, _scope(viewer), filters_of(request)))


async def pull_page(request: web.Request) -> web.Response:
    viewer = await _viewer(request, as_json=False)
    if isinstance(viewer, web.Response):
        return viewer
    info = request.match_info
    repo = f"{info['owner']}/{info['repo']}"
    record = await request.app[BOARD].pull(info["where"], repo, int(info["number"]), viewer.can_read)
    if record is None:
        return _html(render("not_found.html.j2", DEFAULT_LANGUAGE, repo=repo, number=info["number"]), 404)
    return _html(render("pull.html.j2", record.get("language", DEFAULT_LANGUAGE), pr=record, viewer=viewer))


async def _warm(app: web.Application, board: Board) -> None:
    async def warm() -> None:
        try:
            await board.warm()
        except Exception as exc:  # the first look reads them instead
            log.warning("could not read the board's histories at start: %s", str(exc)[:200])

    task = asyncio.get_running_loop().create_task(warm())
    app[WARMING] = task

    async def stop(app: web.Application) -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.on_cleanup.append(stop)


def add_routes(app: web.Application, settings: Settings, store: Store) -> None:
    app[BOARD] = board = Board(StoreBoard(store), StoreHistory(store, keep_decoded=True))
    if settings.board_token:
        app[BOARD_TOKEN] = str(settings.board_token)
    if settings.board_token or settings.signin_configured:  # the board is in use: read the histories now
        app.on_startup.append(lambda app: _warm(app, board))
    app.on_cleanup.append(lambda app: board.close())
    app.router.add_get("/board", board_page)
    app.router.add_get("/board.json", board_json)
    app.router.add_get(r"/board/{where}/{owner}/{repo}/pull/{number:\d+}", pull_page)
