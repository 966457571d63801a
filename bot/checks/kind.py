"""What an evidence kind is: its config model, its judge, what a pending finding waits for, and what
of a pull request can change its finding. Each module of ``bot/checks/`` that defines a kind ends
with its ``KIND``; ``kinds.KINDS`` lists them, and the engine, the config schema and the filter of
events that cannot change a verdict are derived from that list (policy-bot's predicates declare
their triggers the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Kind:
    name: str  # the ``kind:`` of an item's evidence in the config
    evidence: type["EvidenceBase"]  # its config model
    judge: Callable[[Any, "Facts"], "Finding"]
    waits_for: str = ""  # what a pending finding waits for: "ci" (checks, statuses) or "people" (reviews)
    reads: Callable[[Any], Reads] = field(default=_reads_nothing)  # of one piece of evidence
