"""The channel client runtime: negotiate, WebSocket, correlated calls, pushed frames, reconnect.

Copied as is by `python -m shared.core.codegen`; the generated modules add the typed models.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

JSON_PROTOCOL = "json.webpubsub.azure.v1"


class ChannelCallError(Exception):
    """An error frame `{action?, id?, error, errorName, status}` as a failed call sees it."""

    def __init__(self, message: str, error_name: str, status: int, action: str | None = None):
        super().__init__(message)
        self.message = message
        self.error_name = error_name
        self.status = status
        self.action = action

    @classmethod
    def from_frame(cls, frame: Mapping[str, Any]) -> ChannelCallError:
        action = frame.get("action")
        return cls(
            str(frame["error"]),
            str(frame["errorName"]),
            int(frame["status"]),
            action if isinstance(action, str) else None,
        )


def is_error_frame(frame: Any) -> bool:
    return (
        isinstance(frame, dict)
        and isinstance(frame.get("error"), str)
        and isinstance(frame.get("errorName"), str)
        and isinstance(frame.get("status"), int)
    )


@dataclass(frozen=True)
class PushMatcher:
    """How a pushed frame is recognised: constant fields first, else required fields."""

    name: str
    consts: Mapping[str, Any]
    required: Sequence[str]

    def matches(self, frame: Mapping[str, Any]) -> bool:
        if self.consts:
            return all(frame.get(k) == v for k, v in self.consts.items())
        return bool(self.required) and all(k in frame for k in self.required)


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    negotiate: str
    routing_keys: Sequence[str]
    pushes: Sequence[PushMatcher]
    on_connect: str | None  # the push the server sends as a connection opens


@dataclass
class ConnectOptions:
    """`token` goes as `Authorization: Bearer` on every negotiate: every (re)connection is
    authenticated. `protocol`: "plain" JSON text frames, or Web PubSub's JSON subprotocol."""

    token: str | None = None
    protocol: str = "plain"
    reconnect: bool = True
    min_delay: float = 0.25
    max_delay: float = 10.0
    timeout: float = 30.0


async def request_json(
    http: aiohttp.ClientSession, method: str, url: str, body: Any, token: str | None
) -> Any:
    """JSON in and out of an HTTP route; `ChannelCallError` on an error answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = None if method == "GET" else body
    async with http.request(method, url, json=payload, headers=headers) as response:
        text = await response.text()
        parsed = json.loads(text) if text else None
        if response.status >= 400:
            raise _http_error(parsed, url, response.status)
        return parsed


def _http_error(body: Any, url: str, status: int) -> ChannelCallError:
    if is_error_frame(body):
        return ChannelCallError.from_frame(body)
    return ChannelCallError(f"{url} answered {status}", "HttpError", status)


Handler = Callable[[Any], Any]


@dataclass
class Connection:
    """One channel connection; survives drops by renegotiating (with the token) and reopening."""

    base_url: str
    spec: ChannelSpec
    opening_data: Mapping[str, Any]
    options: ConnectOptions
    http: aiohttp.ClientSession
    connect_frame: dict[str, Any] | None = field(default=None, init=False)
    _socket: ClientConnection | None = field(default=None, init=False)
    _pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict, init=False)
    _handlers: dict[str, list[Handler]] = field(default_factory=dict, init=False)
    _reader: asyncio.Task[None] | None = field(default=None, init=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _closed_by_user: bool = field(default=False, init=False)

    async def open(self) -> None:
        """Negotiate, open the socket, wait for the on_connect frame."""
        self._closed_by_user = False
        socket, _ = await self._connect_once()
        # The first welcome is `connect_frame`; a reconnection's welcome is also an event.
        self._reader = asyncio.create_task(self._run(socket, []))

    async def _connect_once(self) -> tuple[ClientConnection, list[Any]]:
        query = {"channel": self.spec.name}
        query.update({k: str(v) for k, v in self.opening_data.items() if v is not None})
        url = self.base_url.rstrip("/") + self.spec.negotiate
        async with self.http.get(url, params=query, headers=self._auth()) as response:
            info = await response.json(content_type=None)
            if response.status >= 400:
                raise _http_error(info, url, response.status)
        json_protocol = self.options.protocol == JSON_PROTOCOL
        socket = await ws_connect(
            info["url"],
            subprotocols=[JSON_PROTOCOL] if json_protocol else None,  # type: ignore[list-item]
        )
        first: list[Any] = []
        if self.spec.on_connect is not None:  # wait for the welcome: nothing may overtake it
            while True:
                frame = self._unwrap(await asyncio.wait_for(socket.recv(), self.options.timeout))
                if frame is None:
                    continue
                if is_error_frame(frame):
                    await socket.close()
                    raise ChannelCallError.from_frame(frame)
                self.connect_frame = frame if isinstance(frame, dict) else None
                first.append(frame)
                break
        self._socket = socket
        self._ready.set()
        return socket, first

    def _auth(self) -> dict[str, str]:
        token = self.options.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _unwrap(self, raw: str | bytes) -> Any:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        if self.options.protocol != JSON_PROTOCOL:
            return parsed
        if not isinstance(parsed, dict) or parsed.get("type") != "message":
            return None  # system and ack envelopes
        data = parsed.get("data")
        return data if parsed.get("dataType") == "json" else json.loads(str(data))

    async def _run(self, socket: ClientConnection, first: list[Any]) -> None:
        """Read frames; on a drop, fail the calls in flight and reconnect with backoff."""
        attempt = 0
        while True:
            for frame in first:
                self._receive(frame)
            with contextlib.suppress(Exception):
                async for raw in socket:
                    frame = self._unwrap(raw)
                    if frame is not None:
                        self._receive(frame)
            self._ready.clear()
            self._socket = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        ChannelCallError(
                            "the connection closed before the reply", "ConnectionClosed", 503
                        )
                    )
            self._pending.clear()
            if self._closed_by_user or not self.options.reconnect:
                return
            while True:
                await asyncio.sleep(
                    min(self.options.min_delay * 2**attempt, self.options.max_delay)
                )
                attempt += 1
                self._emit("reconnecting", {"attempt": attempt})
                try:
                    socket, first = await self._connect_once()
                except Exception:  # noqa: S112 - the next attempt, later, is the handling
                    continue
                attempt = 0
                self._emit("reconnected", {})
                break

    def _receive(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            self._emit("frame", frame)
            return
        correlation = frame.get("id")
        routed = is_error_frame(frame) or any(key in frame for key in self.spec.routing_keys)
        future = self._pending.pop(str(correlation), None) if routed and correlation else None
        if future is not None:
            if not future.done():
                if is_error_frame(frame):
                    future.set_exception(ChannelCallError.from_frame(frame))
                else:
                    future.set_result(frame)
            return
        if is_error_frame(frame):
            self._emit("error", frame)
            return
        push = next((m for m in self.spec.pushes if m.matches(frame)), None)
        self._emit(push.name if push else "frame", frame)

    def _emit(self, name: str, frame: Any) -> None:
        for handler in list(self._handlers.get(name, ())):
            handler(frame)

    def on(self, name: str, handler: Handler) -> Callable[[], None]:
        """Call `handler` for each pushed frame named `name`; returns the unsubscribe function."""
        self._handlers.setdefault(name, []).append(handler)
        return lambda: self._handlers[name].remove(handler)

    async def call(self, key: str, action: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Send `{key: action, "id": ..., **data}`; the reply frame that echoes the `id`.

        The id is unique (an action may use it, as sendMessage's idempotency key), or the one
        `data` carries: a retry of a failed call sends the same id again.
        """
        await asyncio.wait_for(self._ready.wait(), self.options.timeout)
        given = data.get("id")
        correlation = given if isinstance(given, str | int) else uuid.uuid4().hex
        if str(correlation) in self._pending:
            raise ChannelCallError(f"a call with id {correlation!r} is in flight", "Conflict", 409)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[str(correlation)] = future
        try:
            await self.send({**data, key: action, "id": correlation})
            return await asyncio.wait_for(future, self.options.timeout)
        finally:
            self._pending.pop(str(correlation), None)

    async def send(self, frame: Any) -> None:
        """Send a frame as is (an unrouted channel's message); its reply comes as a `frame`."""
        if self._socket is None:
            raise ChannelCallError("not connected", "ConnectionClosed", 503)
        if self.options.protocol == JSON_PROTOCOL:
            frame = {"type": "event", "event": "message", "dataType": "json", "data": frame}
        await self._socket.send(json.dumps(frame))

    async def drop(self) -> None:
        """Close the socket without closing the connection: it reconnects (for tests)."""
        if self._socket is not None:
            await self._socket.close(4000, "dropped")

    async def close(self) -> None:
        self._closed_by_user = True
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
