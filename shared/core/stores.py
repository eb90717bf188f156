"""Connection records: the channel, opening data, session and state of each live connection.

The store is the truth, so any instance can serve any event. `MemoryConnectionStore` serves one
process (the test harness, the plain WebSocket server); shared/azure/stores.py keeps them in
Table Storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ConnectionRecord:
    channel_id: str
    channel: str
    opening_data: dict[str, Any]
    session: dict[str, Any] | None = None
    user_id: str | None = None
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: Any = None  # the channel's state (JSON), `channel.set_state`
    pending: tuple[Any, ...] = ()  # frames from on_connect, delivered on `connected`


class ConnectionStore(Protocol):
    async def get(self, channel_id: str) -> ConnectionRecord | None: ...
    async def put(self, record: ConnectionRecord) -> None: ...
    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None: ...
    async def save_state(self, channel_id: str, state: Any) -> None: ...
    async def delete(self, channel_id: str) -> None: ...


class MemoryConnectionStore:
    """In-process store for the test harness (a single process has nothing to share)."""

    def __init__(self) -> None:
        self.records: dict[str, ConnectionRecord] = {}

    async def get(self, channel_id: str) -> ConnectionRecord | None:
        return self.records.get(channel_id)

    async def put(self, record: ConnectionRecord) -> None:
        self.records[record.channel_id] = record

    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None:
        record = self.records.get(channel_id)
        if record is not None:
            self.records[channel_id] = replace(record, session=session)

    async def save_state(self, channel_id: str, state: Any) -> None:
        record = self.records.get(channel_id)
        if record is not None:
            self.records[channel_id] = replace(record, state=state)

    async def delete(self, channel_id: str) -> None:
        self.records.pop(channel_id, None)
