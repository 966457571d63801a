"""Evidence kind ``files``: the pull request changes a file matching one of the patterns."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config.base import EvidenceBase
from ..msg import Msg, either
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
        if len(found) > 1:
            return passed(Msg("{path} changed (and more)", path=found[0]))
        return passed(Msg("{path} changed", path=found[0]))
    return failed(Msg("no change to {patterns}", patterns=either(ev.patterns)))


def weaker(org: FilesEvidence, repo: FilesEvidence, org_config) -> str | None:
    if not set(repo.patterns) <= set(org.patterns):
        return Msg("may only keep some of the patterns {patterns}", patterns=", ".join(org.patterns))
    return None


KIND = Kind("files", FilesEvidence, judge, weaker=weaker, on_paths=lambda ev: "files")
