"""Evidence kind ``section``: a non-empty section of the PR description (rollback plan, GDPR)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..config.base import EvidenceBase, check_regex
from ..msg import Msg
from .facts import Facts
from .finding import Finding, failed, passed
from .kind import Kind
from .patterns import compile


class SectionEvidence(EvidenceBase):
    """A non-empty section of the PR description under a heading matching ``heading`` (a regex)."""

    kind: Literal["section"]
    heading: str
    min_chars: int = Field(default=1, ge=1)

    _heading_ok = field_validator("heading")(check_regex)


def judge(ev: SectionEvidence, facts: Facts) -> Finding:
    text = facts.body.section(compile(ev.heading))
    if text is None:
        return failed(Msg("no such section in the description"))
    if len(text) < ev.min_chars:
        return failed(Msg("the section is empty"), Msg("Write the section's content in the description."))
    return passed(Msg("section written ({count} characters)", count=len(text)))


def weaker(org: SectionEvidence, repo: SectionEvidence, org_config) -> str | None:
    if repo.heading != org.heading:
        return Msg("a repository may not change which section is read")
    if repo.min_chars < org.min_chars:
        return Msg("at least {count} characters, as the organisation asks", count=org.min_chars)
    return None


KIND = Kind("section", SectionEvidence, judge, weaker=weaker)
