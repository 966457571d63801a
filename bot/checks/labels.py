"""Evidence kind ``label``: a label is present, or absent."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from ..config.base import EvidenceBase
from ..msg import Msg
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
        return failed(Msg("labelled {labels}", labels=", ".join(unwanted)),
                      Msg("Remove the label {label} when it no longer holds.", label=unwanted[0]))
    if ev.present:
        found = sorted(facts.labels.intersection(n.casefold() for n in ev.present))
        if not found:
            return failed(Msg("no label {labels}", labels=" / ".join(ev.present)),
                          Msg("Add the label {label}.", label=ev.present[0]))
        return passed(Msg("labelled {labels}", labels=", ".join(found)))
    return passed(Msg("no label {labels}", labels=" / ".join(ev.absent)))


def weaker(org: LabelEvidence, repo: LabelEvidence, org_config) -> str | None:
    present, absent = {n.casefold() for n in repo.present}, {n.casefold() for n in repo.absent}
    if org.present and not (repo.present and present <= {n.casefold() for n in org.present}):
        return Msg("may only keep some of the labels {labels}", labels=", ".join(org.present))
    if not {n.casefold() for n in org.absent} <= absent:
        return Msg("must still refuse the labels {labels}", labels=", ".join(org.absent))
    return None


KIND = Kind("label", LabelEvidence, judge, reads=lambda ev: Reads(labels=frozenset([*ev.present, *ev.absent])),
            weaker=weaker)
