"""Every hidden marker the bot writes into comments and reports, and how it reads them back.

Markers are HTML comments, invisible to people. Some name the bot's own comments so that they are
edited in place rather than posted again (the sticky DoD report, the Ready comment, the one reply to
a command comment); the verdict marker carries the verdict as JSON for scripts and dashboards; the
waiver markers are the waivers themselves.

Waivers live in the bot's own replies to ``/nexus waive``. Deriving them from the PR's comments
(already in every snapshot) means they survive restarts, redeploys and a lost database and cost no
extra API call; only comments written by the bot's own account are read, and the bot writes a marker
only after checking permissions.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from .model import Comment, Verdict, Waiver

STICKY_DOD = "<!-- nexus-bot:dod -->"  # the one DoD report comment (Forgejo, or GitHub when asked)
READY = "<!-- nexus-bot:ready -->"  # the one Ready comment of an issue
STICKY_CONFIG = "<!-- nexus-bot:config -->"  # the config check of a PR that changes a config file (Forgejo)
VERDICT_START = "<!-- nexus-verdict"  # a report's last line: the verdict as JSON
_VERDICT = re.compile(r"<!-- nexus-verdict (\{.*?\}) -->", re.S)
_WAIVER = re.compile(r"<!-- nexus-(waiver|unwaiver) (\{.*?\}) -->")


def _inert(data: object, separators: tuple[str, str] = (",", ":")) -> str:
    """JSON that can never close the HTML comment it sits in."""
    text = json.dumps(data, ensure_ascii=False, separators=separators)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def reply(comment_id: int) -> str:
    """The marker of the bot's one reply to the command comment ``comment_id``."""
    return f"<!-- nexus-bot:reply {comment_id} -->"


def is_bots(comment: Comment, marker: str, bot_login: str | None) -> bool:
    """Whether ``comment`` is the bot's own comment carrying ``marker``."""
    return bot_login is not None and comment.author == bot_login and marker in (comment.body or "")


# ----- the verdict ---------------------------------------------------------------------------------

def verdict(v: Verdict) -> str:
    return f"{VERDICT_START} {_inert(v.as_json())} -->"


def read_verdict(text: str) -> dict | None:
    """The machine-readable verdict in a report, or None."""
    m = _VERDICT.search(text or "")
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def without_verdict(text: str) -> str:
    return _VERDICT.sub("", text)


# ----- waivers -------------------------------------------------------------------------------------

def waiver(w: Waiver, active: bool = True) -> str:
    data = _inert({"item": w.item_id, "by": w.by, "reason": w.reason}, separators=(", ", ": "))
    return f"<!-- nexus-{'waiver' if active else 'unwaiver'} {data} -->"


def waivers_from(comments: Iterable[Comment], bot_login: str | None) -> dict[str, Waiver]:
    """The waivers in force: the latest marker per item, in comment order, from the bot only."""
    found: dict[str, Waiver] = {}
    if not bot_login:
        return found
    for comment in comments:
        if comment.author.lower() != bot_login.lower():
            continue
        for kind, raw in _WAIVER.findall(comment.body or ""):
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
