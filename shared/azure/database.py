"""`services.database` over Table Storage (one table per name, created on first use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import AzureError
from azure.data.tables import EdmType, EntityProperty

from shared.azure.tables import TableStorage
from shared.core.database import newest_first_key
from shared.core.errors import ServiceUnavailableError

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
