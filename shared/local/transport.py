"""The transport of the plain WebSocket server: live aiohttp sockets under the core's topics.

Each socket has one writer task and an ordered queue, so `channel.send` frames, publishes and
the reply to a message reach the client in the order they were made, and a publish to a big
topic never waits on a slow client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from shared.core.transport import MemoryTransport

log = logging.getLogger("channels.local")

NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013
MAX_CLOSE_REASON_BYTES = 123  # what a close frame can carry
CLOSE_SECONDS = 5.0  # how long a closing handshake may take
MAX_QUEUED_FRAMES = 10_000  # a client this far behind is cut off rather than buffered forever


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class Socket:
    """One client connection: its WebSocket, user id, connection states and outgoing frames."""

    def __init__(
        self,
        channel_id: str,
        ws: web.WebSocketResponse,
        *,
        user_id: str | None,
        states: dict[str, Any],
        max_queued: int = MAX_QUEUED_FRAMES,
    ) -> None:
        self.channel_id = channel_id
        self.ws = ws
        self.user_id = user_id
        self.states = states
        self.close_reason: str | None = None
        self._max_queued = max_queued
        self._closing = False
        self._queue: asyncio.Queue[str | _Close] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"local-writer-{channel_id}")

    def merge_states(self, states: dict[str, Any]) -> None:
        """Merge a result's states key by key, as JSON values (as the service keeps them)."""
        if states:
            self.states.update(json_states(states))

    def deliver(self, text: str) -> None:
        if self._closing:
            return
        if self._queue.qsize() >= self._max_queued:
            log.warning("closing %s: %d frames wait for it", self.channel_id, self._queue.qsize())
            self.close("too many frames waiting: the client is not reading", TRY_AGAIN_LATER)
            return
        self._queue.put_nowait(text)

    def close(self, reason: str | None = None, code: int = NORMAL_CLOSURE) -> None:
        """Close after the frames already queued; the reader then ends the connection."""
        if self._closing:
            return
        self._closing = True
        self.close_reason = reason
        self._queue.put_nowait(_Close(code, reason or ""))

    async def finish(self) -> None:
        """Let a close under way end its handshake (bounded), then stop the writer."""
        if self._closing and not self._writer.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), CLOSE_SECONDS)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                if isinstance(frame, _Close):
                    reason = frame.reason.encode()[:MAX_CLOSE_REASON_BYTES]
                    await self.ws.close(code=frame.code, message=reason)
                    return
                await self.ws.send_str(frame)
            except Exception as exc:  # the socket went away under us; the reader ends it
                log.debug("writer of %s stopped: %s", self.channel_id, exc)
                return


def json_states(states: dict[str, Any]) -> dict[str, Any]:
    """States as the service would hand them back: JSON values, no shared objects."""
    parsed: dict[str, Any] = json.loads(json.dumps(states))
    return parsed


class SocketTransport(MemoryTransport):
    """Topics in memory (the core's), frames onto live sockets, `close` closes the socket."""

    def __init__(self) -> None:
        super().__init__()
        self.sockets: dict[str, Socket] = {}

    def attach(self, socket: Socket) -> None:
        self.sockets[socket.channel_id] = socket
        self.listen(socket.channel_id, lambda _channel_id, text: socket.deliver(text))

    def detach(self, channel_id: str) -> None:
        """The socket ended: it gets no more frames and leaves every topic."""
        self.sockets.pop(channel_id, None)
        self.forget(channel_id)

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        socket = self.sockets.get(channel_id)
        if socket is not None:
            socket.close(reason)

    def close_all(self, reason: str) -> None:
        for socket in list(self.sockets.values()):
            socket.close(reason, GOING_AWAY)
