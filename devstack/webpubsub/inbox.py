"""A connection's inbox: the frames waiting for their upstream event, handled in order.

The socket's reader never waits for an event handler: it answers pings and acks at once and
queues everything else here, so a ping behind thousands of frames is still answered at once.
Each connection has its own inbox and one task working through it, so a busy connection
delays only itself (fair queuing: every connection has at most one event in flight).
The reader waits only when a connection has more than `limit_bytes` queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]
DEFAULT_LIMIT_BYTES = 16 * 1024 * 1024


class Inbox:
    def __init__(self, name: str, limit_bytes: int = DEFAULT_LIMIT_BYTES) -> None:
        self.name = name
        self.limit_bytes = limit_bytes
        self._items: deque[tuple[int, Work]] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()  # items are waiting
        self._room = asyncio.Event()  # under the byte limit
        self._room.set()
        self._idle = asyncio.Event()  # nothing queued, nothing running
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    async def put(self, size: int, work: Work) -> None:
        """Queue `work` (a frame of `size` bytes); waits while the inbox is over its limit."""
        while not self._room.is_set() and not self._closed:
            await self._room.wait()
        if self._closed:
            return
        self._items.append((size, work))
        self._bytes += size
        if self._bytes > self.limit_bytes:
            self._room.clear()
        self._idle.clear()
        self._ready.set()
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name=f"wps-inbox-{self.name}")

    async def _run(self) -> None:
        while not self._closed:
            if not self._items:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            size, work = self._items.popleft()
            self._bytes -= size
            if self._bytes <= self.limit_bytes:
                self._room.set()
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:  # one frame's failure must not stop the connection's others
                log.exception("handling a frame of %s failed", self.name)

    async def drained(self) -> None:
        """Wait until every queued frame has been handled (or the inbox is closed)."""
        if self._worker is not None and not self._closed:
            await self._idle.wait()

    def close(self) -> None:
        """Drop what is queued and stop (the connection is gone)."""
        self._closed = True
        self._items.clear()
        self._room.set()
        self._idle.set()
        worker, self._worker = self._worker, None
        # Closed from its own work (an event failed and dropped the client): it ends by itself.
        if worker is not None and not worker.done() and worker is not asyncio.current_task():
            worker.cancel()
