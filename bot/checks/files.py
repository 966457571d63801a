"""Evidence kind ``files``: the pull request changes a file matching one of the patterns."""

from __future__ import annotations

from ..config import FilesEvidence
from .facts import Facts
from .finding import Finding, failed, passed


def judge(ev: FilesEvidence, facts: Facts) -> Finding:
    found = facts.paths.matching(ev.patterns, limit=2)
    if found:
        more = " (and more)" if len(found) > 1 else ""
        return passed(f"{found[0]} changed{more}")
    return failed(f"no change to {' or '.join(ev.patterns)}")
