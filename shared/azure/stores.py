"""Connection records in Table Storage.

One entity per connection, PartitionKey = the connection id (load spreads across partitions;
point reads stay O(1)). Every call is bounded and survives a missing table (TableStorage.run).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.azure.tables import TableStorage
from shared.core.errors import ServiceUnavailableError
from shared.core.stores import ConnectionRecord, session_end

CONNECTIONS_TABLE = "connections"
ROW_KEY = "connection"


class TableConnectionStore:
    def __init__(self, storage: TableStorage, table: str = CONNECTIONS_TABLE) -> None:
        self._storage = storage
        self._table = table

    async def get(self, channel_id: str) -> ConnectionRecord | None:
        try:
            entity = await self._storage.run(
                self._table,
                lambda t: t.get_entity(channel_id, ROW_KEY),
                expected=(ResourceNotFoundError,),
            )
        except ResourceNotFoundError:
            return None
        session = entity.get("Session")
        state = entity.get("State")
        pending = entity.get("Pending")
        return ConnectionRecord(
            channel_id=channel_id,
            channel=entity["Channel"],
            opening_data=json.loads(entity["OpeningData"]),
            session=json.loads(session) if session else None,
            user_id=entity.get("UserId") or None,
            connected_at=entity["ConnectedAt"],
            state=json.loads(state) if state else None,
            pending=tuple(json.loads(pending)) if pending else (),
            check_after=entity.get("CheckAfter"),
        )

    async def put(self, record: ConnectionRecord) -> None:
        entity: dict[str, Any] = {
            "PartitionKey": record.channel_id,
            "RowKey": ROW_KEY,
            "Channel": record.channel,
            "OpeningData": json.dumps(record.opening_data),
            "Session": _json_or_empty(record.session),
            "UserId": record.user_id or "",
            "ConnectedAt": record.connected_at,
            "State": _json_or_empty(record.state),
            "Pending": json.dumps(list(record.pending)) if record.pending else "",
            "CheckAfter": record.check_after,
        }
        await self._storage.run(self._table, lambda t: t.upsert_entity(entity))

    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None:
        ends = session_end(session)  # the sweep looks again when the session runs out
        await self._merge(
            channel_id, Session=_json_or_empty(session), **({"CheckAfter": ends} if ends else {})
        )

    async def save_state(self, channel_id: str, state: Any) -> None:
        await self._merge(channel_id, State=_json_or_empty(state))

    async def _merge(self, channel_id: str, **values: Any) -> None:
        entity = {"PartitionKey": channel_id, "RowKey": ROW_KEY, **values}
        try:
            await self._storage.run(  # merge: opening data stays as it is
                self._table,
                lambda t: t.update_entity(entity, mode=UpdateMode.MERGE),
                expected=(ResourceNotFoundError,),
            )
        except ResourceNotFoundError:
            return  # the connection is gone; nothing to keep

    async def delete(self, channel_id: str) -> None:
        # no error when already gone
        await self._storage.run(self._table, lambda t: t.delete_entity(channel_id, ROW_KEY))

    async def due_for_check(self, now: datetime) -> AsyncIterator[str]:
        # A scan across partitions, off the message path (the sweep's timer only): it streams
        # page by page, so it is not bounded as one call.
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
        try:
            await self._storage.run(
                self._table,
                lambda t: t.update_entity(entity, mode=UpdateMode.MERGE),
                expected=(ResourceNotFoundError,),
            )
        except ResourceNotFoundError:
            return  # disconnected meanwhile


def _json_or_empty(value: Any) -> str:
    """JSON text; "" for None (a JSON null would read back as None too, but costs a parse)."""
    return json.dumps(value) if value is not None else ""
