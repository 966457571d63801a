"""Config changes are checked in their own pull request.

A PR that changes a repository's config file (``.github/nexus.yml``, or Forgejo's own paths), or the
organisation's file in its config repository, gets a second check, **Nexus config** (on Forgejo the
``nexus/config`` status and a sticky comment): the PR's head version is validated (errors as
annotations at their file and line; a change the organisation's rules refuse as a warning) and its
effect is previewed on the most recently updated open pull requests it governs: the verdict today,
the verdict under the new config, and which items change.

The preview is bounded: at most ``MAX_PREVIEW`` pull requests, one listing call, one snapshot each
(GitHub: 6 conditional reads; Forgejo: 4 and more for large PRs), config files and team members from
the shared caches, and no read of linked issues. The head version is never the config in force: that
is always the base branch's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .. import markers
from ..checks import judge
from ..config import Config, ConfigError, load_config
from ..forges.base import Forge
from ..locales import localize
from ..model import Annotation, CheckReport, PullRequest, State, Verdict
from ..msg import Msg, NMsg
from .cached_reads import CachedReads
from .dod import gather
from .org_config import OrgConfig
from .ports import Services
from .report import template

log = logging.getLogger("nexus.config")

MAX_PREVIEW = 20


@dataclass(frozen=True)
class ConfigChange:
    organisation: bool  # the organisation's file, in its config repository (else the repository's own)
    path: str  # the file the pull request changes, in its repository
    text: str | None  # at the PR's head; None: the PR deletes it


@dataclass(frozen=True)
class Preview:
    ref: str  # "org/app#12"
    title: str
    url: str
    today: Verdict | None  # None: today's config cannot be used
    proposed: Verdict
    changes: list[str]  # "changelog: failed → passed"


async def check_config_change(services: Services, forge: Forge, where: str, pr: PullRequest) -> str | None:
    """The config check of ``pr`` when it changes a config file; None when it changes none."""
    change = await _change(services.reads, forge, where, pr)
    if change is None:
        return None
    org = await services.reads.org_for(forge, where, pr.repo)
    in_force = org.config or services.reads.org  # its reporting settings name the check
    language = await _language(services, forge, where, pr, in_force)
    try:
        proposed = _proposed(services.reads, org, pr, change)
    except ConfigError as error:
        report = _report(change, in_force, language, error=error)
    else:
        previews = await _previews(services, forge, where, pr, change, proposed, org)
        report = _report(change, in_force, language, refused=[n for n in proposed.notices if n.file == change.path],
                         previews=previews)
    if forge.needs_sticky_comment or in_force.reporting.sticky_comment_github:
        report = replace(report, sticky_marker=markers.STICKY_CONFIG)
    await forge.publish_check(pr.repo, pr.head_sha, report, number=pr.number, existing=pr.checks)
    return f"config {report.conclusion}"


async def _language(services: Services, forge: Forge, where: str, pr: PullRequest, in_force: Config) -> str:
    """The language of the repository's reports: its config in force on the base branch (the
    organisation's when the repository's file cannot be used), never the one the change proposes."""
    try:
        return (await services.reads.config_for(forge, where, pr.repo, pr.base_ref)).lang
    except ConfigError:
        return in_force.lang


async def _change(cached: CachedReads, forge: Forge, where: str, pr: PullRequest) -> ConfigChange | None:
    changed = {f.path for f in pr.files} | {f.previous_path for f in pr.files if f.previous_path}
    place = cached.orgs.location(where)
    if cached.orgs.is_config_repo(where, pr.repo) and place.path in changed:
        return ConfigChange(True, place.path, await forge.file_at(pr.repo, place.path, pr.head_sha))
    touched = [path for path in forge.config_paths if path in changed]
    if not touched:
        return None
    for path in forge.config_paths:  # the file in force at the head: the first in the forge's order
        text = await forge.file_at(pr.repo, path, pr.head_sha)
        if text is not None:
            return ConfigChange(False, path, text)
    return ConfigChange(False, touched[0], None)


def _proposed(cached: CachedReads, org: OrgConfig, pr: PullRequest, change: ConfigChange) -> Config:
    """The config the change would put in force (for a repository file: over the organisation's)."""
    if change.organisation:
        if change.text is None:
            return cached.orgs.default
        return load_config((f"{pr.repo}/{change.path}", change.text))
    base = org.in_force()
    return load_config(org.source, (change.path, change.text)) if change.text is not None else base


async def _previews(services: Services, forge: Forge, where: str, pr: PullRequest, change: ConfigChange,
                    proposed: Config, org: OrgConfig) -> list[Preview]:
    cached = services.reads
    if change.organisation:
        governed = [ref for ref in await forge.open_pulls_of_owner(pr.owner, MAX_PREVIEW + 1)
                    if ref != (pr.repo, pr.number)]
    else:
        governed = [(pr.repo, n) for n, base in await forge.open_pulls(pr.repo, 50)
                    if n != pr.number and base == pr.base_ref]
    previews = []
    for repo, number in governed[:MAX_PREVIEW]:
        other = await forge.pull_request(repo, number)
        try:
            today_config: Config | None = await cached.config_for(forge, where, repo, other.base_ref)
        except ConfigError:
            today_config = None
        if change.organisation:
            new_org = OrgConfig(proposed, (change.path, change.text or ""))
            found = await cached.repo_file(forge, where, repo, other.base_ref)
            try:
                new_config = load_config(new_org.source, found) if found and change.text else proposed
            except ConfigError:
                new_config = proposed
        else:
            new_config = proposed
        today = judge(await gather(forge, where, cached, other, today_config, linked=False)) if today_config else None
        new = judge(await gather(forge, where, cached, other, new_config, linked=False))
        previews.append(Preview(f"{repo}#{number}", other.title, other.url, today, new, _changes(today, new)))
    return previews


STATE_TEXT = {  # an item's state in the preview, in the reader's language
    State.PASSED: Msg("passed"),
    State.FAILED: Msg("failed"),
    State.PENDING: Msg("pending"),
    State.WAIVED: Msg("waived"),
    State.NOT_APPLICABLE: Msg("not applicable"),
}


def _changes(today: Verdict | None, new: Verdict) -> list[str]:
    def shown(item) -> Msg:
        if item is None or item.state is State.NOT_APPLICABLE:
            return STATE_TEXT[State.NOT_APPLICABLE]
        state = STATE_TEXT[item.state]
        return state if item.required else Msg("{state} (advisory)", state=state)

    before = {i.id: i for i in today.items} if today else {}
    after = {i.id: i for i in new.items}
    found = []
    for item_id in dict.fromkeys([*before, *after]):
        was, now = shown(before.get(item_id)), shown(after.get(item_id))
        if was != now:
            found.append(Msg("{item}: {was} → {now}", item=item_id, was=was, now=now))
    return found


def _report(change: ConfigChange, config: Config, language: str, *, error: ConfigError | None = None,
            refused: list = (), previews: list[Preview] = ()) -> CheckReport:
    annotations: list[Annotation] = []
    if error is not None:
        annotations.append(Annotation(change.path, error.line or 1, "failure",
                                      f"{error.field + ': ' if error.field else ''}{error.message}",
                                      localize(Msg("Invalid config"), language)))
        conclusion = "failure"
        title = localize(Msg("The config cannot be used: {error}", error=str(error)), language)[:200]
    else:
        annotations += [Annotation(n.file, n.line or 1, "warning", f"{n.field}: {localize(n.message, language)}",
                                   localize(Msg("Refused"), language)) for n in refused]
        moved = sum(1 for p in previews if p.changes)
        would = Msg("{moved} of {count} open pull requests would change", moved=moved, count=len(previews))
        title = localize(Msg("Valid · {preview}", preview=would), language)
        conclusion = "success"
        if refused:
            conclusion = "neutral"
            refusals = NMsg("Valid, {n} change(s) refused · {preview}", "Valid, {n} change(s) refused · {preview}",
                            len(refused), preview=would)
            title = localize(refusals, language)
    summary = template("config_check.md.j2", language).render(
        title=title, change=change, error=error, annotations=annotations, previews=previews,
        done=lambda verdict: localize(_done(verdict), language), max_preview=MAX_PREVIEW,
    )
    return CheckReport(name=config.reporting.config_check_name, context=config.reporting.config_status_context,
                       conclusion=conclusion, title=title, summary=summary, annotations=tuple(annotations))


def _done(verdict: Verdict | None) -> str:
    if verdict is None:
        return Msg("config error")
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    done = verdict.count(State.PASSED, State.WAIVED)
    icon = {State.PASSED: "✅", State.FAILED: "❌", State.PENDING: "⏳"}[verdict.state]
    return f"{icon} {done}/{len(applicable)}"
