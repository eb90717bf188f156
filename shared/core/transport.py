"""What the runtime needs from the realtime service, in the domain's words.

`WebPubSubTransport` (shared/azure/webpubsub.py) implements it over Azure Web PubSub;
`MemoryTransport` implements it in process, for the test harness and (under its sockets)
the plain WebSocket server in shared/local.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from shared.core.errors import NotFoundError

Jsonable = Any  # a value that json.dumps accepts


@dataclass(frozen=True)
class Subscriber:
    """One connection subscribed to a topic, as the realtime service knows it."""

    channel_id: str
    user_id: str | None  # None when the service does not know the user (authenticated later)


class Transport(Protocol):
    async def send(self, channel_id: str, frame: Jsonable) -> None:
        """Send one JSON frame to one connection."""

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        """Close one connection."""

    async def subscribe(self, topic: str, channel_id: str) -> None:
        """Add a connection to a topic's subscribers."""

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        """Remove a connection from a topic's subscribers."""

    async def publish(self, topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        """Send one JSON frame to every subscriber of a topic but `exclude`: one call."""

    async def subscribers(self, topic: str) -> list[Subscriber]:
        """The connections subscribed to a topic now (the service's own list)."""

    async def connection_exists(self, channel_id: str) -> bool:
        """Whether the service still holds this connection open."""


FrameListener = Callable[[str, str], None]
CloseListener = Callable[[str | None], None]


class MemoryTransport:
    """In-process transport: an open connection is a listener of JSON text; topics are sets.

    As strict as the service: a connection that is not open cannot join a topic (Web PubSub
    answers 404), while a frame for one that has gone is dropped (Web PubSub answers 202).
    """

    def __init__(self) -> None:
        self.topics: defaultdict[str, set[str]] = defaultdict(set)
        self.users: dict[str, str] = {}  # channel id -> the user id the connection opened with
        self.closed: dict[str, str | None] = {}
        self._listeners: dict[str, FrameListener] = {}
        self._closers: dict[str, CloseListener] = {}
        self._joined: defaultdict[str, set[str]] = defaultdict(set)  # topics of each connection

    def listen(
        self, channel_id: str, listener: FrameListener, on_close: CloseListener | None = None
    ) -> None:
        """Frames for `channel_id` go to `listener`; `on_close` hears the service close it
        (the service then sends the connection's `disconnected` event, as Web PubSub does)."""
        self._listeners[channel_id] = listener
        if on_close is not None:
            self._closers[channel_id] = on_close

    def forget(self, channel_id: str) -> None:
        """The client is gone (closed, refused, or never finished its handshake): no more
        frames, and it leaves every topic."""
        self._listeners.pop(channel_id, None)
        self._closers.pop(channel_id, None)
        self.users.pop(channel_id, None)
        for topic in self._joined.pop(channel_id, ()):
            self._leave(topic, channel_id)

    async def send(self, channel_id: str, frame: Jsonable) -> None:
        listener = self._listeners.get(channel_id)
        if listener is not None:
            listener(channel_id, json.dumps(frame))

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        self.closed[channel_id] = reason
        on_close = self._closers.pop(channel_id, None)
        if on_close is not None:
            on_close(reason)

    async def subscribe(self, topic: str, channel_id: str) -> None:
        if channel_id not in self._listeners:
            raise NotFoundError(f"connection {channel_id} is not open: it cannot join {topic!r}")
        self.topics[topic].add(channel_id)
        self._joined[channel_id].add(topic)

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        joined = self._joined.get(channel_id)
        if joined is not None:
            joined.discard(topic)
        self._leave(topic, channel_id)

    def _leave(self, topic: str, channel_id: str) -> None:
        members = self.topics.get(topic)
        if members is not None:
            members.discard(channel_id)
            if not members:
                del self.topics[topic]  # an empty topic costs nothing

    async def connection_exists(self, channel_id: str) -> bool:
        return channel_id in self._listeners and channel_id not in self.closed

    async def publish(self, topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        text: str | None = None  # serialized once, for every subscriber
        for channel_id in tuple(self.topics.get(topic, ())):
            listener = self._listeners.get(channel_id)
            if channel_id != exclude and listener is not None:
                text = json.dumps(frame) if text is None else text
                listener(channel_id, text)

    async def subscribers(self, topic: str) -> list[Subscriber]:
        return [Subscriber(c, self.users.get(c)) for c in sorted(self.topics.get(topic, ()))]
