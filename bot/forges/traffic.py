"""What the adapters tell the process about their HTTP calls, and let it decide: every call is shown
to a ``Traffic`` before it is sent (the process may pace writes there) and after its answer (the
process counts it and reads the rate-limit headers). The process implements it; the adapters only
know this port, and the route names below, which keep metric labels few.
"""

from __future__ import annotations

import re
from typing import Mapping, Protocol

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})

_SEGMENT = re.compile(r"^(?:\d+|[0-9a-f]{40}|[0-9a-f]{64})$")
# path segments after which the rest is a name chosen by people (a file path, a ref, a label)
_OPEN_ENDED = {"contents": "{path}", "raw": "{path}", "media": "{path}", "git": "", "labels": "{name}",
               "compare": "{ref}", "branches": "{ref}", "commits": "{ref}"}


def route_of(path: str) -> str:
    """``/repos/acme/api/pulls/7/files`` -> ``/repos/{owner}/{repo}/pulls/{n}/files``: a label value
    that does not grow with the number of repositories or pull requests."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("repos", "orgs", "users", "teams", "installations") and i + 1 < len(parts):
            out.append(part)
            if part == "repos" and i + 2 < len(parts):
                out += ["{owner}", "{repo}"]
                i += 3
            else:
                out.append("{name}" if not _SEGMENT.match(parts[i + 1]) else "{n}")
                i += 2
            continue
        out.append("{n}" if _SEGMENT.match(part) else part)
        if part in _OPEN_ENDED and i + 1 < len(parts):
            if part == "git":  # git/trees/{ref}, git/refs/{ref}
                out += [parts[i + 1], "{ref}"] if i + 2 < len(parts) else [parts[i + 1]]
                break
            out.append(_OPEN_ENDED[part])
            if part != "commits":
                break
            i += 2
            continue
        i += 1
    return "/" + "/".join(out)


class Traffic(Protocol):
    async def before(self, forge: str, account: str, method: str) -> None:
        """About to send a request for ``account`` (an installation, a token, an instance): the
        process may make it wait (writes are paced)."""

    async def after(self, forge: str, account: str, method: str, route: str, status: int,
                    headers: Mapping[str, str]) -> None:
        """Its answer: status and headers (the rate-limit ones are read)."""


Read = tuple[str, bytes, "str | None"]  # (ETag, the body lz4-compressed, the next page's URL)


class SharedReads(Protocol):
    """Conditional reads shared by the processes serving one installation (replicas on Redis): what
    one replica has read, another asks with its ETag, and GitHub answers 304 (free)."""

    async def recall_read(self, forge: str, account: str, key: str) -> Read | None: ...

    async def keep_read(self, forge: str, account: str, key: str, entry: Read) -> None: ...


class NoTraffic:
    async def recall_read(self, forge: str, account: str, key: str) -> Read | None:
        return None

    async def keep_read(self, forge: str, account: str, key: str, entry: Read) -> None:
        return None

    async def before(self, forge: str, account: str, method: str) -> None:
        return None

    async def after(self, forge: str, account: str, method: str, route: str, status: int,
                    headers: Mapping[str, str]) -> None:
        return None
