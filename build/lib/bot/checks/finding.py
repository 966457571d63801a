"""Finding: what one piece of evidence says."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import State


@dataclass(frozen=True)
class Finding:
    state: State
    reason: str
    action: str = ""


def passed(reason: str) -> Finding:
    return Finding(State.PASSED, reason)


def failed(reason: str, action: str = "") -> Finding:
    return Finding(State.FAILED, reason, action)


def pending(reason: str) -> Finding:
    return Finding(State.PENDING, reason)
