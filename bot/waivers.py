"""Waivers live in the bot's own replies to ``/nexus waive``: a hidden marker in each.

Deriving them from the PR's comments (already in every snapshot) means they survive restarts,
redeploys and a lost database, cost no extra API call, and cannot be forged: only comments written
by the bot's own account are read, and the bot writes a marker only after checking permissions.
"""

from __future__ import annotations

import json
import re

from .model import Comment, Waiver

_MARKER = re.compile(r"<!-- nexus-(waiver|unwaiver) (\{.*?\}) -->")


def marker(waiver: Waiver, active: bool = True) -> str:
    data = json.dumps({"item": waiver.item_id, "by": waiver.by, "reason": waiver.reason}, ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- nexus-{'waiver' if active else 'unwaiver'} {data} -->"


def waivers_from(comments: tuple[Comment, ...] | list[Comment], bot_login: str | None) -> dict[str, Waiver]:
    """The waivers in force: the latest marker per item, in comment order, from the bot only."""
    found: dict[str, Waiver] = {}
    if not bot_login:
        return found
    for comment in comments:
        if comment.author.lower() != bot_login.lower():
            continue
        for kind, raw in _MARKER.findall(comment.body or ""):
            try:
                data = json.loads(raw)
                item = str(data["item"])
            except (ValueError, KeyError, TypeError):
                continue
            if kind == "waiver":
                found[item] = Waiver(item, str(data.get("by", "")), str(data.get("reason", "")))
            else:
                found.pop(item, None)
    return found
