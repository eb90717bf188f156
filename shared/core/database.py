"""`services.database`: rows by partition and key; newest-first keys make "the last N" one query.

await services.database.insert("messages", {"message": "hi"}, partition_key=room)
rows = await services.database.latest("messages", room, limit=50)   # oldest .. newest
page = await services.database.query("messages", room, page_size=100)
more = await services.database.query("messages", room, continuation=page.continuation)
older = await services.database.latest("messages", room, limit=50, prefix="msg-", after=key)
await services.database.transact("messages", [Insert(...), Insert(...)])  # all or nothing

What a row may hold (and every key and table name) is Table Storage's data model, checked
the same way by every implementation: see shared/core/row_rules.py; what a transaction may
hold, shared/core/transaction.py.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.core import row_rules as rules
from shared.core import transaction
from shared.core.errors import ConflictError, NotFoundError
from shared.core.row_rules import Json
from shared.core.transaction import Delete, Insert, Merge, Operation, Upsert

__all__ = [
    "Database",
    "Delete",
    "Insert",
    "Json",
    "MemoryDatabase",
    "Merge",
    "Operation",
    "Page",
    "Upsert",
    "newest_first_key",
]

_KEY_SPAN = 10**16  # microseconds: row keys stay 16 digits until the year 2286


def newest_first_key(now_us: int | None = None, suffix: str | None = None) -> str:
    """A row key that sorts newer rows first; `suffix` (random by default) keeps it unique."""
    now = time.time_ns() // 1000 if now_us is None else now_us
    return f"{_KEY_SPAN - now:016d}-{suffix or uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Page:
    """Rows in key order; `continuation` is None on the last page."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    continuation: str | None = None


class Database(Protocol):
    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str:
        """Create a row (ConflictError when the key is taken); returns its row key."""

    async def get(self, table: str, partition_key: str, row_key: str) -> dict[str, Any] | None:
        """The row, or None."""

    async def upsert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        """Create the row or replace it whole."""

    async def merge(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        """Set the given fields of an existing row, keep the others (NotFoundError if none)."""

    async def delete(self, table: str, partition_key: str, row_key: str) -> None:
        """Remove the row; no error when it is not there."""

    async def transact(self, table: str, operations: Sequence[Operation]) -> None:
        """Write every operation or none, in one call: one partition, at most 100 rows, each
        once, 4 MiB in all (shared/core/transaction.py). An Insert of a row that exists fails
        it all with ConflictError; a Merge or Delete of a missing row, with NotFoundError."""

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
        """One page of a partition's rows in key order: those whose key starts with `prefix`
        and, given `after`, sorts after it. A page may hold fewer rows than `page_size` while
        more follow: only `continuation is None` means the end."""

    async def latest(
        self,
        table: str,
        partition_key: str,
        limit: int,
        *,
        prefix: str = "",
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """The first `limit` rows in key order (the newest, with newest-first keys), returned
        oldest first; `prefix` and `after` as in `query`."""


class MemoryDatabase:
    """In-process rows for the test harness, refusing what Table Storage refuses."""

    def __init__(self) -> None:
        self.tables: defaultdict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)

    def _rows(self, table: str) -> dict[tuple[str, str], dict[str, Any]]:
        return self.tables[rules.table_name(table)]

    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str:
        key = row_key or newest_first_key()
        stored = rules.row(row, partition_key=partition_key, row_key=key)
        rows = self._rows(table)
        if (partition_key, key) in rows:
            raise ConflictError(f"a row with key {key!r} exists in {table}")
        rows[(partition_key, key)] = stored
        return key

    async def get(self, table: str, partition_key: str, row_key: str) -> dict[str, Any] | None:
        rules.keys(partition_key, row_key)
        found = self._rows(table).get((partition_key, row_key))
        return dict(found) if found is not None else None

    async def upsert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        stored = rules.row(row, partition_key=partition_key, row_key=row_key)
        self._rows(table)[(partition_key, row_key)] = stored

    async def merge(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str
    ) -> None:
        changes = rules.row(row, partition_key=partition_key, row_key=row_key)
        rows = self._rows(table)
        current = rows.get((partition_key, row_key))
        if current is None:
            raise NotFoundError(f"no row with key {row_key!r} in {table}")
        merged = {**current, **changes}
        rows[(partition_key, row_key)] = rules.row(
            merged, partition_key=partition_key, row_key=row_key
        )

    async def delete(self, table: str, partition_key: str, row_key: str) -> None:
        rules.keys(partition_key, row_key)
        self._rows(table).pop((partition_key, row_key), None)

    async def transact(self, table: str, operations: Sequence[Operation]) -> None:
        checked = transaction.check(operations)
        rows = self._rows(table)
        for op in checked:  # every condition first: a failure writes nothing
            present = (op.partition_key, op.row_key) in rows
            if op.kind == "insert" and present:
                raise ConflictError(f"a row with key {op.row_key!r} exists in {table}")
            if op.kind in ("merge", "delete") and not present:
                raise NotFoundError(f"no row with key {op.row_key!r} in {table}")
        for op in checked:
            at = (op.partition_key, op.row_key)
            if op.row is None:
                del rows[at]
            elif op.kind == "merge":
                merged = {**rows[at], **op.row}
                rows[at] = rules.row(merged, partition_key=op.partition_key, row_key=op.row_key)
            else:
                rows[at] = op.row

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
        start = rules.decode_continuation(continuation).get("RowKey", "") if continuation else ""
        rows = self._rows(table)
        keys = sorted(
            k
            for (p, k) in rows
            if p == partition_key
            and k >= start
            and k.startswith(prefix)
            and (after is None or k > after)
        )
        page = [dict(rows[(partition_key, k)]) for k in keys[:page_size]]
        rest = keys[page_size:]
        token = rules.encode_continuation({"RowKey": rest[0]}) if rest else None
        return Page(page, token)

    async def latest(
        self,
        table: str,
        partition_key: str,
        limit: int,
        *,
        prefix: str = "",
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        page = await self.query(table, partition_key, page_size=limit, prefix=prefix, after=after)
        return list(reversed(page.rows))
