"""Connection records in Table Storage.

One entity per connection, PartitionKey = the connection id (load spreads across partitions;
point reads stay O(1)).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError

from shared.azure.tables import TableStorage
from shared.core.errors import ServiceUnavailableError
from shared.core.stores import ConnectionRecord

CONNECTIONS_TABLE = "connections"
ROW_KEY = "connection"


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
            check_after=entity.get("CheckAfter"),
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
            "CheckAfter": record.check_after,
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

    async def due_for_check(self, now: datetime) -> AsyncIterator[str]:
        # A scan across partitions, off the message path (the sweep's timer only).
        table = await self._storage.table(self._table)
        try:
            pages = table.query_entities(
                "CheckAfter lt @now", parameters={"now": now}, select=["PartitionKey"]
            )
            async for entity in pages:
                yield entity["PartitionKey"]
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc

    async def checked(self, channel_id: str, next_check: datetime) -> None:
        entity = {"PartitionKey": channel_id, "RowKey": ROW_KEY, "CheckAfter": next_check}
        table = await self._storage.table(self._table)
        try:
            await table.update_entity(entity)  # merge
        except ResourceNotFoundError:
            return  # disconnected meanwhile
        except AzureError as exc:
            raise ServiceUnavailableError("connection store is unavailable") from exc
