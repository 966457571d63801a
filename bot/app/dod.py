"""The DoD use case: gather what the rules need, judge, report, converge labels and review requests.

Used by webhooks, by ``/nexus dod`` and by the dry run (``nexus-bot check``, which never publishes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .. import markers
from ..markers import Signer
from ..checks import Context, judge
from ..checks.facts import Facts
from ..checks.kinds import reads
from ..checks.linked_ready import closed_items
from ..config import Config, ConfigError
from ..forges.base import Forge, ForgeError
from ..model import PullRequest, Report, Verdict, carried_labels, has_label, missing_labels
from . import converge
from .cached_reads import CachedReads
from .ports import Memory
from .report import render

log = logging.getLogger("nexus.dod")

MAX_LINKED_ITEMS = 10  # closed items whose Ready state is read for one evaluation


@dataclass
class Assessment:
    pr: PullRequest
    config: Config | None
    verdict: Verdict
    report: Report
    facts: Facts | None


async def assess(forge: Forge, where: str, cached: CachedReads, repo: str, number: int, *,
                 details_url: str | None = None, waiver_changes: dict | None = None,
                 signer: Signer = Signer(())) -> Assessment:
    """Everything the rules need, then the verdict. ``waiver_changes`` (item id -> Waiver, or None
    for removed) are waivers decided in the comment being answered, not yet in any posted reply."""
    pr = await forge.pull_request(repo, number)
    try:
        config = await cached.config_for(forge, where, repo, pr.base_ref)
    except ConfigError as exc:
        verdict = Verdict(head_sha=pr.head_sha, config_error=str(exc))
        return Assessment(pr, None, verdict, render(verdict, cached.org), None)
    facts = await gather(forge, where, cached, pr, config, waiver_changes=waiver_changes, signer=signer)
    verdict = judge(facts)
    url = details_url.format(where=where, repo=repo, number=number) if details_url else None
    sticky = forge.needs_sticky_comment or config.reporting.sticky_comment_github
    return Assessment(facts.pr, config, verdict, render(verdict, config, target_url=url, sticky=sticky), facts)


async def gather(forge: Forge, where: str, cached: CachedReads, pr: PullRequest, config: Config, *,
                 waiver_changes: dict | None = None, linked: bool = True, signer: Signer = Signer(())) -> Facts:
    """The facts the rules judge ``pr`` on under ``config``: its CODEOWNERS, the touched teams'
    members, the Ready state of the items it closes (``linked``), the waivers in the bot's replies."""
    if config.review.ownership_source == "codeowners":
        pr = replace(pr, codeowners=await cached.codeowners(forge, where, pr.repo, pr.base_ref))
    facts = Facts.of(pr, config)
    members = {}
    if facts.cross_team:
        for team in facts.teams:
            if not config.teams[team].members:
                members[team] = await cached.members(forge, where, pr.owner, config.team_slug(team))
    ready: dict[str, bool | None] = {}
    for ref in closed_items(facts.body, pr.repo)[:MAX_LINKED_ITEMS] if linked else ():
        ready[ref] = await _is_ready(forge, ref, config)
    forged: list[str] = []
    signed = markers.waivers_from(pr.comments, forge.bot_login, signer, markers.place(pr.repo, pr.number), forged)
    for marker in forged:
        log.warning("%s#%s: a waiver marker that does not verify is ignored (%s)", pr.repo, pr.number, marker)
    waivers = {**signed, **(waiver_changes or {})}
    waivers = {item: w for item, w in waivers.items() if w is not None}
    return facts.given(Context(members=members, waivers=waivers, linked_ready=ready))


async def _is_ready(forge: Forge, ref: str, config: Config) -> bool | None:
    """Whether a closed item carries the ready label; None when it is out of the bot's reach."""
    repo, _, number = ref.rpartition("#")
    try:
        issue = await forge.issue(repo, int(number))
    except ForgeError as exc:
        if exc.out_of_reach:
            return None
        raise
    return has_label(issue.labels, config.labels.ready)


async def publish(forge: Forge, memory: Memory, a: Assessment) -> None:
    """Post the verdict, then converge the labels and review requests the bot owns. The verdict is
    that of the labels as they will be (``a`` is updated): a ``nexus`` label the bot is about to
    remove must not keep a change that is no longer cross-team judged as one."""
    if a.config is None or a.facts is None or a.pr.state != "open":
        await forge.publish_verdict(a.pr, a.report)
        return
    config, pr = a.config, a.pr
    owned = await memory.marks(forge.name, pr.repo, pr.number, "label")
    wanted = {config.team_label(t) for t in a.facts.teams}
    if len(a.facts.teams) >= 2:
        wanted.add(config.labels.cross_team)
    add = missing_labels(wanted, pr.labels)
    remove = carried_labels(missing_labels(owned, wanted), pr.labels)  # only labels the bot itself added
    if carried_labels(reads(config).labels, add | remove):
        _rejudge(a, tuple(label for label in pr.labels if label not in remove) + tuple(sorted(add)))
    await forge.publish_verdict(a.pr, a.report)
    # recorded before the write: a crash in between must not leave a label the bot forgot it added
    await memory.mark(forge.name, pr.repo, pr.number, "label", add)
    await converge.set_labels(forge, config, pr.repo, pr.number, add, remove)
    await memory.mark(forge.name, pr.repo, pr.number, "label", owned - wanted, present=False)
    if config.review.request_reviews and a.facts.cross_team:
        await converge.request_team_reviews(forge, memory, a.facts)


def _rejudge(a: Assessment, labels: tuple[str, ...]) -> None:
    """``a`` judged again, as if the pull request carried ``labels`` (no forge call: same context)."""
    report = a.report
    a.facts = a.facts.relabelled(labels)
    a.pr, a.verdict = a.facts.pr, judge(a.facts)
    a.report = replace(render(a.verdict, a.config, target_url=report.target_url, sticky=report.sticky_comment),
                       always_write=report.always_write)
