"""A repository may tighten the organisation's DoD, never weaken it.

A repository's file is merged over the organisation's config (items by id), then every change is
held against the organisation's rule. A repository may add items and teams, make an advisory item
required, raise thresholds and approval counts in the strict direction, make items apply more often,
narrow the CI names or file patterns an item accepts, and reword texts. It may not disable an
organisation item, make it advisory or waivable, loosen a threshold, lower approval counts, add
people to the waiver list, change who is in a team, or rename the checks, unless the organisation's
``repositories.may_relax`` opens that item or setting to repositories.

A refused change is not an error: the organisation's rule stays in force for that piece, the rest of
the file applies, and the refusal (with the repository file's line) is carried by the config as a
notice, which every report shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..checks.conditions import widens
from ..checks.kinds import BY_NAME
from ..msg import Msg
from .base import ConfigNotice
from .dod import Config, DodItem

Path_ = tuple[Any, ...]

# Settings a repository may only keep or make stricter; each with why a change is refused.
LOCKED_SETTINGS = {
    ("reporting", "check_name"): Msg("branch protection requires the check by this name"),
    ("reporting", "status_context"): Msg("branch protection requires the status by this name"),
    ("reporting", "config_check_name"): Msg("the config check keeps the organisation's name"),
    ("reporting", "config_status_context"): Msg("the config check keeps the organisation's name"),
    ("review", "ownership_source"): Msg("who owns a path decides which teams must review"),
    ("labels", "cross_team"): Msg("the cross-team label is the organisation's"),
    ("labels", "ready"): Msg("a linked item is Ready by the organisation's label"),
}


@dataclass(frozen=True)
class Refusal:
    path: Path_  # in the merged config, e.g. ("items", "tests", "enabled") (items by id)
    message: str


def tighten(org: Config, merged: Config, repo_tree: dict, repo_where: dict, filename: str) -> Config:
    """``merged`` (the repository's file over ``org``) with every weakening refused: those pieces
    keep the organisation's rule, and the config carries one notice per refusal."""
    relax = org.repositories.may_relax
    refusals: list[Refusal] = []
    items = [_item(org_item, item, org, relax.items, refusals) if (org_item := _find(org, item.id)) else item
             for item in merged.items]
    update: dict[str, Any] = {"items": items, "repositories": org.repositories, "dependencies": org.dependencies,
                              "nexus": org.nexus}
    if repo_tree.get("repositories") is not None:
        refusals.append(Refusal(("repositories",), Msg("only the organisation says what repositories may relax")))
    if repo_tree.get("dependencies") is not None:
        refusals.append(Refusal(("dependencies",), Msg("only the organisation says whether written links are mirrored")))
    if repo_tree.get("nexus") is not None:
        refusals.append(Refusal(("nexus",), Msg("one sprint calendar and one set of metric alarms serve the whole Nexus")))
    review, waivers, teams = merged.review, merged.waivers, dict(merged.teams)
    if not _open(relax.settings, "review.min_approvals") and review.min_approvals < org.review.min_approvals:
        refusals.append(Refusal(("review", "min_approvals"),
                                Msg("at least {count}, as the organisation asks", count=org.review.min_approvals)))
        review = review.model_copy(update={"min_approvals": org.review.min_approvals})
    if (not _open(relax.settings, "review.cross_team_min_approvals")
            and review.cross_team_min_approvals < org.review.cross_team_min_approvals):
        refusals.append(Refusal(("review", "cross_team_min_approvals"),
                                Msg("at least {count}, as the organisation asks",
                                    count=org.review.cross_team_min_approvals)))
        review = review.model_copy(update={"cross_team_min_approvals": org.review.cross_team_min_approvals})
    if not _open(relax.settings, "review.dismiss_stale") and org.review.dismiss_stale and not review.dismiss_stale:
        refusals.append(Refusal(("review", "dismiss_stale"), Msg("approvals of older commits stay dismissed")))
        review = review.model_copy(update={"dismiss_stale": True})
    for field in ("teams", "users", "permissions"):
        if _open(relax.settings, f"waivers.{field}"):
            continue
        known = {value.casefold() for value in getattr(org.waivers, field)}
        added = [value for value in getattr(waivers, field) if value.casefold() not in known]
        if added:
            refusals.append(Refusal(("waivers", field),
                                    Msg("a repository may not add {who} to those who may waive", who=", ".join(added))))
            waivers = waivers.model_copy(update={field: [v for v in getattr(waivers, field) if v.casefold() in known]})
    for key, org_team in org.teams.items():
        team = teams[key]
        if _open(relax.settings, f"teams.{key}") or team == org_team:
            continue
        kept = team
        if {m.casefold() for m in team.members} != {m.casefold() for m in org_team.members}:
            refusals.append(Refusal(("teams", key, "members"), Msg("who is in a team is the organisation's to say")))
            kept = kept.model_copy(update={"members": org_team.members})
        for field in ("forge_team", "label"):
            if getattr(team, field) != getattr(org_team, field):
                refusals.append(Refusal(("teams", key, field),
                                        Msg("a team keeps the organisation's forge team and label")))
                kept = kept.model_copy(update={field: getattr(org_team, field)})
        for field in ("paths", "codeowners"):
            if not set(getattr(org_team, field)) <= set(getattr(team, field)):
                refusals.append(Refusal(("teams", key, field),
                                        Msg("a repository may add {field} to a team, not remove them", field=field)))
                kept = kept.model_copy(update={field: list(dict.fromkeys([*getattr(org_team, field), *getattr(team, field)]))})
        teams[key] = kept
    sections = {"review": review, "waivers": waivers}
    for (section, field), why in LOCKED_SETTINGS.items():
        current = sections.get(section) or getattr(merged, section)
        if not _open(relax.settings, f"{section}.{field}") and getattr(current, field) != getattr(getattr(org, section), field):
            refusals.append(Refusal((section, field), why))
            sections[section] = current.model_copy(update={field: getattr(getattr(org, section), field)})
    update |= sections | {"teams": teams}
    config = merged.model_copy(update=update)
    notices = [_notice(refusal, repo_tree, repo_where, filename) for refusal in refusals]
    return config.noting(*org.notices, *notices) if notices or org.notices else config


def _item(org_item: DodItem, item: DodItem, org: Config, open_items: list[str], refusals: list[Refusal]) -> DodItem:
    if item == org_item or _open(open_items, item.id):
        return item
    keep: dict[str, Any] = {}

    def refuse(field: str, message: str, value: Any) -> None:
        refusals.append(Refusal(("items", item.id, field), message))
        keep[field] = value

    if org_item.enabled and not item.enabled:
        refuse("enabled", Msg("a repository may not disable an organisation item"), True)
    if org_item.required and not item.required:
        refuse("severity", Msg("a repository may not make an organisation item advisory"), org_item.severity)
    if item.waivable and not org_item.waivable:
        refuse("waivable", Msg("a repository may not make this item waivable"), False)
    if item.when != org_item.when and not widens(org_item.when, item.when):
        refuse("when", Msg("a repository may make an item apply more often, not less"), org_item.when)
    if item.evidence != org_item.evidence:
        evidence = []
        for k, org_ev in enumerate(org_item.evidence):  # piece by piece: a stricter piece stays
            ev = item.evidence[k] if k < len(item.evidence) else None
            why = _weaker_evidence(org_ev, ev, org)
            if why:
                refusals.append(Refusal(("items", item.id, "evidence", k), why))
            evidence.append(org_ev if why else ev)
        keep["evidence"] = [*evidence, *item.evidence[len(org_item.evidence):]]  # added pieces apply
    return item.model_copy(update=keep) if keep else item


def _weaker_evidence(org_ev: Any, ev: Any, org: Config) -> str | None:
    if ev is None:
        return Msg("a repository may add evidence to an item, not remove it")
    if ev.kind != org_ev.kind:
        return Msg("a repository may not replace {old} evidence with {new}", old=org_ev.kind, new=ev.kind)
    if ev.when != org_ev.when and not widens(org_ev.when, ev.when):
        return Msg("a repository may make evidence apply more often, not less")
    return BY_NAME[ev.kind].weaker(org_ev, ev, org)


def _find(config: Config, item_id: str) -> DodItem | None:
    return next((item for item in config.items if item.id == item_id), None)


def _open(opened: list[str], name: str) -> bool:
    """Whether the organisation opens ``name`` (an item id, or a dotted setting) to repositories."""
    return "*" in opened or any(name == o or name.startswith(o + ".") for o in opened)


def _notice(refusal: Refusal, tree: dict, where: dict, filename: str) -> ConfigNotice:
    """"file:line: field: refused, the organisation's rule applies (why)"."""
    path = refusal.path
    if path[0] == "items":
        items = tree.get("items") if isinstance(tree.get("items"), list) else []
        index = next((j for j, it in enumerate(items) if isinstance(it, dict) and it.get("id") == path[1]), None)
        full = ("items", index, *path[2:])
        candidates = [full[:n] for n in range(len(full), 1, -1)] if index is not None else [("items",)]
        field = f"items[{path[1]}]" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[2:])
    else:
        candidates = [path[:n] for n in range(len(path), 0, -1)]
        field = ".".join(map(str, path))
    line = next((where[c][1] for c in candidates if c in where), None)
    return ConfigNotice(filename, line, field,
                        Msg("refused, the organisation's rule applies ({why})", why=refusal.message))
