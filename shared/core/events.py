"""Plain event and result objects: what the dispatcher works on, free of any transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class DataType(Enum):
    TEXT = "text"
    JSON = "json"
    BINARY = "binary"


@dataclass(frozen=True)
class ConnectEvent:
    """A client asks to connect: its connection URL's query, before the socket opens."""

    channel_id: str
    query: dict[str, list[str]]
    user_id: str | None = None
    states: dict[str, Any] = field(default_factory=dict)
    expires_at: int | None = None  # when the client's access token expires (epoch seconds)


@dataclass(frozen=True)
class ConnectedEvent:
    """The connection is open (the service ignores the answer)."""

    channel_id: str
    user_id: str | None = None
    states: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageEvent:
    """A frame from the client: its text and how the service typed it."""

    channel_id: str
    data: str | bytes
    data_type: DataType
    user_id: str | None = None
    states: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DisconnectedEvent:
    """The connection closed, for the reason the service gives."""

    channel_id: str
    reason: str | None = None
    user_id: str | None = None
    states: dict[str, Any] = field(default_factory=dict)


Event = ConnectEvent | ConnectedEvent | MessageEvent | DisconnectedEvent


@dataclass(frozen=True)
class Accept:
    """Accept a connection; `states` are kept by the service and come back on later events;
    `topics` are the topics the connection joins as it opens (no call to the service)."""

    user_id: str | None = None
    states: dict[str, Any] = field(default_factory=dict)
    topics: tuple[str, ...] = ()  # subscribed as the connection opens, with no extra call


@dataclass(frozen=True)
class Reject:
    """Refuse a connection: an HTTP-style status (401, 4xx, 5xx) and a message for the client.

    `status` is the app's reason; the client sees `client_status` (see `refused_status`)."""

    status: int
    message: str

    @property
    def client_status(self) -> int:
        return refused_status(self.status)


def refused_status(status: int) -> int:
    """The status a refused client sees for the app's `status`: 401, 400 or 500. Azure Web
    PubSub carries only these three (a connect refusal is `unauthorized`, `userError` or
    `serverError`), so every adapter and the test harness answer the same way: a test that
    passes on 403 would meet 400 in production."""
    if status == 401:
        return 401
    return 500 if status >= 500 else 400


@dataclass(frozen=True)
class Reply:
    """The answer to a message: one JSON frame (None: nothing to send) and states to merge."""

    frame: Any = None
    states: dict[str, Any] = field(default_factory=dict)


Result = Accept | Reject | Reply | None
