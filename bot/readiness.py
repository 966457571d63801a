"""The Ready use case: judge a backlog item, swap ready / needs-refinement, add the taxonomy labels
its text implies, and keep one bot comment up to date (edited in place, never one per edit)."""

from __future__ import annotations

import time


from . import labels, recheck
from .checks.ready import evaluate_ready, ready_labels
from .checks.triage import triage
from .config import ConfigError
from .dod import label_color
from .report import template

MARKER = "<!-- nexus-bot:ready -->"

TEXTS = {
    "en": {
        "heading": "This backlog item is not Ready yet",
        "intro": "It can enter a sprint once these Ready criteria are met:",
        "outro": "Edit the issue: this comment updates itself.",
        "example": "Expected form",
        "colon": ": ",
        "ready": "Ready: all five Ready criteria are met.",
    },
    "fr": {
        "heading": "Cet élément du backlog n'est pas encore Ready",
        "intro": "Il pourra entrer dans un sprint quand ces critères seront remplis :",
        "outro": "Modifiez le ticket : ce commentaire se met à jour tout seul.",
        "example": "Forme attendue",
        "colon": " : ",
        "ready": "Ready : les cinq critères sont remplis.",
    },
}

def render_ready(verdict) -> str:
    """The Ready comment; a language configured in ``ready.languages`` but without texts here gets
    the English frame around its own criteria texts (rather than no comment at all)."""
    return template("ready.md.j2").render(verdict=verdict, t=TEXTS.get(verdict.language, TEXTS["en"]))


async def assess_ready(services, forge, where: str, repo: str, number: int):
    issue = await forge.issue(repo, number)
    try:
        config = await services.lookups.config_for(forge, where, repo, "")
    except ConfigError:
        config = services.lookups.org  # a broken repo file must not stop triage: the org rules apply
    return issue, config, evaluate_ready(issue, config)


async def _rejudge_closing_pulls(services, forge, where, repo, number, installation_id, ready) -> None:
    """The item's Ready state changed (by the bot's own label write, which no webhook reports): the
    open pull requests that mention it get a recheck, so their "linked item is Ready" item follows."""
    state = "ready" if ready else "not-ready"
    for pr_repo, pr_number in await forge.timeline_references(repo, number, open_pulls_only=True):
        recheck.schedule(services.store, where, pr_repo, pr_number, f"{repo}#{number}-{state}-{time.time():.0f}",
                         0, forge=forge.name, installation_id=installation_id)


async def run_ready(services, forge, where: str, repo: str, number: int, installation_id: int | None = None):
    """Judge the issue, converge its labels and the bot's comment; returns the Ready verdict."""
    issue, config, verdict = await assess_ready(services, forge, where, repo, number)
    if issue.is_pull_request or issue.state != "open":
        return verdict
    add, remove = ready_labels(verdict, config)
    add = labels.missing(set(add) | set(triage(issue, config)), issue.labels)
    remove = labels.carried(remove, issue.labels)
    if add or remove:
        await forge.set_labels(repo, number, add, remove, {label: label_color(config, label) for label in add})
    if labels.has(add | remove, config.labels.ready):
        await _rejudge_closing_pulls(services, forge, where, repo, number, installation_id, verdict.ready)
    has_comment = any(MARKER in (c.body or "") and c.author == forge.bot_login for c in issue.comments)
    if not verdict.ready or has_comment:
        await forge.upsert_comment(repo, number, MARKER, render_ready(verdict))
    return verdict
