"""Logs for people and for machines (Probot's ``LOG_FORMAT``): ``pretty`` writes one readable line per
record for a terminal; ``json`` writes one JSON object per line for a log shipper, where the audit
line of a delivery is an object with its fields, not text with JSON inside. Never a secret: the
settings hide them and the audit line holds no body or token."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

NOISY = ("httpx", "httpcore", "hishel", "aiohttp.access", "redis")
LEVELS = {"warn": "WARNING", "trace": "DEBUG", "fatal": "CRITICAL"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):  # a structured record (the audit line): its fields are the object's
            line.update(fields)
            line["msg"] = getattr(record, "summary", None) or record.getMessage()
        else:
            line["msg"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str, fmt: str = "pretty") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS.get(level, level.upper()))
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
