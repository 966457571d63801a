"""Dependencies written in an item's text, mirrored as the forge's own links when the organisation
asks for it (``dependencies.mirror_written_links``), so the forge's UI shows them.

Best effort and additive: a link the forge records already (either way round: a link the other way
would make a cycle) is left alone, only items of the same owner are linked (another owner is
another installation, and a URL may name another host), and a refusal or a failure is logged, never
fatal to the Ready verdict, which is written before. Links are never removed, so a person's link,
or one whose text was deleted since, stays; and the other item of a mirrored "Blocks #45" is
re-judged at its own next event (the forge's webhook for the bot's own write is not acted on)."""

from __future__ import annotations

import logging

from ..checks.ready import ReadyVerdict
from ..forges.base import Forge, ForgeError
from ..model import Issue

log = logging.getLogger("nexus.mirror")

_REVERSE = {"depends_on": "blocks", "blocks": "depends_on"}


async def mirror_written_links(forge: Forge, issue: Issue, verdict: ReadyVerdict) -> list[str]:
    """Record each written dependency the forge lacks ("Depends on #44": this item is blocked by #44;
    "Blocks #45": #45 is blocked by this one); the references written."""
    owner = issue.repo.split("/", 1)[0].lower()
    recorded = {(n.repo.lower(), n.number) for n in issue.native_links if n.kind in _REVERSE}
    written = []
    for link in verdict.dependencies:
        other = link.repo or issue.repo
        key = (other.lower(), link.number)
        if key in recorded or key == (issue.repo.lower(), issue.number) or other.split("/", 1)[0].lower() != owner:
            continue
        blocked, blocking = ((issue.repo, issue.number), (other, link.number))
        if link.kind == "blocks":
            blocked, blocking = blocking, blocked
        try:
            await forge.add_dependency(*blocked, *blocking)
        except ForgeError as exc:
            log.info("%s#%s: the link %s was not recorded by the forge (HTTP %s): %s", issue.repo, issue.number,
                     link.ref, exc.status, str(exc)[:120])
            continue
        recorded.add(key)
        written.append(link.ref)
    return written
