"""Evidence kind ``linked_ready``: the backlog items a pull request closes are Ready."""

from __future__ import annotations

import re

from typing import Literal

from ..config.base import EvidenceBase
from ..model import State
from ..msg import Msg
from .facts import Facts
from .finding import Finding, failed, passed
from .kind import Kind
from .text import Text, as_text


class LinkedReadyEvidence(EvidenceBase):
    """The backlog items the PR closes are Ready (labelled with the ready label)."""

    kind: Literal["linked_ready"]

CLOSING = re.compile(
    r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|corrige|ferme|r[ée]sou[td])\s*:?\s+"
    r"(?:([\w.-]+/[\w.-]+)#|#)(\d+)\b"
)


def closed_items(body: "Text | str | None", repo: str) -> list[str]:
    """"repo#n" for every closing reference ("Fixes #12", "Closes org/other#3") in a PR body's prose
    (not in code, quotes aside, nor in HTML comments)."""
    seen: list[str] = []
    for m in CLOSING.finditer(as_text(body).prose):
        ref = f"{m.group(1) or repo}#{m.group(2)}"
        if ref not in seen:
            seen.append(ref)
    return seen


def judge(ev: LinkedReadyEvidence, facts: Facts) -> Finding:
    refs = closed_items(facts.body, facts.pr.repo)
    if not refs:
        return Finding(State.NOT_APPLICABLE, Msg("the pull request closes no backlog item"))
    known = facts.context.linked_ready
    not_ready = [r for r in refs if known.get(r) is False]
    unknown = [r for r in refs if known.get(r) is None]
    if not_ready:
        return failed(Msg("{items} not Ready", items=", ".join(not_ready)),
                      Msg("Refine the linked issue until it is labelled ready."))
    if unknown:
        return failed(Msg("{items} could not be read", items=", ".join(unknown)),
                      Msg("Check that the linked issue exists."))
    return passed(Msg("{items} Ready", items=", ".join(refs)))


KIND = Kind("linked_ready", LinkedReadyEvidence, judge)
