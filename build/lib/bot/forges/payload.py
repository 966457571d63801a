"""Reading fields of a webhook payload (any forge): lenient, with errors that name the field."""

from __future__ import annotations

from typing import Any

import orjson

from .base import PayloadError


def json_object(body: bytes, what: str) -> dict:
    """The payload as a dict; PayloadError saying why it is not one."""
    try:
        payload = orjson.loads(body)
    except ValueError as e:  # includes UnicodeDecodeError
        raise PayloadError(f"{what}: malformed JSON: {e}") from None
    if not isinstance(payload, dict):
        raise PayloadError(f"{what}: payload is not a JSON object")
    return payload


def field(obj: Any, path: str) -> Any:
    """The value at a dotted ``path``; PayloadError naming the path when it is missing or null."""
    for key in path.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
        if obj is None:
            raise PayloadError(f"missing field {path!r}")
    return obj


def optional(obj: Any, path: str, kind: type) -> Any:
    """The value at a dotted ``path`` when it is there and of ``kind``, else None: for fields the bot
    only uses to save work, never to decide."""
    for key in path.split("."):
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, kind) else None
