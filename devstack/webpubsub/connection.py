"""One client connection: who it is, what it may do, and its outgoing frames.

A connection outlives its WebSocket when it speaks the reliable protocol: the socket can
drop and a new one can attach within the grace period, and every data message the client
has not acknowledged is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .inbox import Inbox
from .messages import Outgoing

log = logging.getLogger(__name__)

JSON_PROTOCOL = "json.webpubsub.azure.v1"
RELIABLE_PROTOCOL = "json.reliable.webpubsub.azure.v1"
KNOWN_PROTOCOLS = (RELIABLE_PROTOCOL, JSON_PROTOCOL)

SEND_TO_GROUP = "sendToGroup"
JOIN_LEAVE_GROUP = "joinLeaveGroup"
PERMISSIONS = (SEND_TO_GROUP, JOIN_LEAVE_GROUP)
FINISH_WRITING_SECONDS = 1.0


class ConnectionState(enum.Enum):
    CONNECTED = "connected"  # a WebSocket is attached
    DETACHED = "detached"  # reliable only: the socket dropped, waiting for recovery
    CLOSED = "closed"  # gone; `disconnected` has been raised


@dataclass(frozen=True)
class CloseFrame:
    code: int
    reason: str


class _Wake:
    """Queued after an urgent frame, so that a waiting writer looks at the urgent ones."""


Frame = str | bytes | CloseFrame | _Wake


@dataclass
class Attachment:
    """The socket currently carrying a connection, and the task writing to it.

    Urgent frames (pongs) are written before anything queued; the rest keeps its order.
    """

    request: web.Request
    ws: web.WebSocketResponse
    queue: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    urgent: deque[str] = field(default_factory=deque)
    writer: asyncio.Task[None] | None = None

    def put_urgent(self, frame: str) -> None:
        self.urgent.append(frame)
        self.queue.put_nowait(_Wake())


class Connection:
    def __init__(
        self,
        *,
        connection_id: str,
        hub: str,
        user_id: str | None,
        subprotocol: str | None,
        roles: set[str],
        claims: dict[str, Any],
        states: str | None = None,
        reconnection_token: str | None = None,
        max_unacked: int = 10_000,
    ) -> None:
        self.id = connection_id
        self.hub = hub
        self.user_id = user_id
        self.subprotocol = subprotocol
        self.roles = roles
        self.claims = claims
        self.states = states
        self.reconnection_token = reconnection_token
        self.max_unacked = max_unacked
        self.groups: set[str] = set()
        self.state = ConnectionState.CONNECTED
        self.ack_ids: set[int] = set()
        self.next_sequence_id = 1
        self.unacked: deque[tuple[int, str]] = deque()
        self.attachment: Attachment | None = None
        self.grace_timer: asyncio.TimerHandle | None = None
        self.connected_event: asyncio.Task[None] | None = None
        self.inbox = Inbox(connection_id)

    @property
    def is_json(self) -> bool:
        return self.subprotocol in KNOWN_PROTOCOLS

    @property
    def is_reliable(self) -> bool:
        return self.subprotocol == RELIABLE_PROTOCOL

    # -- permissions ------------------------------------------------------------------

    def can(self, permission: str, group: str) -> bool:
        prefix = f"webpubsub.{permission}"
        return prefix in self.roles or f"{prefix}.{group}" in self.roles

    # -- sockets ----------------------------------------------------------------------

    def attach(self, request: web.Request, ws: web.WebSocketResponse, first: list[str]) -> None:
        """Write to `ws` from now on: `first` frames, then every un-acked message, then new ones."""
        self.detach()
        attachment = Attachment(request, ws)
        for frame in first:
            attachment.queue.put_nowait(frame)
        for _, frame in self.unacked:
            attachment.queue.put_nowait(frame)
        attachment.writer = asyncio.create_task(_write(attachment), name=f"wps-writer-{self.id}")
        self.attachment = attachment
        self.state = ConnectionState.CONNECTED
        if self.grace_timer is not None:
            self.grace_timer.cancel()
            self.grace_timer = None

    async def finish_writing(self) -> None:
        """Let the writer send what is queued (a server close ends with a close frame)."""
        writer = self.attachment.writer if self.attachment is not None else None
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(writer), FINISH_WRITING_SECONDS)

    def detach(self, *, abort: bool = True) -> None:
        attachment, self.attachment = self.attachment, None
        if attachment is None:
            return
        if attachment.writer is not None and not attachment.writer.done():
            attachment.writer.cancel()
        if abort and not attachment.ws.closed:
            # The old socket is stale (a half-open TCP connection): cut it.
            transport = attachment.request.transport
            if transport is not None:
                transport.abort()
        if self.state is ConnectionState.CONNECTED:
            self.state = ConnectionState.DETACHED

    def drop_socket(self) -> bool:
        """Cut the TCP connection without a close frame, as a network failure would."""
        if self.attachment is None or self.attachment.request.transport is None:
            return False
        self.attachment.request.transport.abort()
        return True

    # -- outgoing ---------------------------------------------------------------------

    def send_control(self, frame: str, *, urgent: bool = False) -> None:
        """A frame outside the message sequence (acks, system messages; urgent: pongs)."""
        if self.attachment is None:
            return
        if urgent:
            self.attachment.put_urgent(frame)
        else:
            self.attachment.queue.put_nowait(frame)

    def deliver(self, message: Outgoing) -> bool:
        """Queue a data message; False when a reliable connection holds too many un-acked."""
        if self.state is ConnectionState.CLOSED:
            return True
        frame: str | bytes
        if self.is_reliable:
            sequence_id = self.next_sequence_id
            self.next_sequence_id += 1
            text = message.sequenced(sequence_id)
            self.unacked.append((sequence_id, text))
            frame = text
        elif self.is_json:
            frame = message.envelope
        else:
            frame = message.simple_frame
        if self.attachment is not None:
            self.attachment.queue.put_nowait(frame)
        return len(self.unacked) <= self.max_unacked

    def acknowledge(self, sequence_id: int) -> None:
        while self.unacked and self.unacked[0][0] <= sequence_id:
            self.unacked.popleft()

    def close_socket(self, code: int, reason: str, final_frame: str | None = None) -> None:
        """Send `final_frame` (if any) after what is queued, then close the socket."""
        if self.attachment is None:
            return
        if final_frame is not None:
            self.attachment.queue.put_nowait(final_frame)
        self.attachment.queue.put_nowait(CloseFrame(code, reason))


async def _write(attachment: Attachment) -> None:
    ws = attachment.ws
    try:
        while True:
            urgent = attachment.urgent
            frame = urgent.popleft() if urgent else await attachment.queue.get()
            if isinstance(frame, _Wake):
                continue
            if isinstance(frame, CloseFrame):
                # A close reason is at most 123 bytes.
                reason = frame.reason.encode()[:123]
                with contextlib.suppress(Exception):
                    await ws.close(code=frame.code, message=reason)
                return
            if ws.closed:
                return
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the socket went away; the reader notices and cleans up
        log.debug("writer stopped: %s", exc)
