"""Evidence kind ``approvals``: approving reviews, and for a cross-team change one per touched team.

Which approvals count: the latest decisive review per reviewer (an approval followed by "changes
requested" is withdrawn; plain comments change nothing), never the author's own, and with
``dismiss_stale`` only those of the head commit. An approval counts for every team its author is a
member of; distinct reviewers are counted for the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from ..config.base import EvidenceBase
from ..model import Review, ReviewState
from ..msg import Msg, NMsg, both, join
from .facts import Facts
from .finding import Finding, failed, passed, pending
from .kind import Kind, Reads


class ApprovalsEvidence(EvidenceBase):
    """Approving reviews: a minimum count, and (cross-team) one per touched team."""

    kind: Literal["approvals"]
    min: int | None = Field(default=None, ge=0)  # default: the review policy's minimum
    per_team: bool = True

_DECISIVE = (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.DISMISSED)


@dataclass(frozen=True)
class ReviewTally:
    approvers: list[str]
    blockers: list[str]  # latest review asks for changes
    ignored: list[str]  # "carol (author)", "dave (older commit)"
    by_team: dict[str, list[str]]  # touched team -> its members who approved
    needed: int  # distinct approvals required


def latest_reviews(reviews: tuple[Review, ...]) -> dict[str, Review]:
    latest: dict[str, Review] = {}
    for review in reviews:  # forges list reviews oldest first
        if review.state in _DECISIVE:
            latest[review.author.lower()] = review
    return latest


def members_of(facts: Facts, team: str) -> frozenset[str]:
    forge = facts.context.members.get(team, frozenset())
    listed = facts.config.teams[team].members if team in facts.config.teams else []
    return frozenset(m.lower() for m in (*forge, *listed))


def tally(facts: Facts, ev: ApprovalsEvidence | None = None) -> ReviewTally:
    pr, policy = facts.pr, facts.config.review
    approvers, blockers, ignored = [], [], []
    for login, review in latest_reviews(pr.reviews).items():
        if review.state is ReviewState.CHANGES_REQUESTED:
            blockers.append(review.author)
        elif review.state is ReviewState.APPROVED:
            if login == pr.author.lower():
                ignored.append(Msg("{who} (author)", who=review.author))
            elif policy.dismiss_stale and review.commit_sha and review.commit_sha != pr.head_sha:
                ignored.append(Msg("{who} (older commit)", who=review.author))
            else:
                approvers.append(review.author)
    per_team = ev.per_team if ev else True
    cross = facts.cross_team and per_team
    by_team = {}
    if cross:
        for team in facts.teams:
            members = members_of(facts, team)
            by_team[team] = [a for a in approvers if a.lower() in members]
    if ev and ev.min is not None:
        needed = ev.min
    else:
        needed = policy.cross_team_min_approvals if cross else policy.min_approvals
    return ReviewTally(approvers, blockers, ignored, by_team, needed)


def teams_missing_approval(facts: Facts, any_change: bool = False) -> list[str]:
    """Touched teams without an approval from one of their members (for review requests): of a
    cross-team change only, or of any change with ``any_change``."""
    if not (facts.cross_team or any_change):
        return []
    approvers = {a.lower() for a in tally(facts).approvers}
    return [team for team in facts.teams if not approvers & members_of(facts, team)]


def judge(ev: ApprovalsEvidence, facts: Facts) -> Finding:
    t = tally(facts, ev)
    name = facts.config.team_name
    count = {"count": len(t.approvers), "needed": t.needed}
    parts = [Msg("{count}/{needed} approvals ({names})", names=", ".join(t.approvers), **count) if t.approvers
             else Msg("{count}/{needed} approvals", **count)]
    parts += [Msg("{team}: {names}", team=name(team), names=", ".join(who)) if who
              else Msg("{team}: approval still needed", team=name(team)) for team, who in t.by_team.items()]
    if t.ignored:
        parts.append(Msg("ignored: {who}", who=join(t.ignored, ", ")))
    reason = join(parts)
    if t.blockers:
        who = ", ".join(t.blockers)
        return failed(Msg("changes requested by {who} · {reason}", who=who, reason=reason),
                      Msg("Address the review of {who}, then ask for a new review.", who=who))
    missing = [team for team, who in t.by_team.items() if not who]
    if len(t.approvers) < t.needed or missing:
        todo = [name(team) for team in missing]
        ask = (Msg("someone from {teams}", teams=both(todo)) if todo
               else NMsg("{n} more reviewer(s)", "{n} more reviewer(s)", t.needed - len(t.approvers)))
        return pending(Msg("{reason} · waiting for {who}", reason=reason, who=ask))
    return passed(reason)


def weaker(org: ApprovalsEvidence, repo: ApprovalsEvidence, org_config) -> str | None:
    if org.per_team and not repo.per_team:
        return Msg("one approval per touched team, as the organisation asks")
    policy = org_config.review
    floor = org.min if org.min is not None else max(policy.min_approvals, policy.cross_team_min_approvals)
    if repo.min != org.min and (repo.min is None or repo.min < floor):
        return Msg("at least {count} approvals, as the organisation asks", count=floor)
    return None


KIND = Kind("approvals", ApprovalsEvidence, judge, waits_for="people", reads=lambda ev: Reads(reviews=True),
            weaker=weaker, on_paths=lambda ev: "reviews" if ev.per_team else None)
