"""Evidence kind ``section``: a non-empty section of the PR description (rollback plan, GDPR)."""

from __future__ import annotations

import re

from ..config import SectionEvidence
from .facts import Facts
from .finding import Finding, failed, passed
from .markdown import section


def judge(ev: SectionEvidence, facts: Facts) -> Finding:
    text = section(facts.pr.body, re.compile(ev.heading))
    if text is None:
        return failed("no such section in the description")
    if len(text) < ev.min_chars:
        return failed("the section is empty", "Write the section's content in the description.")
    return passed(f"section written ({len(text)} characters)")
