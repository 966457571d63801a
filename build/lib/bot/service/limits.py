"""Bounds on what clients may make the web layer hold, so that hostile or broken clients cannot
starve the forges' deliveries:

- a deadline for a request's headers (the keep-alive timeout, which aiohttp also applies to a new
  connection that has not sent a whole request yet) and one for its body;
- a cap on open connections: past it, a new connection is closed at once;
- a cap on the bytes buffered, across concurrent requests, for bodies whose signature is not checked
  yet: a body that does not fit is refused (503, retry later) before it is read;
- large buffers allocated so that the C library gives them back to the system when they are freed,
  and memory returns to its level after a burst.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging

from aiohttp import web

log = logging.getLogger("nexus.web")

CHUNK = 64 * 1024
M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


class TooSlow(Exception):
    pass


class NoRoom(Exception):
    pass


class UnverifiedBytes:
    """Bytes held for bodies whose signature is not checked yet, across concurrent requests."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> None:
        if self.held + size > self.limit:
            raise NoRoom()
        self.held += size

    def give_back(self, size: int) -> None:
        self.held = max(0, self.held - size)


async def read_body(request: web.Request, budget: UnverifiedBytes, limit: int, timeout: float) -> bytes:
    """The whole body, within ``timeout`` seconds and ``budget``. Raises TooSlow, NoRoom, or
    web.HTTPRequestEntityTooLarge for a body over ``limit``."""
    announced = request.content_length
    if announced is not None and announced > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=announced)
    reserved = announced if announced is not None else 0
    budget.take(reserved)  # a body announced too large for the room left is refused before it is read
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
                if size > reserved:  # chunked, or longer than announced: take room as it comes
                    budget.take(size - reserved)
                    reserved = size
                chunks.append(chunk)
    except TimeoutError:
        raise TooSlow() from None
    finally:
        budget.give_back(reserved)
    return b"".join(chunks)


def bound_connections(runner: web.AppRunner, cap: int) -> None:
    """Close a new connection at once when ``cap`` connections are already open."""
    server = runner.server
    assert server is not None, "call after runner.setup()"
    accept = server.connection_made

    def connection_made(handler, transport) -> None:
        accept(handler, transport)
        if len(server.connections) > cap:
            log.warning("%d connections open: a new one is closed", cap)
            transport.abort()

    server.connection_made = connection_made  # type: ignore[method-assign]


def runner(app: web.Application, *, header_timeout: float, **kwargs) -> web.AppRunner:
    """The web layer's runner: a request's headers must arrive within ``header_timeout`` seconds of
    the connection (or of the previous response)."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=header_timeout, **kwargs)


def give_memory_back() -> None:
    """Ask glibc to serve every allocation over 256 KB from its own mapping, which is unmapped when
    freed: a burst of large bodies then leaves no heap behind. Elsewhere, nothing to do."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
    except OSError:
        pass
