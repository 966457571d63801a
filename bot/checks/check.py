"""Evidence kind ``check``: CI checks or commit statuses by name that succeeded."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config.base import EvidenceBase
from ..msg import Msg
from .ci import matching
from .facts import Facts
from .finding import Finding, failed, passed, pending
from .kind import Kind, Reads, weaker_missing, weaker_names


class CheckEvidence(EvidenceBase):
    """CI checks or commit statuses, by name (glob patterns), that must have succeeded."""

    kind: Literal["check"]
    names: list[str] = Field(min_length=1)
    require: Literal["any", "all"] = "any"  # any: one matching check is enough; all: every pattern
    missing: Literal["pending", "fail"] = "pending"  # no such check reported (yet)


def judge(ev: CheckEvidence, facts: Facts) -> Finding:
    groups = [matching(facts, [p]) for p in ev.names] if ev.require == "all" else [matching(facts, ev.names)]
    for pattern, checks in zip(ev.names if ev.require == "all" else [" / ".join(ev.names)], groups):
        if not checks:
            if ev.missing == "pending":
                return pending(Msg("no check named {name} reported on this commit yet", name=pattern))
            return failed(Msg("no check named {name} reported on this commit", name=pattern))
    checks = [c for group in groups for c in group]
    bad = [c for c in checks if c.completed and not c.succeeded]
    if bad:
        names = ", ".join(f"{c.name} ({c.conclusion})" for c in bad)
        return failed(Msg("{names} did not succeed", names=names),
                      Msg("Open {name}, fix what it reports, and push.", name=bad[0].name))
    running = [c for c in checks if not c.completed]
    if running:
        return pending(Msg("{names} still running", names=", ".join(c.name for c in running)))
    return passed(Msg("{names} succeeded", names=", ".join(c.name for c in checks)))


def weaker(org: CheckEvidence, repo: CheckEvidence, org_config) -> str | None:
    return (weaker_names(org.names, repo.names, org.require == "all", repo.require == "all")
            or weaker_missing(org.missing, repo.missing))


KIND = Kind("check", CheckEvidence, judge, waits_for="ci", reads=lambda ev: Reads(checks=tuple(ev.names)),
            weaker=weaker)
