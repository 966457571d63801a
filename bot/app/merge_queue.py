"""Merge queues (GitHub's): when a queue asks for checks on a group's commit, the "Nexus DoD" check
run on that commit says whether the pull request of the entry is Done at its own head. A repository
that requires "Nexus DoD" would otherwise stall: nothing else reports on the queue's commits."""

from __future__ import annotations

from ..locales import localize
from ..model import CheckReport, Event, State
from ..msg import Msg
from ..forges.base import Forge
from .dod import assess
from .ports import Services


async def check_merge_group(services: Services, forge: Forge, where: str, event: Event) -> str:
    a = await assess(forge, where, services.reads, event.repo, event.number, details_url=services.details_url,
                     signer=services.signer)
    config = a.config or services.reads.org
    ref = f"#{event.number}"
    if a.verdict.config_error:
        conclusion, title = "failure", Msg("{ref}: the configuration cannot be used", ref=ref)
        summary = Msg("{ref} cannot be judged: {error}", ref=ref, error=f"`{a.verdict.config_error}`")
    elif a.verdict.state is State.PASSED:
        conclusion, title = "success", Msg("{ref} is Done ({title})", ref=ref, title=a.report.title)
        summary = Msg("Every pull request of this merge group is Done at its own head: {ref} ({sha}).",
                      ref=ref, sha=a.pr.head_sha[:12])
    else:
        missing = ", ".join(localize(Msg("{id} ({reason})", id=f"`{i.id}`", reason=i.reason), config.lang)
                            for i in a.verdict.missing())
        conclusion, title = "failure", Msg("{ref} is not Done: {title}", ref=ref, title=a.report.title)
        summary = Msg("{ref} is not Done at its head {sha}: it needs {items}.\n\n"
                      "Remove it from the queue, finish it, and queue it again.",
                      ref=ref, sha=a.pr.head_sha[:12], items=missing)
    title, summary = localize(title, config.lang), localize(summary, config.lang)
    report = CheckReport(name=config.reporting.check_name, context=config.reporting.status_context,
                         conclusion=conclusion, title=title[:200], summary=summary, target_url=a.report.target_url)
    await forge.publish_check(event.repo, event.head_sha, report)
    return f"merge group {conclusion}"
