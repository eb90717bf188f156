"""`services.database`: rows in Table Storage, newest first by key, so "the last N" is one query.

await services.database.insert("messages", {"message": "hi"}, partition_key=room)
rows = await services.database.latest("messages", room, limit=50)   # oldest .. newest
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Protocol

from azure.core.exceptions import AzureError
from azure.data.tables import EdmType, EntityProperty

from shared.errors import ServiceUnavailableError
from shared.tables import TableStorage

_KEY_SPAN = 10**16  # microseconds: row keys stay 16 digits until the year 2286


def newest_first_key(now_us: int | None = None) -> str:
    """A row key that sorts newer rows first, unique even within one microsecond."""
    now = time.time_ns() // 1000 if now_us is None else now_us
    return f"{_KEY_SPAN - now:016d}-{uuid.uuid4().hex[:12]}"


_INT32 = range(-(2**31), 2**31)


def _entity(row: Mapping[str, Any]) -> dict[str, Any]:
    """Table Storage takes a Python int as Int32; mark larger ones (timestamps) Int64."""
    return {
        k: EntityProperty(v, EdmType.INT64)
        if isinstance(v, int) and not isinstance(v, bool) and v not in _INT32
        else v
        for k, v in row.items()
    }


def _row(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v.value if isinstance(v, EntityProperty) else v
        for k, v in entity.items()
        if k not in ("PartitionKey", "RowKey")
    }


class Database(Protocol):
    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str: ...
    async def latest(self, table: str, partition_key: str, limit: int) -> list[dict[str, Any]]: ...


class TableDatabase:
    def __init__(self, storage: TableStorage) -> None:
        self._storage = storage

    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str:
        key = row_key or newest_first_key()
        client = await self._storage.table(table)
        try:
            await client.create_entity(
                {**_entity(row), "PartitionKey": partition_key, "RowKey": key}
            )
        except AzureError as exc:
            raise ServiceUnavailableError(f"database is unavailable ({table})") from exc
        return key

    async def latest(self, table: str, partition_key: str, limit: int) -> list[dict[str, Any]]:
        client = await self._storage.table(table)
        rows: list[dict[str, Any]] = []
        try:
            pages = client.query_entities(
                "PartitionKey eq @pk", parameters={"pk": partition_key}, results_per_page=limit
            )
            async for entity in pages:
                rows.append(_row(entity))
                if len(rows) >= limit:
                    break
        except AzureError as exc:
            raise ServiceUnavailableError(f"database is unavailable ({table})") from exc
        rows.reverse()
        return rows


class MemoryDatabase:
    def __init__(self) -> None:
        self.tables: defaultdict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)

    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str:
        key = row_key or newest_first_key()
        self.tables[table][(partition_key, key)] = dict(row)
        return key

    async def latest(self, table: str, partition_key: str, limit: int) -> list[dict[str, Any]]:
        keys = sorted(k for k in self.tables[table] if k[0] == partition_key)[:limit]
        return [dict(self.tables[table][k]) for k in reversed(keys)]
