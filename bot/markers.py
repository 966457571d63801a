"""Every hidden marker the bot writes into comments and reports, and how it reads them back.

Markers are HTML comments, invisible to people. Some name the bot's own comments so that they are
edited in place rather than posted again (the sticky DoD report, the Ready comment, the one reply to
a command comment); the verdict marker carries the verdict as JSON for scripts and dashboards; the
waiver markers are the waivers themselves.

Waivers live in the bot's own replies to ``/nexus waive``. Deriving them from the PR's comments
(already in every snapshot) means they survive restarts, redeploys and a lost database and cost no
extra API call; only comments written by the bot's own account are read, and the bot writes a marker
only after checking permissions.

Anyone with write access may edit any comment, the bot's own included. So every marker the bot reads
back to decide something (waivers, and the reply that says a command comment was answered) carries a
signature: an HMAC, with a key from the environment, over the marker and the place it belongs to
(the repository and the pull request or issue). A marker typed by a person, or copied from another
pull request, does not verify and is ignored. Keys rotate without losing waivers: the first key
signs, every key verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Iterable, Sequence

from .model import Comment, Verdict, Waiver

STICKY_DOD = "<!-- nexus-bot:dod -->"  # the one DoD report comment (Forgejo, or GitHub when asked)
READY = "<!-- nexus-bot:ready -->"  # the one Ready comment of an issue
STICKY_CONFIG = "<!-- nexus-bot:config -->"  # the config check of a PR that changes a config file (Forgejo)
VERDICT_START = "<!-- nexus-verdict"  # a report's last line: the verdict as JSON
_VERDICT = re.compile(r"<!-- nexus-verdict (\{.*?\}) -->", re.S)
_WAIVER = re.compile(r"<!-- nexus-(waiver|unwaiver) (\{[^<>]*?\}) -->")


class Signer:
    """Signs and verifies markers with the keys of ``MARKER_KEYS`` (the first signs)."""

    def __init__(self, keys: Sequence[bytes | str]):
        self.keys = [k.encode() if isinstance(k, str) else k for k in keys if k]

    def __bool__(self) -> bool:
        return bool(self.keys)

    def _mac(self, key: bytes, payload: str, place: str) -> str:
        return hmac.new(key, f"{place}\n{payload}".encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, payload: str, place: str) -> str:
        return self._mac(self.keys[0], payload, place) if self.keys else ""

    def signatures(self, payload: str, place: str) -> list[str]:
        """What a valid signature of ``payload`` at ``place`` may be: one per key."""
        return [self._mac(key, payload, place) for key in self.keys]

    def verify(self, payload: str, place: str, signature: str) -> bool:
        return any(hmac.compare_digest(signature, s) for s in self.signatures(payload, place))


def place(repo: str, number: int) -> str:
    """Where a marker belongs: one pull request or issue of one repository."""
    return f"{repo.lower()}#{number}"


def _inert(data: object, separators: tuple[str, str] = (",", ":")) -> str:
    """JSON that can never close the HTML comment it sits in."""
    text = json.dumps(data, ensure_ascii=False, separators=separators)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def reply(comment_id: int, signer: Signer, where: str) -> str:
    """The marker of the bot's one reply to the command comment ``comment_id`` at ``where``."""
    return f"<!-- nexus-bot:reply {comment_id} {signer.sign(str(comment_id), where)} -->"


def replied(comment: Comment, comment_id: int, bot_login: str | None, signer: Signer, where: str) -> bool:
    """Whether ``comment`` is the bot's signed reply to the command comment ``comment_id``."""
    if bot_login is None or comment.author != bot_login:
        return False
    body = comment.body or ""
    return any(f"<!-- nexus-bot:reply {comment_id} {sig} -->" in body for sig in signer.signatures(str(comment_id), where))


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

def _waiver_payload(kind: str, item: str, by: str, reason: str) -> str:
    return _inert({"kind": kind, "item": item, "by": by, "reason": reason})


def waiver(w: Waiver, signer: Signer, where: str, active: bool = True) -> str:
    kind = "waiver" if active else "unwaiver"
    sig = signer.sign(_waiver_payload(kind, w.item_id, w.by, w.reason), where)
    data = _inert({"item": w.item_id, "by": w.by, "reason": w.reason, "sig": sig}, separators=(", ", ": "))
    return f"<!-- nexus-{kind} {data} -->"


def waivers_from(comments: Iterable[Comment], bot_login: str | None, signer: Signer, where: str,
                 forged: list[str] | None = None) -> dict[str, Waiver]:
    """The waivers in force at ``where``: the latest signed marker per item, in comment order, from
    the bot only. Markers that do not verify are left out (and listed in ``forged`` when given)."""
    found: dict[str, Waiver] = {}
    if not bot_login:
        return found
    for comment in comments:
        if comment.author.lower() != bot_login.lower():
            continue
        for kind, raw in _WAIVER.findall(comment.body or ""):
            try:
                data = json.loads(raw)
                item, by, reason, sig = str(data["item"]), str(data["by"]), str(data["reason"]), str(data["sig"])
            except (ValueError, KeyError, TypeError):
                item, by, reason, sig = "", "", "", ""
            if not sig or not signer.verify(_waiver_payload(kind, item, by, reason), where, sig):
                if forged is not None:
                    forged.append(f"comment {comment.id}: {raw[:120]}")
                continue
            if kind == "waiver":
                found[item] = Waiver(item, by, reason, at=comment.created_at)
            else:
                found.pop(item, None)
    return found
