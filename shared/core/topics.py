"""Typed topics: a topic declares the payload its publishes carry.

    room_topic = Topic("room:{room}", RoomMessage)
    await services.event_hub.subscribe(room_topic(room="general"), channel_id)
    await services.event_hub.publish(room_topic(room="general"), None, RoomMessage(...))

`room_topic(room=...)` is the topic's name, a plain `str` that remembers its payload type, so
the event hub checks every publish to it (a mismatch fails under the test harness; in
production it is logged and sent).
"""

from __future__ import annotations

import string
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

PayloadT = TypeVar("PayloadT")


class TopicName(str):
    """A topic's name that carries its payload type."""

    payload: TypeAdapter[Any]

    def __new__(cls, name: str, payload: TypeAdapter[Any]) -> TopicName:
        made = super().__new__(cls, name)
        made.payload = payload
        return made


class Topic(Generic[PayloadT]):
    def __init__(self, pattern: str, payload: type[PayloadT]) -> None:
        self.pattern = pattern
        self.fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f]
        self.adapter: TypeAdapter[Any] = TypeAdapter(payload)

    def __call__(self, **parts: str) -> TopicName:
        missing = [f for f in self.fields if f not in parts]
        if missing:
            raise TypeError(f"topic {self.pattern!r} needs {', '.join(missing)}")
        return TopicName(self.pattern.format(**parts), self.adapter)


def payload_adapter(topic: str) -> TypeAdapter[Any] | None:
    """The payload type a topic name declares; None for a plain string."""
    return topic.payload if isinstance(topic, TopicName) else None
