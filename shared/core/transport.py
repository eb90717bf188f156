"""What the runtime needs from the realtime service, in the domain's words.

`WebPubSubTransport` (shared/webpubsub.py) implements it over Azure Web PubSub;
`MemoryTransport` implements it in process for the test harness.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

Jsonable = Any  # a value that json.dumps accepts


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

    async def connection_exists(self, channel_id: str) -> bool:
        """Whether the service still holds this connection open."""


FrameListener = Callable[[str, str], None]


class MemoryTransport:
    """In-process transport: frames are JSON text per connection, topics are sets."""

    def __init__(self) -> None:
        self.topics: defaultdict[str, set[str]] = defaultdict(set)
        self.closed: dict[str, str | None] = {}
        self._listeners: dict[str, FrameListener] = {}
        self.calls: list[tuple[str, ...]] = []

    def listen(self, channel_id: str, listener: FrameListener) -> None:
        self._listeners[channel_id] = listener

    def forget(self, channel_id: str) -> None:
        """The client is gone (closed, refused, or never finished its handshake)."""
        self._listeners.pop(channel_id, None)
        for members in self.topics.values():
            members.discard(channel_id)

    def _deliver(self, channel_id: str, frame: Jsonable) -> None:
        listener = self._listeners.get(channel_id)
        if listener is not None:
            listener(channel_id, json.dumps(frame))

    async def send(self, channel_id: str, frame: Jsonable) -> None:
        self.calls.append(("send", channel_id))
        self._deliver(channel_id, frame)

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        self.calls.append(("close", channel_id))
        self.closed[channel_id] = reason

    async def subscribe(self, topic: str, channel_id: str) -> None:
        self.calls.append(("subscribe", topic, channel_id))
        self.topics[topic].add(channel_id)

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        self.calls.append(("unsubscribe", topic, channel_id))
        self.topics[topic].discard(channel_id)

    async def connection_exists(self, channel_id: str) -> bool:
        return channel_id in self._listeners and channel_id not in self.closed

    async def publish(self, topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        self.calls.append(("publish", topic))
        for channel_id in sorted(self.topics.get(topic, ())):
            if channel_id != exclude:
                self._deliver(channel_id, frame)
