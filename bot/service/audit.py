"""The audit log: one structured JSON line per delivery. Never a secret, a token or a body."""

from __future__ import annotations

import json
import logging

from ..model import Event

log = logging.getLogger("nexus.audit")


def record(delivery_id: str, forge: str, event: Event | None, outcome: str, *, api_calls: int = 0,
           duration_ms: float = 0.0, forge_ms: float = 0.0, batch: int = 1, attempts: int = 1) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    line = {
        "delivery": delivery_id,
        "forge": forge,
        "instance": event.instance if event else None,
        "repository": event.repo if event else None,
        "number": event.number if event else None,
        "event": event.name if event else None,
        "action": event.action if event else None,
        "outcome": outcome,
        "api_calls": api_calls,
        "duration_ms": round(duration_ms, 1),
        "forge_ms": round(forge_ms, 1),
        "batch": batch,
        "attempt": attempts,
    }
    # pretty: the fields as JSON after the logger's name; json: the fields are the line's own
    log.info(json.dumps(line, ensure_ascii=False), extra={"fields": line, "summary": f"{delivery_id}: {outcome}"})
