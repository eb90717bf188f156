"""`services.database` over Table Storage (one table per name, created on first use).

Rows are checked by shared/core/row_rules.py before they leave the process, exactly as
`MemoryDatabase` checks them, so both refuse the same rows with the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import EdmType, EntityProperty, TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from shared.azure.tables import TableStorage
from shared.core import row_rules as rules
from shared.core import transaction
from shared.core.database import Operation, Page, newest_first_key
from shared.core.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)

_KEYS = ("PartitionKey", "RowKey")


def _entity(row: Mapping[str, Any], partition_key: str, row_key: str) -> dict[str, Any]:
    return _as_entity(
        rules.row(row, partition_key=partition_key, row_key=row_key), partition_key, row_key
    )


def _as_entity(stored: Mapping[str, Any], partition_key: str, row_key: str) -> dict[str, Any]:
    """A checked row as an entity: Table Storage takes a Python int as Int32, so larger ones
    (timestamps in ms) are marked Int64."""
    entity: dict[str, Any] = {
        k: EntityProperty(v, EdmType.INT64) if type(v) is int and v not in rules.INT32 else v
        for k, v in stored.items()
    }
    return {**entity, "PartitionKey": partition_key, "RowKey": row_key}


def _row(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in entity.items() if k not in _KEYS}


def _value(value: Any) -> Any:
    if isinstance(value, EntityProperty):
        return value.value
    if isinstance(value, datetime):  # the SDK's own subclass: give back a plain datetime
        return datetime.combine(value.date(), value.time(), UTC)
    return value


def _sdk_operation(op: transaction.Checked) -> tuple[Any, ...]:
    """One operation as `submit_transaction` takes it."""
    if op.row is None:
        return ("delete", {"PartitionKey": op.partition_key, "RowKey": op.row_key})
    entity = _as_entity(op.row, op.partition_key, op.row_key)
    if op.kind == "insert":
        return ("create", entity)
    if op.kind == "upsert":
        return ("upsert", entity, {"mode": UpdateMode.REPLACE})
    return ("update", entity, {"mode": UpdateMode.MERGE})


def _refused(table: str, exc: HttpResponseError) -> ValidationError:
    # A row the rules let through but the service refused (a merge that makes a row too big).
    return ValidationError(
        f"{table}: Table Storage refused the row ({getattr(exc, 'error_code', exc.status_code)})"
    )


class TableDatabase:
    def __init__(self, storage: TableStorage) -> None:
        self._storage = storage

    async def _run(
        self, table: str, call: Any, expected: tuple[type[BaseException], ...] = ()
    ) -> Any:
        """One call on the table; errors in `expected` are the caller's, a refused row is a
        ValidationError, anything else a 503."""
        try:
            return await self._storage.run(
                rules.table_name(table), call, expected=(HttpResponseError,)
            )
        except HttpResponseError as exc:
            if isinstance(exc, expected):
                raise
            if exc.status_code in (400, 413):
                raise _refused(table, exc) from exc
            raise ServiceUnavailableError(f"database is unavailable ({table})") from exc

    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str:
        key = row_key or newest_first_key()
        entity = _entity(row, partition_key, key)
        try:
            await self._run(table, lambda t: t.create_entity(entity), (ResourceExistsError,))
        except ResourceExistsError as exc:
            raise ConflictError(f"a row with key {key!r} exists in {table}") from exc
        return key

    async def get(self, table: str, partition_key: str, row_key: str) -> dict[str, Any] | None:
        rules.keys(partition_key, row_key)
        try:
            entity = await self._run(
                table, lambda t: t.get_entity(partition_key, row_key), (ResourceNotFoundError,)
            )
        except ResourceNotFoundError:
            return None
        return _row(entity)

    async def upsert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        entity = _entity(row, partition_key, row_key)
        await self._run(table, lambda t: t.upsert_entity(entity, mode=UpdateMode.REPLACE))

    async def merge(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        entity = _entity(row, partition_key, row_key)
        try:
            await self._run(
                table,
                lambda t: t.update_entity(entity, mode=UpdateMode.MERGE),
                (ResourceNotFoundError,),
            )
        except ResourceNotFoundError as exc:
            raise NotFoundError(f"no row with key {row_key!r} in {table}") from exc

    async def delete(self, table: str, partition_key: str, row_key: str) -> None:
        rules.keys(partition_key, row_key)
        await self._run(table, lambda t: t.delete_entity(partition_key, row_key))

    async def transact(self, table: str, operations: Sequence[Operation]) -> None:
        checked = transaction.check(operations)
        if not checked:
            rules.table_name(table)
            return
        batch = [_sdk_operation(op) for op in checked]

        async def submit(client: TableClient) -> None:
            try:
                await client.submit_transaction(batch)  # one $batch request
            except TableTransactionError as exc:
                code = getattr(exc, "error_code", None)
                if code == "TableNotFound":  # as a plain call says it, so `run` makes it again
                    missing = ResourceNotFoundError(exc.message, response=exc.response)
                    missing.error_code = code  # type: ignore[attr-defined]
                    raise missing from exc
                raise

        try:
            await self._run(table, submit, (TableTransactionError,))
        except TableTransactionError as exc:
            # the service names the failed operation by its index ("1:The specified ...")
            index = exc.index if 0 <= exc.index < len(checked) else 0
            row_key = checked[index].row_key
            if exc.status_code == 409:
                raise ConflictError(f"a row with key {row_key!r} exists in {table}") from exc
            if exc.status_code == 404:
                raise NotFoundError(f"no row with key {row_key!r} in {table}") from exc
            if exc.status_code in (400, 413):
                raise _refused(table, exc) from exc
            raise ServiceUnavailableError(f"database is unavailable ({table})") from exc

    async def query(
        self,
        table: str,
        partition_key: str,
        *,
        page_size: int = 100,
        continuation: str | None = None,
        prefix: str = "",
        after: str | None = None,
    ) -> Page:
        rules.query(partition_key, page_size, prefix, after)
        position = rules.decode_continuation(continuation) if continuation else None
        where, parameters = _filter(partition_key, prefix, after)

        async def one_page(client: TableClient) -> Page:
            pages = client.query_entities(
                where, parameters=parameters, results_per_page=page_size
            ).by_page(continuation_token=position)  # type: ignore[arg-type]  # a dict in this SDK
            rows = [_row(entity) async for entity in await pages.__anext__()]
            after = pages.continuation_token  # type: ignore[attr-defined]
            return Page(rows, rules.encode_continuation(after) if after else None)

        result: Page = await self._run(table, one_page)
        return result

    async def latest(
        self,
        table: str,
        partition_key: str,
        limit: int,
        *,
        prefix: str = "",
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        continuation: str | None = None
        while True:  # Table Storage may end a page early: read on until `limit` rows
            page = await self.query(
                table,
                partition_key,
                page_size=limit - len(rows),
                continuation=continuation,
                prefix=prefix,
                after=after,
            )
            rows.extend(page.rows)
            continuation = page.continuation
            if len(rows) >= limit or continuation is None:
                return list(reversed(rows))


def _filter(partition_key: str, prefix: str, after: str | None) -> tuple[str, dict[str, str]]:
    """The query's OData filter; every value is a parameter, quoted by the SDK."""
    where, parameters = "PartitionKey eq @pk", {"pk": partition_key}
    if prefix:
        where += " and RowKey ge @low and RowKey lt @high"
        parameters.update(low=prefix, high=rules.prefix_end(prefix))
    if after is not None:
        where += " and RowKey gt @after"
        parameters["after"] = after
    return where, parameters
