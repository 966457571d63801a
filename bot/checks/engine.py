"""The DoD verdict: every enabled item of the config judged on one pull request. Pure, no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import ItemResult, PullRequest, State, Verdict
from ..msg import Msg, join
from .conditions import applies
from .facts import Context, Facts
from .finding import Finding
from .kinds import BY_NAME
from .truncation import truncation

if TYPE_CHECKING:
    from ..config import Config

_WORST_FIRST = (State.FAILED, State.PENDING, State.PASSED, State.NOT_APPLICABLE)


def _combine(findings: list[Finding]) -> Finding:
    """All applicable pieces must pass: the worst one speaks for the item."""
    for state in _WORST_FIRST:
        hits = [f for f in findings if f.state is state]
        if hits:
            if state is State.PASSED and len(hits) > 1:
                return Finding(State.PASSED, join([f.reason for f in hits]))
            return hits[0]
    return Finding(State.NOT_APPLICABLE, Msg("no evidence applies"))


def evaluate(pr: PullRequest, config: "Config", context: Context | None = None) -> Verdict:
    return judge(Facts.of(pr, config, context))


def judge(facts: Facts) -> Verdict:
    """The verdict on facts already gathered (the paths and team ownership of a 3000-file PR are
    computed once per evaluation, however often the rules look at them)."""
    config = facts.config
    verdict = Verdict(head_sha=facts.pr.head_sha, notices=[n.text() for n in config.notices],
                      truncation=truncation(facts))
    for item in config.enabled_items():
        ok, why = applies(item.when, facts)
        waits: set[str] = set()
        if not ok:
            finding = Finding(State.NOT_APPLICABLE, Msg("not applicable: {why}", why=why))
        else:
            findings, waits = [], set()
            for ev in item.evidence:
                ev_ok, ev_why = applies(ev.when, facts)
                kind = BY_NAME[ev.kind]
                found = kind.judge(ev, facts) if ev_ok else Finding(State.NOT_APPLICABLE, ev_why)
                if found.state is State.PENDING:
                    waits.add(kind.waits_for)
                findings.append(found)
            finding = _combine(findings)
        result = ItemResult(
            id=item.id,
            title=Msg(item.title),  # the config's text; a catalog may know it (the embedded DoD's)
            category=item.category,
            state=finding.state,
            reason=finding.reason,
            action=(finding.action or Msg(item.help)) if finding.state is State.FAILED else "",
            required=item.required,
            number=item.number,
            waiting_for=",".join(sorted(w for w in waits if w)) if finding.state is State.PENDING else "",
        )
        waiver = facts.context.waivers.get(item.id)
        if waiver and item.waivable and finding.state in (State.FAILED, State.PENDING):
            result.state, result.waiver, result.action = State.WAIVED, waiver, ""
            result.reason = Msg("waived by {by}: {reason} (was: {was})", by=waiver.by, reason=waiver.reason,
                                was=finding.reason)
        verdict.items.append(result)
    return verdict
