"""Evidence kind ``checkbox``: a ticked checkbox in the PR description whose text matches."""

from __future__ import annotations

import re

from ..config import CheckboxEvidence
from .facts import Facts
from .finding import Finding, failed, passed
from .markdown import checkboxes


def judge(ev: CheckboxEvidence, facts: Facts) -> Finding:
    pattern = re.compile(ev.text)
    boxes = [(ticked, text) for ticked, text in checkboxes(facts.pr.body) if pattern.search(text)]
    if any(ticked for ticked, _ in boxes):
        return passed("ticked: " + next(text for ticked, text in boxes if ticked)[:80])
    if boxes:
        return failed("not ticked: " + boxes[0][1][:80], "Tick the box in the description once it is true.")
    return failed("no matching checkbox in the description")
