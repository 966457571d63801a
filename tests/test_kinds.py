"""Each evidence kind describes itself (config model, judge, what it waits for, what it reads), and
the engine, the config schema and the filter of events that cannot change a verdict are derived
from the one list of kinds."""

from __future__ import annotations

import typing

from bot.app.router import may_change_verdict
from bot.checks.kinds import KINDS, reads
from bot.config.dod import Evidence
from bot.model import Event

from bot.config import default_config_text, load_config

from .builders import config_with, default_config


def test_every_kind_brings_its_model_and_the_config_accepts_each():
    union = typing.get_args(typing.get_args(Evidence)[0])
    assert [model for model in union] == [kind.evidence for kind in KINDS]
    for kind in KINDS:
        assert typing.get_args(kind.evidence.model_fields["kind"].annotation) == (kind.name,)
    assert {kind.name for kind in KINDS} >= {ev.kind for item in default_config().items for ev in item.evidence}


def test_what_the_rules_read_is_what_the_kinds_say():
    read = reads(default_config())
    assert {"nexus", "major", "skip-changelog", "personal-data"} <= read.labels
    assert "test*" in read.checks and "*bench*" in read.checks and read.reviews


def event(name: str, action: str, **extra) -> Event:
    return Event(forge="github", delivery_id="d", name=name, action=action, repo="org/app", number=1,
                 review_state=extra.pop("review_state", None), extra=extra)


def test_events_no_rule_reads_cannot_change_the_verdict():
    config = default_config()
    assert not may_change_verdict(event("pull_request", "labeled", label="good first issue"), config)
    assert may_change_verdict(event("pull_request", "labeled", label="Skip-Changelog"), config)
    assert not may_change_verdict(event("check", "completed", check_name="docs-preview"), config)
    assert may_change_verdict(event("check", "completed", check_name="Security: cargo audit"), config)
    assert may_change_verdict(event("pull_request_review", "submitted", review_state="approved"), config)
    assert may_change_verdict(event("pull_request", "labeled", label="anything"), None)  # not cached: relevant


def test_a_label_rule_added_by_a_repository_makes_its_label_relevant():
    config = config_with("items:\n  - id: qa\n    title: QA sign-off\n    category: code\n"
                         "    evidence: {kind: label, present: [qa-ok]}\n")
    assert may_change_verdict(event("pull_request", "labeled", label="qa-ok"), config)


def test_without_approval_items_a_review_cannot_change_the_verdict():
    org = default_config_text()[1].replace("category: code\n    evidence: {kind: approvals", "category: code\n"
                                           "    enabled: false\n    evidence: {kind: approvals")
    config = load_config(("nexus.yml", org))
    assert not any(item.enabled for item in config.items if item.id in ("approved-pr", "reviews"))
    assert not may_change_verdict(event("pull_request_review", "submitted", review_state="approved"), config)
