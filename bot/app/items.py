"""Backlog items as the dependency graph reads them: an issue's links written in its text and those
the forge records natively, and the items that mention it."""

from __future__ import annotations

from ..checks.deps import ItemInfo
from ..checks.links import extract_links
from ..forges.base import Forge, ForgeError
from ..model import ItemRef


async def fetch_item(forge: Forge, ref: ItemRef) -> ItemInfo | None:
    """The item ``ref`` for ``checks.deps.build_graph``; None when it is deleted or out of reach."""
    try:
        issue = await forge.issue(ref.repo, ref.number)
    except ForgeError as exc:
        if exc.out_of_reach:
            return None  # deleted, or not visible to the bot
        raise
    texts = [issue.body or ""] + [c.body or "" for c in issue.comments if c.author != forge.bot_login]
    links = tuple(link for text in texts for link in extract_links(text))
    referenced = tuple(ItemRef(ref.forge, r, n) for r, n in await forge.timeline_references(ref.repo, ref.number))
    return ItemInfo(ref=ref, title=issue.title, labels=frozenset(issue.labels), state=issue.state,
                    is_pull_request=issue.is_pull_request, links=links, native_links=issue.native_links,
                    referenced_by=referenced, url=issue.url)
