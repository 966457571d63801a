"""Evidence kind ``label``: a label is present, or absent."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ..config.base import EvidenceBase
from .facts import Facts
from .finding import Finding, failed, passed
from .kind import Kind, Reads


class LabelEvidence(EvidenceBase):
    kind: Literal["label"]
    present: list[str] = []  # one of these labels is set
    absent: list[str] = []  # none of these labels is set

    @model_validator(mode="after")
    def _one_given(self) -> "LabelEvidence":
        if not self.present and not self.absent:
            raise ValueError("give 'present' or 'absent' labels")
        return self


def judge(ev: LabelEvidence, facts: Facts) -> Finding:
    unwanted = sorted(facts.labels.intersection(n.casefold() for n in ev.absent))
    if unwanted:
        return failed(f"labelled {', '.join(unwanted)}", f"Remove the label {unwanted[0]} when it no longer holds.")
    if ev.present:
        found = sorted(facts.labels.intersection(n.casefold() for n in ev.present))
        if not found:
            return failed(f"no label {' / '.join(ev.present)}", f"Add the label {ev.present[0]}.")
        return passed(f"labelled {', '.join(found)}")
    return passed(f"no label {' / '.join(ev.absent)}")


KIND = Kind("label", LabelEvidence, judge, reads=lambda ev: Reads(labels=frozenset([*ev.present, *ev.absent])))
