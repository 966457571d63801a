"""The board's record of an open pull request: its latest DoD verdict as the board shows it, one
compact JSON object per pull request, built from what one evaluation already holds (the snapshot,
the config in force, the facts the rules judged, the verdict). Pure: no I/O; the store keeps it
(``bot/service/board_store.py``), newest wins, and a closed pull request's record says so.

What it holds, for people and for ``/board.json``: the pull request (where, repository, number,
title, author, head, when opened), the verdict's state, every item (state, reason and what to do in
the config's language and in English, and its evidence: which checks with what result, which
approvals, which threshold, files, labels or sections it looks for), the teams touched, the reviews
still missing per team, the waivers (who, when, why), and where each rule came from: the
organisation's file, or the repository's file over it (an item the repository added, or an
organisation item it tightened), with the refusals the repository's file met.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .checks.approvals import tally
from .checks.ci import matching
from .locales import localize
from .model import PullRequest, State, Verdict

if TYPE_CHECKING:
    from .checks.facts import Facts
    from .config import Config

ORGANISATION, REPOSITORY, CHANGED = "organisation", "repository", "organisation, changed by the repository"


def pull_key(where: str, repo: str, number: int) -> str:
    return f"{where}:{repo.lower()}#{number}"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def provenance(config: "Config", org: "Config | None") -> dict[str, str]:
    """Item id -> where its rule comes from: the organisation's file, the repository's (an item the
    organisation does not have), or the organisation's changed by the repository's file (which may
    only tighten or reword it, unless the organisation lets it relax that item)."""
    if org is None:
        return {item.id: ORGANISATION for item in config.items}
    org_items = {item.id: item for item in org.items}
    found = {}
    for item in config.items:
        origin = org_items.get(item.id)
        found[item.id] = REPOSITORY if origin is None else (
            ORGANISATION if origin.model_dump() == item.model_dump() else CHANGED)
    return found


def _evidence(ev: Any, facts: "Facts | None") -> dict[str, Any]:
    """One piece of an item's evidence, with what the evaluation saw of it."""
    shown: dict[str, Any] = {"kind": ev.kind}
    if ev.kind in ("check", "metric"):
        shown["names"] = list(ev.names)
        if ev.kind == "metric":
            shown["threshold"] = f"{ev.op} {ev.threshold:g}{(' ' + ev.unit) if ev.unit else ''}"
        if facts is not None:
            shown["checks"] = [{"name": c.name, "status": c.status, "conclusion": c.conclusion, "url": c.url}
                               for c in matching(facts, ev.names)]
    elif ev.kind == "approvals" and facts is not None:
        seen = tally(facts, ev)
        shown.update(approvers=list(seen.approvers), needed=seen.needed, changes_requested=list(seen.blockers),
                     by_team={team: list(who) for team, who in seen.by_team.items()})
    elif ev.kind == "files":
        shown["patterns"] = list(ev.patterns)
    elif ev.kind == "label":
        shown.update(present=list(ev.present), absent=list(ev.absent))
    elif ev.kind == "checkbox":
        shown["text"] = ev.text
    elif ev.kind == "section":
        shown["heading"] = ev.heading
    elif ev.kind == "linked_ready" and facts is not None:
        shown["items"] = {ref: ready for ref, ready in facts.context.linked_ready.items()}
    return shown


def _reviews(facts: "Facts | None") -> dict[str, Any]:
    """The approvals that count, and per touched team whether one of its members approved."""
    if facts is None:
        return {"needed": 0, "approvers": [], "by_team": {}, "missing_teams": [], "changes_requested": []}
    seen = tally(facts)
    missing = [team for team in facts.teams if facts.cross_team and not seen.by_team.get(team)]
    return {"needed": seen.needed, "approvers": list(seen.approvers),
            "by_team": {team: list(who) for team, who in seen.by_team.items()},
            "missing_teams": missing, "changes_requested": list(seen.blockers)}


def pull_record(where: str, pr: PullRequest, verdict: Verdict, config: "Config | None", facts: "Facts | None", *,
                org: "Config | None", org_file: str, repo_file: str | None, evaluated_at: datetime) -> dict[str, Any]:
    """The board's record of ``pr`` judged ``verdict`` under ``config`` (the organisation's ``org``
    from ``org_file``, tightened by ``repo_file`` when the repository has one)."""
    language = config.lang if config is not None else "en"
    items_of = {item.id: item for item in config.items} if config is not None else {}
    origin = provenance(config, org) if config is not None else {}
    items = []
    for result in verdict.items:
        item = items_of.get(result.id)
        items.append({
            "id": result.id, "number": result.number, "category": result.category, "state": result.state.value,
            "required": result.required, "waiting_for": result.waiting_for,
            "title": localize(result.title, language), "reason": localize(result.reason, language),
            "action": localize(result.action, language) if result.action else "",
            "reason_en": str(result.reason),
            "evidence": [_evidence(ev, facts) for ev in item.evidence] if item is not None else [],
            "source": origin.get(result.id, ORGANISATION),
        })
    applicable = [i for i in verdict.items if i.state is not State.NOT_APPLICABLE]
    waivers = [{"item": i.id, "by": i.waiver.by, "reason": i.waiver.reason,
                "at": _time(i.waiver.at or evaluated_at)} for i in verdict.items if i.waiver is not None]
    return {
        "where": where, "repo": pr.repo, "number": pr.number, "title": pr.title, "author": pr.author,
        "url": pr.url, "head_sha": pr.head_sha, "base": pr.base_ref, "draft": pr.draft, "open": True,
        "opened_at": _time(pr.created_at), "evaluated_at": _time(evaluated_at), "language": language,
        "state": verdict.state.value, "config_error": verdict.config_error,
        "done": sum(1 for i in applicable if i.state in (State.PASSED, State.WAIVED)), "applicable": len(applicable),
        "items": items,
        "teams": list(facts.teams) if facts is not None else [],
        "team_names": {key: config.team_name(key) for key in config.teams} if config is not None else {},
        "cross_team": bool(facts.cross_team) if facts is not None else False,
        "reviews": _reviews(facts),
        "waivers": waivers,
        "config": {"organisation": org_file, "repository": repo_file,
                   "notices": [localize(n, language) for n in verdict.notices]},
    }


def closed_record(where: str, repo: str, number: int, closed_at: datetime) -> dict[str, Any]:
    """What is kept of a pull request once it is closed or merged: it has left the board."""
    return {"where": where, "repo": repo, "number": number, "open": False, "closed_at": _time(closed_at)}


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
