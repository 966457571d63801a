"""The DoD use case: gather what the rules need, judge, report, converge labels and review requests.

Used by webhooks, by ``/nexus dod`` and by the dry run (``nexus-bot check``, which never publishes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .checks import Context, judge
from .checks.approvals import teams_missing_approval
from .checks.facts import Facts
from .checks.linked_ready import closed_items
from .config import Config, ConfigError
from .forges.base import Forge, ForgeError, Report
from .lookups import Lookups
from .model import PullRequest, Verdict
from . import labels
from .relevance import labels_read
from .report import render
from .store import Store
from .waivers import waivers_from

log = logging.getLogger("nexus.dod")


@dataclass
class Assessment:
    pr: PullRequest
    config: Config | None
    verdict: Verdict
    report: Report
    facts: Facts | None


async def assess(forge: Forge, where: str, lookups: Lookups, repo: str, number: int, *,
                 details_url: str | None = None, waiver_changes: dict | None = None) -> Assessment:
    """Everything the rules need, then the verdict. ``waiver_changes`` (item id -> Waiver, or None
    for removed) are waivers decided in the comment being answered, not yet in any posted reply."""
    pr = await forge.pull_request(repo, number)
    try:
        config = await lookups.config_for(forge, where, repo, pr.base_ref)
    except ConfigError as exc:
        verdict = Verdict(head_sha=pr.head_sha, config_error=str(exc))
        return Assessment(pr, None, verdict, render(verdict, lookups.org), None)
    if config.review.ownership_source == "codeowners":
        pr = replace(pr, codeowners=await lookups.codeowners(forge, where, repo, pr.base_ref))
    facts = Facts.of(pr, config)
    members = {}
    if facts.cross_team:
        for team in facts.teams:
            if not config.teams[team].members:
                members[team] = await lookups.members(forge, where, pr.owner, config.team_slug(team))
    linked: dict[str, bool | None] = {}
    for ref in closed_items(pr.body, pr.repo)[:10]:
        linked[ref] = await _is_ready(forge, ref, config)
    waivers = {**waivers_from(pr.comments, forge.bot_login), **(waiver_changes or {})}
    waivers = {item: w for item, w in waivers.items() if w is not None}
    facts = facts.given(Context(members=members, waivers=waivers, linked_ready=linked))
    verdict = judge(facts)
    url = details_url.format(repo=repo, number=number) if details_url else None
    sticky = forge.name != "github" or config.reporting.sticky_comment_github
    return Assessment(pr, config, verdict, render(verdict, config, target_url=url, sticky=sticky), facts)


async def _is_ready(forge: Forge, ref: str, config: Config) -> bool | None:
    repo, _, number = ref.rpartition("#")
    try:
        issue = await forge.issue(repo, int(number))
    except ForgeError as exc:
        if exc.status in (404, 410, 403):
            return None
        raise
    return labels.has(issue.labels, config.labels.ready)


async def publish(forge: Forge, store: Store, a: Assessment) -> None:
    """Post the verdict, then converge the labels and review requests the bot owns. The verdict is
    that of the labels as they will be (``a`` is updated): a ``nexus`` label the bot is about to
    remove must not keep a change that is no longer cross-team judged as one."""
    if a.config is None or a.facts is None or a.pr.state != "open":
        await forge.publish_verdict(a.pr, a.report)
        return
    config, pr = a.config, a.pr
    owned = store.marks(forge.name, pr.repo, pr.number, "label")
    wanted = {config.team_label(t) for t in a.facts.teams}
    if len(a.facts.teams) >= 2:
        wanted.add(config.labels.cross_team)
    add = labels.missing(wanted, pr.labels)
    remove = labels.carried(labels.missing(owned, wanted), pr.labels)  # only labels the bot itself added
    if labels.carried(labels_read(config), add | remove):
        _rejudge(a, tuple(label for label in pr.labels if label not in remove) + tuple(sorted(add)))
    await forge.publish_verdict(a.pr, a.report)
    facts = a.facts
    # recorded before the write: a crash in between must not leave a label the bot forgot it added
    store.mark(forge.name, pr.repo, pr.number, "label", add)
    if add or remove:
        colors = {label: label_color(config, label) for label in add}
        await forge.set_labels(pr.repo, pr.number, add, remove, colors)
    store.mark(forge.name, pr.repo, pr.number, "label", owned - wanted, present=False)
    if config.review.request_reviews and facts.cross_team:
        asked = store.marks(forge.name, pr.repo, pr.number, "review-request")
        teams = [t for t in teams_missing_approval(facts) if config.team_slug(t) not in asked]
        if teams:
            slugs = [config.team_slug(t) for t in teams]
            try:
                await forge.request_reviews(pr.repo, pr.number, slugs)
            except ForgeError as exc:
                if exc.status is None or exc.status >= 500 or exc.status in (403, 429):
                    raise  # the forge is failing or limiting: the whole evaluation is retried
                # refused (a team that does not exist, no access): the verdict stands; ask no more
                log.warning("review request for %s on %s#%s refused: %s", slugs, pr.repo, pr.number, exc)
            store.mark(forge.name, pr.repo, pr.number, "review-request", set(slugs))


def _rejudge(a: Assessment, labels: tuple[str, ...]) -> None:
    """``a`` judged again, as if the pull request carried ``labels`` (no forge call: same context)."""
    report = a.report
    a.facts = a.facts.relabelled(labels)
    a.pr, a.verdict = a.facts.pr, judge(a.facts)
    a.report = replace(render(a.verdict, a.config, target_url=report.target_url, sticky=report.sticky_comment),
                       always_write=report.always_write)


def label_color(config: Config, label: str) -> str:
    colors = config.labels.colors
    if label in colors:
        return colors[label]
    family = label.split(":", 1)[0] + ":*" if ":" in label else None
    return colors.get(family, "ededed") if family else "ededed"
