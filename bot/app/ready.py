"""The Ready use case: judge a backlog item, swap ready / needs-refinement, add the taxonomy labels
its text implies, and keep one bot comment up to date (edited in place, never one per edit)."""

from __future__ import annotations

import logging
import time

from .. import markers
from ..checks.issue_body import read_body
from ..checks.ready import ReadyVerdict, evaluate_ready, ready_labels
from ..checks.triage import triage
from ..config import Config, ConfigError
from ..forges.base import Forge, ForgeError
from ..model import Issue, carried_labels, has_label, missing_labels
from . import converge
from .ports import Services
from .report import template

log = logging.getLogger("nexus.ready")


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
    return issue, config, evaluate_ready(issue, config, body), triage(issue, config, body)


async def _rejudge_closing_pulls(services: Services, forge: Forge, where: str, repo: str, number: int,
                                 installation_id: int | None, ready: bool) -> None:
    """The item's Ready state changed (by the bot's own label write, which no webhook reports): the
    open pull requests that mention it get a recheck, so their "linked item is Ready" item follows."""
    state = "ready" if ready else "not-ready"
    for pr_repo, pr_number in await forge.timeline_references(repo, number, open_pulls_only=True):
        await services.rechecks.schedule(forge.name, where, pr_repo, pr_number, f"{repo}#{number}-{state}-{time.time():.0f}",
                                   0, installation_id=installation_id)


async def mirror_written_links(forge: Forge, issue: Issue, verdict: ReadyVerdict) -> None:
    """Each dependency the text declares and the forge does not record yet becomes the forge's own
    link ("Depends on #44": this item is blocked by #44; "Blocks #45": #45 is blocked by this one).
    Only added, never removed: a native link may be a person's. A refusal (another organisation,
    dependencies disabled) leaves the written link as it is."""
    recorded = {(n.kind, n.repo, n.number) for n in issue.native_links}
    for link in verdict.dependencies:
        other = link.repo or issue.repo
        if (link.kind, other, link.number) in recorded or (other, link.number) == (issue.repo, issue.number):
            continue
        blocked, blocking = ((issue.repo, issue.number), (other, link.number))
        if link.kind == "blocks":
            blocked, blocking = blocking, blocked
        try:
            await forge.add_dependency(*blocked, *blocking)
        except ForgeError as exc:
            if exc.transient:
                raise
            log.info("%s#%s: the forge refused the link %s (HTTP %s)", issue.repo, issue.number, link.ref, exc.status)


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
    if config.dependencies.mirror_written_links:
        await mirror_written_links(forge, issue, verdict)
    has_comment = any(markers.is_bots(c, markers.READY, forge.bot_login) for c in issue.comments)
    if not verdict.ready or has_comment:
        await forge.upsert_comment(repo, number, markers.READY, render_ready(verdict, config))
    return verdict, config
