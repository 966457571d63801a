"""Rendering a verdict for people (check run, status, sticky comment) and for machines.

Every report ends with the verdict as JSON inside an HTML comment, ``<!-- nexus-verdict {...} -->``,
so dashboards, scripts and the bot itself can read it back without parsing prose.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .. import markers
from ..config import Config
from ..model import Report, State, Verdict

GITHUB_SUMMARY_LIMIT = 65535

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # markdown; every user-written value goes through the ``cell`` filter
)


def cell(value: object) -> str:
    """Text safe inside a markdown table cell: no pipes, no HTML, no line breaks, no @mentions."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    for char in "*_`[]":
        text = text.replace(char, "\\" + char)
    return text.replace("@", "@\u200b")


_env.filters["cell"] = cell
_env.filters["extract"] = lambda key, mapping: mapping[key]  # as Ansible's: ids | map("extract", names)


def template(name: str):
    """A template of ``bot/templates`` (markdown; user values through ``cell``)."""
    return _env.get_template(name)


def title(verdict: Verdict) -> str:
    """One line: "19/23 done · 2 missing: changelog, reviews"."""
    if verdict.config_error:
        return "Configuration error: " + verdict.config_error.splitlines()[0][:200]
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    done = verdict.count(State.PASSED, State.WAIVED)
    line = f"{done}/{len(applicable)} done"
    failed = [i.id for i in verdict.items if i.required and i.state is State.FAILED]
    waiting = [i.id for i in verdict.items if i.required and i.state is State.PENDING]
    if failed:
        line += f" · {len(failed)} missing: {_few(failed)}"
    if waiting:
        line += f" · {len(waiting)} waiting: {_few(waiting)}"
    return line


def _few(ids: list[str], most: int = 4) -> str:
    return ", ".join(ids[:most]) + (f" +{len(ids) - most}" if len(ids) > most else "")


def render(verdict: Verdict, config: Config, *, target_url: str | None = None, sticky: bool = False) -> Report:
    head = title(verdict)
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    body = template("dod_summary.md.j2").render(
        verdict=verdict,
        title=head,
        missing=[i for i in applicable if i.required and i.state in (State.FAILED, State.PENDING)],
        applicable=applicable,
        not_applicable=[i for i in verdict.items if i.state is State.NOT_APPLICABLE],
        categories=list(config.categories.items()),
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
        body = body[:room].rsplit("\n", 1)[0] + "\n\n*(report cut to fit the forge's size limit)*"
    return Report(
        verdict=verdict,
        title=head,
        summary=body.rstrip() + tail,
        check_name=config.reporting.check_name,
        status_context=config.reporting.status_context,
        sticky_comment=sticky,
        target_url=target_url,
    )
