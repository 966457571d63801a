"""Rendering a verdict for people (check run, status, sticky comment) and for machines.

Every report ends with the verdict as JSON inside an HTML comment, ``<!-- nexus-verdict {...} -->``,
so dashboards, scripts and the bot itself can read it back without parsing prose. What people read is
written in the config's ``language`` (``bot/locales``); the marker and the JSON never are.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import markers
from ..config import Config
from ..locales import DEFAULT_LANGUAGE, install, localize
from ..model import Report, State, Verdict
from ..msg import Msg

GITHUB_SUMMARY_LIMIT = 65535


def cell(value: object) -> str:
    """Text safe inside a markdown table cell: no pipes, no HTML, no line breaks, no @mentions."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    for char in "*_`[]":
        text = text.replace(char, "\\" + char)
    return text.replace("@", "@\u200b")


@lru_cache(maxsize=None)
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # markdown; every user-written value goes through the ``cell`` filter
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["cell"] = cell
    env.filters["extract"] = lambda key, mapping: mapping[key]  # as Ansible's: ids | map("extract", names)
    env.filters["bold"] = lambda text: f"**{text}**"
    install(env, language)  # _(), ngettext() and the ``tr`` filter (a Msg in this language)
    return env


def template(name: str, language: str = DEFAULT_LANGUAGE):
    """A template of ``bot/templates`` (markdown; user values through ``cell``), in ``language``."""
    return _environment(language).get_template(name)


def title(verdict: Verdict, language: str = DEFAULT_LANGUAGE) -> str:
    """One line: "19/23 done · 2 missing: changelog, reviews"."""
    if verdict.config_error:
        return localize(Msg("Configuration error: {error}", error=verdict.config_error.splitlines()[0][:200]), language)
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    done = verdict.count(State.PASSED, State.WAIVED)
    parts = [Msg("{done}/{count} done", done=done, count=len(applicable))]
    failed = [i.id for i in verdict.items if i.required and i.state is State.FAILED]
    waiting = [i.id for i in verdict.items if i.required and i.state is State.PENDING]
    if failed:
        parts.append(Msg("{count} missing: {items}", count=len(failed), items=_few(failed)))
    if waiting:
        parts.append(Msg("{count} waiting: {items}", count=len(waiting), items=_few(waiting)))
    return " · ".join(localize(part, language) for part in parts)


def _few(ids: list[str], most: int = 4) -> str:
    return ", ".join(ids[:most]) + (f" +{len(ids) - most}" if len(ids) > most else "")


def render(verdict: Verdict, config: Config, *, target_url: str | None = None, sticky: bool = False) -> Report:
    language = config.lang
    head = title(verdict, language)
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    body = template("dod_summary.md.j2", language).render(
        verdict=verdict,
        title=head,
        missing=[i for i in applicable if i.required and i.state in (State.FAILED, State.PENDING)],
        applicable=applicable,
        not_applicable=[i for i in verdict.items if i.state is State.NOT_APPLICABLE],
        categories=[(key, Msg(text)) for key, text in config.categories.items()],
        truncation=verdict.truncation,
        titles={i.id: i.title for i in verdict.items},
        team_names={key: config.team_name(key) for key in config.teams},
        team_labels=[config.team_label(key) for key in config.teams],
        command_prefix=config.command_prefix,
        waiver_teams=config.waivers.teams,
    )
    tail = "\n\n" + markers.verdict(verdict)
    room = GITHUB_SUMMARY_LIMIT - len(tail) - 200
    if len(body) > room:
        cut = localize(Msg("(report cut to fit the forge's size limit)"), language)
        body = body[:room].rsplit("\n", 1)[0] + f"\n\n*{cut}*"
    return Report(
        verdict=verdict,
        title=head,
        summary=body.rstrip() + tail,
        check_name=config.reporting.check_name,
        status_context=config.reporting.status_context,
        sticky_comment=sticky,
        target_url=target_url,
    )
