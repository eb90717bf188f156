"""`services.database`: rows by partition and key; newest-first keys make "the last N" one query.

await services.database.insert("messages", {"message": "hi"}, partition_key=room)
rows = await services.database.latest("messages", room, limit=50)   # oldest .. newest
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Protocol

_KEY_SPAN = 10**16  # microseconds: row keys stay 16 digits until the year 2286


def newest_first_key(now_us: int | None = None) -> str:
    """A row key that sorts newer rows first, unique even within one microsecond."""
    now = time.time_ns() // 1000 if now_us is None else now_us
    return f"{_KEY_SPAN - now:016d}-{uuid.uuid4().hex[:12]}"


class Database(Protocol):
    async def insert(
        self, table: str, row: Mapping[str, Any], *, partition_key: str, row_key: str | None = None
    ) -> str: ...
    async def latest(self, table: str, partition_key: str, limit: int) -> list[dict[str, Any]]: ...


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
