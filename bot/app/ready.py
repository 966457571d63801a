"""The Ready use case: judge a backlog item, swap ready / needs-refinement, add the taxonomy labels
its text implies, and keep one bot comment up to date (edited in place, never one per edit)."""

from __future__ import annotations

import time

from .. import markers
from ..checks.issue_body import read_body
from ..checks.ready import ReadyVerdict, evaluate_ready, ready_labels
from ..checks.triage import triage
from ..config import Config, ConfigError
from ..forges.base import Forge
from ..model import Issue, carried_labels, has_label, missing_labels
from . import converge
from .ports import Services
from .history import record_item
from .mirror import mirror_written_links
from .report import template


def render_ready(verdict: ReadyVerdict, config: Config) -> str:
    """The Ready comment, framed in the issue's language (texts from ``ready.languages``)."""
    texts = config.ready.languages[verdict.language].comment
    return template("ready.md.j2").render(verdict=verdict, t=texts, marker=markers.READY)


async def assess_ready(services: Services, forge: Forge, where: str, repo: str,
                       number: int) -> tuple[Issue, Config, ReadyVerdict, set[str]]:
    """The issue, the config it is judged by, its Ready verdict and the taxonomy labels it implies
    (its body read once for both)."""
    issue = await forge.issue(repo, number)
    try:
        config = await services.reads.config_for(forge, where, repo, "")
    except ConfigError:
        config = await services.reads.org_rules(forge, where, repo)  # a broken repo file must not stop triage
    body = read_body(issue.body)
    verdict = evaluate_ready(issue, config, body)
    await record_item(services, where, issue, config, verdict=verdict, body=body)  # the metrics' history
    return issue, config, verdict, triage(issue, config, body)


async def _rejudge_closing_pulls(services: Services, forge: Forge, where: str, repo: str, number: int,
                                 installation_id: int | None, ready: bool) -> None:
    """The item's Ready state changed (by the bot's own label write, which no webhook reports): the
    open pull requests that mention it get a recheck, so their "linked item is Ready" item follows."""
    state = "ready" if ready else "not-ready"
    for pr_repo, pr_number in await forge.timeline_references(repo, number, open_pulls_only=True):
        await services.rechecks.schedule(forge.name, where, pr_repo, pr_number, f"{repo}#{number}-{state}-{time.time():.0f}",
                                   0, installation_id=installation_id)


async def run_ready(services: Services, forge: Forge, where: str, repo: str, number: int,
                    installation_id: int | None = None) -> tuple[ReadyVerdict, Config]:
    """Judge the issue, converge its labels and the bot's comment; returns the Ready verdict."""
    issue, config, verdict, implied = await assess_ready(services, forge, where, repo, number)
    if issue.is_pull_request or issue.state != "open":
        return verdict, config
    add, remove = ready_labels(verdict, config)
    add = missing_labels(set(add) | implied, issue.labels)
    remove = carried_labels(remove, issue.labels)
    await converge.set_labels(forge, config, repo, number, add, remove)
    if has_label(add | remove, config.labels.ready):
        await _rejudge_closing_pulls(services, forge, where, repo, number, installation_id, verdict.ready)
    has_comment = any(markers.is_bots(c, markers.READY, forge.bot_login) for c in issue.comments)
    if not verdict.ready or has_comment:
        await forge.upsert_comment(repo, number, markers.READY, render_ready(verdict, config))
    if config.dependencies.mirror_written_links:  # last, and best effort: the verdict is written already
        await mirror_written_links(forge, issue, verdict)
    return verdict, config
