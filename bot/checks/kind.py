"""What an evidence kind is: its config model, its judge, what a pending finding waits for, and what
of a pull request can change its finding. Each module of ``bot/checks/`` that defines a kind ends
with its ``KIND``; ``kinds.KINDS`` lists them, and the engine, the config schema and the filter of
events that cannot change a verdict are derived from that list (policy-bot's predicates declare
their triggers the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..msg import Msg

if TYPE_CHECKING:
    from ..config import Config
    from ..config.base import EvidenceBase
    from .facts import Facts
    from .finding import Finding


@dataclass(frozen=True)
class Reads:
    """What of a pull request a rule looks at: a change to anything else cannot change its finding."""

    labels: frozenset[str] = frozenset()  # label names (forges compare them ignoring case)
    checks: tuple[str, ...] = ()  # CI check and status names, as glob patterns
    reviews: bool = False

    def __or__(self, other: "Reads") -> "Reads":
        return Reads(self.labels | other.labels, self.checks + other.checks, self.reviews or other.reviews)


def _reads_nothing(evidence: Any) -> Reads:
    return Reads()


def _reads_no_path(evidence: Any) -> str | None:
    return None


def _unchanged(org: Any, repo: Any, org_config: "Config") -> str | None:
    """A kind without a notion of stricter: a repository may not change it."""
    if org.model_dump(exclude={"when"}) != repo.model_dump(exclude={"when"}):
        return Msg("a repository may not change this evidence")
    return None


@dataclass(frozen=True)
class Kind:
    name: str  # the ``kind:`` of an item's evidence in the config
    evidence: type["EvidenceBase"]  # its config model
    judge: Callable[[Any, "Facts"], "Finding"]
    waits_for: str = ""  # what a pending finding waits for: "ci" (checks, statuses) or "people" (reviews)
    reads: Callable[[Any], Reads] = field(default=_reads_nothing)  # of one piece of evidence
    # Whether one piece of evidence depends on which files the PR changes, and how: "files" (it looks
    # for a changed file), "reviews" (one approval per touched team); None: it does not.
    on_paths: Callable[[Any], str | None] = field(default=_reads_no_path)
    # Why a repository's version of an organisation's evidence is weaker (None: as strict or stricter);
    # its ``when`` is compared apart. A repository may tighten the DoD, never weaken it.
    weaker: Callable[[Any, Any, "Config"], str | None] = field(default=_unchanged)


# ----- helpers for ``weaker`` ----------------------------------------------------------------------

def weaker_names(org_names: list[str], repo_names: list[str], org_all: bool, repo_all: bool) -> str | None:
    """CI names: "any of" may narrow to some of the organisation's names; "all of" may only grow."""
    if org_all:
        if not repo_all or not set(org_names) <= set(repo_names):
            return Msg("must still require every check of {names}", names=", ".join(org_names))
    elif not set(repo_names) <= set(org_names):
        return Msg("may only keep some of the check names {names}", names=", ".join(org_names))
    return None


def weaker_missing(org_missing: str, repo_missing: str) -> str | None:
    if org_missing == "fail" and repo_missing != "fail":
        return Msg("a check the organisation requires to be reported may not become optional until reported")
    return None
