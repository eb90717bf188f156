"""The client WebSocket endpoint: `/client?access_token=...&channel=<name>&<opening data>`.

Events as Web PubSub raises them, to the same dispatcher: `connect` before the upgrade (a
refusal is the HTTP answer, with the status and message), `connected` once the socket is
open, one `message` per frame in order, `disconnected` when the socket ends. Connection
states returned by one event are merged into the connection's and come back on every later
event.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from aiohttp import WSMsgType, web

from shared.core.dispatcher import Dispatcher
from shared.core.events import (
    Accept,
    ConnectedEvent,
    ConnectEvent,
    DataType,
    DisconnectedEvent,
    MessageEvent,
    Reject,
    Reply,
)
from shared.local.access import AccessError, ClientTokens
from shared.local.transport import GOING_AWAY, NORMAL_CLOSURE, Socket, SocketTransport, json_states

log = logging.getLogger("channels.local")

CLIENT_PATH = "/client"
MAX_FRAME_BYTES = 1024 * 1024  # Web PubSub's limit for a client frame
HEARTBEAT_SECONDS = 30.0  # ping; a client that does not answer is dropped


def _multi(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in items:
        query.setdefault(key, []).append(value)
    return query


class ClientEndpointRoute:
    def __init__(
        self, dispatcher: Dispatcher, transport: SocketTransport, tokens: ClientTokens
    ) -> None:
        self.dispatcher = dispatcher
        self.transport = transport
        self.tokens = tokens

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=HEARTBEAT_SECONDS)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="expected a WebSocket upgrade request")
        try:
            user_id = self.tokens.verify(request.query.get("access_token"))
        except AccessError as exc:
            return web.Response(status=401, text=str(exc))

        channel_id = secrets.token_urlsafe(16)
        query = _multi(request.query.items())
        result = await self.dispatcher.dispatch(ConnectEvent(channel_id, query, user_id, {}))
        if isinstance(result, Reject):
            return web.Response(status=result.client_status, text=result.message)
        if not isinstance(result, Accept):
            log.error("connect of %s answered %r", channel_id, result)
            return web.Response(status=500, text="internal error")

        socket: Socket | None = None
        states: dict[str, Any] = {}
        try:
            states = json_states(result.states)  # a value JSON cannot hold fails the connect
            user_id = result.user_id or user_id
            await ws.prepare(request)
            socket = Socket(channel_id, ws, user_id=user_id, states=states)
            self.transport.attach(socket)
            if user_id:  # as the service: it knows the user the access token named
                self.transport.users[channel_id] = user_id
            for topic in result.topics:  # the connect response's groups
                await self.transport.subscribe(topic, channel_id)
            await self.dispatcher.dispatch(ConnectedEvent(channel_id, user_id, dict(states)))
            await self._serve(socket)
        except Exception:
            log.exception("connection %s failed", channel_id)
            if socket is None and not ws.prepared:
                return web.Response(status=500, text="internal error")
        finally:
            self.transport.detach(channel_id)  # as the service: it leaves every topic
            reason = _reason(ws, socket)
            last = dict(socket.states if socket is not None else states)
            await self.dispatcher.dispatch(DisconnectedEvent(channel_id, reason, user_id, last))
            if socket is not None:
                await socket.finish()
        return ws

    async def _serve(self, socket: Socket) -> None:
        """Each frame in turn, as one `message` event; its reply goes out behind earlier frames."""
        while True:
            message = await socket.ws.receive()
            if message.type is WSMsgType.TEXT:
                data: str | bytes = message.data
                data_type = DataType.TEXT
            elif message.type is WSMsgType.BINARY:
                data, data_type = message.data, DataType.BINARY  # the dispatcher answers 415
            else:  # CLOSE, CLOSING, CLOSED, ERROR (an oversize frame closes with 1009)
                return
            event = MessageEvent(
                socket.channel_id, data, data_type, socket.user_id, dict(socket.states)
            )
            result = await self.dispatcher.dispatch(event)
            if isinstance(result, Reply):
                socket.merge_states(result.states)
                if result.frame is not None:
                    socket.deliver(json.dumps(result.frame))


def _reason(ws: web.WebSocketResponse, socket: Socket | None) -> str | None:
    """Why the connection ended: the server's close reason, or the client's close code."""
    if socket is not None and socket.close_reason:
        return socket.close_reason
    code = ws.close_code
    if code in (None, NORMAL_CLOSURE, GOING_AWAY):
        return None
    return f"the connection closed with code {code}"
