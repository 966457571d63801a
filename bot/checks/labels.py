"""Evidence kind ``label``: a label is present, or absent."""

from __future__ import annotations

from ..config import LabelEvidence
from .facts import Facts
from .finding import Finding, failed, passed


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
