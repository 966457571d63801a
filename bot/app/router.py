"""What each event leads to: the one place where events meet the three use cases (the DoD, Ready and
commands). Routing is declarative: the table says which events trigger what.

A batch is every event of one pull request or issue that arrived within the coalescing window: the
commands in its comments are answered one by one, then the DoD and the Ready verdicts are computed
once, from the forge's latest state.

Events that cannot change a verdict are acknowledged and cost no API call, decided from the event
and the cached config alone (never a forge call): a label no rule reads, a review that only comments,
an edit of the title, a CI job no item looks at. What the rules read comes from the evidence kinds
themselves (``checks.kinds.reads``). When the repository's config is not in the cache, the event is
taken as relevant: skipping must never make a verdict stale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase

from ..checks.kinds import reads
from ..checks.nexus_metrics import integration_names
from ..config import Config, ConfigError
from ..forges.base import Forge
from ..model import Event, State
from .blockage import converge_blocked
from .commands import handle_comment
from .config_changes import on_push
from .config_check import check_config_change
from .merge_queue import check_merge_group
from .dod import assess, publish
from .history import record_evidence, record_item
from .sprint_report import report_ended_sprint
from .ports import Services
from .ready import run_ready
from .verdicts import forget_pull, keep_verdict

DOD, READY, COMMANDS, CONFIG, QUEUE, HISTORY = "dod", "ready", "commands", "config", "merge queue", "history"
NATIVE_DEPENDENCY_ACTIONS = ("blocked_by_added", "blocked_by_removed", "blocking_added", "blocking_removed")

ROUTES: dict[tuple[str, str], str] = {
    **{("pull_request", a): DOD for a in (
        "opened", "synchronize", "reopened", "edited", "labeled", "unlabeled", "ready_for_review",
        "review_requested", "recheck")},
    **{("pull_request_review", a): DOD for a in ("submitted", "edited", "dismissed")},
    **{("check", a): DOD for a in ("completed", "rerequested", "pending")},
    **{("issues", a): READY for a in ("opened", "edited", "labeled", "unlabeled", "reopened", "closed")},
    ("pull_request", "closed"): HISTORY,
    **{("issue_dependencies", a): READY for a in NATIVE_DEPENDENCY_ACTIONS},
    **{("sub_issues", a): READY for a in ("sub_issue_added", "sub_issue_removed", "parent_issue_added",
                                          "parent_issue_removed")},
    ("issue_comment", "created"): COMMANDS,
    ("push", "pushed"): CONFIG,
    ("merge_group", "checks_requested"): QUEUE,
}


def route(event: Event) -> str | None:
    """What the event triggers, or None when it cannot change anything the bot owns."""
    if event.from_this_bot:
        return None
    what = ROUTES.get((event.name, event.action))
    if what == READY and event.is_pull_request:
        return None  # pull requests are not judged for Ready
    return what


def is_evidence(event: Event) -> bool:
    """A success that may be integration evidence for the Nexus metrics: a deployment, or a check or
    status on a branch (names and environment are the config's: ``record_evidence_of`` decides)."""
    if not event.extra.get("succeeded"):
        return False
    return event.name == "deployment_status" or (event.name == "check" and bool(event.extra.get("branch")))


async def record_evidence_of(services: Services, forge: Forge, where: str, event: Event) -> str | None:
    """Keep the event as integration evidence when the organisation's config says it is; the outcome."""
    if not is_evidence(event) or event.repo is None or not event.head_sha:
        return None
    config = await services.reads.org_rules(forge, where, event.repo)
    integration = config.nexus.integration
    if event.name == "deployment_status":
        environment = event.extra.get("environment")
        if environment != integration.environment:
            return None
        name, at = "deployment", event.extra.get("at")
    else:
        name, environment, at = event.extra.get("check_name") or "", None, None
        if not any(fnmatchcase(name.lower(), pattern.lower()) for pattern in integration_names(config)):
            return None
    await record_evidence(services, where, event.repo, event.head_sha, name, branch=event.extra.get("branch"),
                          environment=environment, at=at)
    return f"history: integration evidence ({name})"


async def _sprint_report(services: Services, forge: Forge, where: str, repo: str) -> str | None:
    """The report of the sprint that ended, once, when the organisation asks for it."""
    config = await services.reads.org_rules(forge, where, repo)
    if not config.nexus.report_issue:
        return None
    return await report_ended_sprint(services, forge, where, repo.split("/", 1)[0], config)


def ignore_reason(event: Event) -> str | None:
    if event.from_this_bot:
        return "ignored: caused by the bot itself"
    if event.name in ("ping", "installation", "installation_repositories"):
        return f"ok: {event.name}"
    if route(event) is None:
        return f"ignored: {event.name}.{event.action} does not change a verdict"
    return None


def may_change_verdict(event: Event, config: Config | None) -> bool:
    if event.name == "pull_request_review" and event.review_state == "commented":
        return False  # a comment review is neither an approval nor a request for changes
    if event.name == "pull_request" and event.action == "edited" and event.extra.get("changes") == ["title"]:
        return False  # no rule reads the title
    if config is None:
        return True
    if event.name == "pull_request_review":
        return reads(config).reviews
    if event.name == "pull_request" and event.action in ("labeled", "unlabeled"):
        label = event.extra.get("label")
        return label is None or label.casefold() in {name.casefold() for name in reads(config).labels}
    if event.name == "check" and event.action == "completed":
        name = (event.extra.get("check_name") or "").lower()
        return not name or any(fnmatchcase(name, p.lower()) for p in reads(config).checks)
    return True


def coverable(events: list[Event]) -> bool:
    """Whether the batch only asks for its item's state to be judged again (no command to answer, no
    config push, no history to keep, no CI run asked again): an evaluation of the same item that began
    reading the forge after these events arrived has already judged what they changed."""
    for event in events:
        what = route(event)
        if what not in (DOD, READY) or event.name in ("issue_dependencies", "sub_issues"):
            return False
        if (event.name, event.action) in (("check", "rerequested"), ("pull_request", "recheck")):
            return False  # asked to judge again now (a recheck is due later than it was queued)
    return True


@dataclass(frozen=True)
class Processed:
    outcome: str  # short, for the audit log
    evaluated: bool  # the item's verdict was judged from the forge's state read during this batch
    head_sha: str = ""  # the head commit it judged (a pull request's)


def _any_relevant(services: Services, forge: Forge, where: str, events: list[Event]) -> bool:
    """Whether one of the events routed to the DoD can change its verdict (cached config only)."""
    for event in events:
        base = event.extra.get("base_ref")
        config = services.reads.cached_config(forge, where, event.repo, base) if base else None
        if may_change_verdict(event, config):
            return True
    return False


async def process_batch(services: Services, forge: Forge, where: str, events: list[Event]) -> Processed:
    """Handle one coalesced batch: what was done, and whether the item was judged from fresh state."""
    first = events[0]
    done, evaluated, head_sha = [], False, ""
    pushes = [e for e in events if route(e) == CONFIG]
    if pushes:
        done.append(await on_push(services, forge, where, pushes))
    dod_events = [e for e in events if route(e) == DOD]
    want_dod = bool(dod_events) and _any_relevant(services, forge, where, dod_events)
    if dod_events and not want_dod:
        done.append("dod skipped: no event can change the verdict")
    want_ready = any(route(e) == READY for e in events)
    commands = [e for e in events if route(e) == COMMANDS]
    for event in commands:
        if await handle_comment(services, forge, where, event):
            want_dod, want_ready = want_dod or event.is_pull_request, want_ready or not event.is_pull_request
    if commands:
        done.append("commands")
    if want_dod and first.number is not None:
        started = datetime.now(timezone.utc)
        a = await assess(forge, where, services.reads, first.repo, first.number, details_url=services.details_url,
                         signer=services.signer)
        evaluated, head_sha = True, a.pr.head_sha or ""
        if a.pr.state == "open":
            if any(e.name == "check" and e.action == "rerequested" for e in dod_events):
                a.report = replace(a.report, always_write=True)
            await publish(forge, services.memory, a)
            await keep_verdict(services, forge, where, a, started)
            services.observe.verdict(forge.name, a.verdict.state.value, a.verdict.count(State.WAIVED))
            done.append(f"dod {a.verdict.state.value}")
            checked = await check_config_change(services, forge, where, a.pr)
            if checked:
                done.append(checked)
            if not forge.announces_ci_completion and a.verdict.waits_for_ci:
                rounds = [e.extra.get("round", 0) for e in dod_events if e.action == "recheck"]
                await services.rechecks.schedule(forge.name, where, a.pr.repo, a.pr.number, a.pr.head_sha,
                                           services.recheck_seconds, max(rounds, default=0) + 1,
                                           installation_id=first.installation_id)
        else:
            done.append("dod skipped: pull request closed")
    closed = [e for e in events if route(e) == HISTORY]
    if closed and first.number is not None:  # a merged (or closed) pull request, for the Nexus metrics
        try:
            config = await services.reads.config_for(forge, where, first.repo, closed[-1].extra.get("base_ref") or "")
        except ConfigError:  # a broken repository file: the organisation's teams and labels still say it
            config = await services.reads.org_rules(forge, where, first.repo)
        issue = closed[-1].extra.get("snapshot") or await forge.issue(first.repo, first.number)
        await record_item(services, where, issue, config, base=closed[-1].extra.get("base_ref") or "")
        await forget_pull(services, where, first.repo, first.number, issue.closed_at)
        done.append("history")
    for event in (e for e in events if route(e) == QUEUE):
        done.append(await check_merge_group(services, forge, where, event))
    if first.repo and (reported := await _sprint_report(services, forge, where, first.repo)):
        done.append(reported)
    if want_ready and first.number is not None:
        verdict, config = await run_ready(services, forge, where, first.repo, first.number, first.installation_id)
        evaluated = True
        done.append("ready")
        if any(e.name == "issue_dependencies" for e in events):  # the forge's links changed: so may the blockage
            done.append(await converge_blocked(forge, config, first.repo, first.number))
    return Processed(", ".join(done) or "nothing to do", evaluated, head_sha)
