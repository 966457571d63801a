"""Evidence kind ``files``: the pull request changes a file matching one of the patterns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config.base import EvidenceBase
from .facts import Facts
from .finding import Finding, failed, passed
from .kind import Kind


class FilesEvidence(EvidenceBase):
    """A file matching one of these patterns is changed by the pull request."""

    kind: Literal["files"]
    patterns: list[str] = Field(min_length=1)  # gitignore patterns


def judge(ev: FilesEvidence, facts: Facts) -> Finding:
    found = facts.paths.matching(ev.patterns, limit=2)
    if found:
        more = " (and more)" if len(found) > 1 else ""
        return passed(f"{found[0]} changed{more}")
    return failed(f"no change to {' or '.join(ev.patterns)}")


def weaker(org: FilesEvidence, repo: FilesEvidence, org_config) -> str | None:
    if not set(repo.patterns) <= set(org.patterns):
        return f"may only keep some of the patterns {', '.join(org.patterns)}"
    return None


KIND = Kind("files", FilesEvidence, judge, weaker=weaker, on_paths=lambda ev: "files")
