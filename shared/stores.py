"""Connection records: the channel, opening data and session of each live connection.

Table Storage is the truth, so any instance can serve any event. One entity per connection,
PartitionKey = the connection id (load spreads across partitions; point reads stay O(1)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from azure.core.exceptions import AzureError, ResourceNotFoundError

from shared.errors import ServiceUnavailableError
from shared.tables import TableStorage

CONNECTIONS_TABLE = "connections"
ROW_KEY = "connection"


@dataclass(frozen=True)
class ConnectionRecord:
    channel_id: str
    channel: str
    opening_data: dict[str, Any]
    session: dict[str, Any] | None = None
    user_id: str | None = None
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class ConnectionStore(Protocol):
    async def get(self, channel_id: str) -> ConnectionRecord | None: ...
    async def put(self, record: ConnectionRecord) -> None: ...
    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None: ...
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

    async def delete(self, channel_id: str) -> None:
        self.records.pop(channel_id, None)


class TableConnectionStore:
    def __init__(self, storage: TableStorage, table: str = CONNECTIONS_TABLE) -> None:
        self._storage = storage
        self._table = table

    async def get(self, channel_id: str) -> ConnectionRecord | None:
        table = await self._storage.table(self._table)
        try:
            entity = await table.get_entity(channel_id, ROW_KEY)
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc
        session = entity.get("Session")
        return ConnectionRecord(
            channel_id=channel_id,
            channel=entity["Channel"],
            opening_data=json.loads(entity["OpeningData"]),
            session=json.loads(session) if session else None,
            user_id=entity.get("UserId") or None,
            connected_at=entity["ConnectedAt"],
        )

    async def put(self, record: ConnectionRecord) -> None:
        entity: dict[str, Any] = {
            "PartitionKey": record.channel_id,
            "RowKey": ROW_KEY,
            "Channel": record.channel,
            "OpeningData": json.dumps(record.opening_data),
            "Session": json.dumps(record.session) if record.session is not None else "",
            "UserId": record.user_id or "",
            "ConnectedAt": record.connected_at,
        }
        table = await self._storage.table(self._table)
        try:
            await table.upsert_entity(entity)
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc

    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None:
        entity = {
            "PartitionKey": channel_id,
            "RowKey": ROW_KEY,
            "Session": json.dumps(session) if session is not None else "",
        }
        table = await self._storage.table(self._table)
        try:
            await table.update_entity(entity)  # merge: opening data stays as it is
        except ResourceNotFoundError:
            return  # the connection is gone; nothing to keep
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc

    async def delete(self, channel_id: str) -> None:
        table = await self._storage.table(self._table)
        try:
            await table.delete_entity(channel_id, ROW_KEY)  # no error when already gone
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc
