"""Evidence kind ``checkbox``: a ticked checkbox in the PR description whose text matches."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from ..config.base import EvidenceBase, check_regex
from ..msg import Msg
from .facts import Facts
from .finding import Finding, failed, passed
from .kind import Kind
from .patterns import compile


class CheckboxEvidence(EvidenceBase):
    """A ticked checkbox in the PR description whose text matches ``text`` (a regex)."""

    kind: Literal["checkbox"]
    text: str

    _text_ok = field_validator("text")(check_regex)


def judge(ev: CheckboxEvidence, facts: Facts) -> Finding:
    pattern = compile(ev.text)
    boxes = [(ticked, text) for ticked, text in facts.body.checkboxes if pattern.search(text)]
    if any(ticked for ticked, _ in boxes):
        return passed(Msg("ticked: {text}", text=next(text for ticked, text in boxes if ticked)[:80]))
    if boxes:
        return failed(Msg("not ticked: {text}", text=boxes[0][1][:80]),
                      Msg("Tick the box in the description once it is true."))
    return failed(Msg("no matching checkbox in the description"))


KIND = Kind("checkbox", CheckboxEvidence, judge)
