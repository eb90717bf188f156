"""An atomic group of writes to one partition, and Table Storage's rules for one.

await services.database.transact("messages", [
    Insert({"message": "hi"}, partition_key=room, row_key="msg-..."),
    Insert({"userId": "ada"}, partition_key=room, row_key="id-..."),
])

Every operation is written, or none is. Both `Database` implementations check a transaction
here before anything is written, so a transaction that passes in memory cannot be refused
by Azure for breaking one of these rules. They are Microsoft's, from "Performing entity group
transactions" (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions):
    - "All entities subject to operations as part of the transaction must have the same
      PartitionKey value."
    - "An entity can appear only once in the transaction, and only one operation may be
      performed against it."
    - "The transaction can include at most 100 entities, and its total payload may be no
      more than 4 MiB in size."
    - "All entities are subject to the limitations described in Understanding the Table
      Service Data Model" (shared/core/row_rules.py).
One table per transaction is the API's shape (`transact(table, ...)`). An empty transaction
writes nothing and makes no call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shared.core import row_rules as rules
from shared.core.errors import ValidationError

MAX_OPERATIONS = 100
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
# The payload is the $batch request body the SDK sends (azure-data-tables, `_batch_send`:
# one multipart/mixed changeset, a part per operation with its request line and headers,
# then the entity as JSON). We count an upper bound of it, so nothing Azure refuses passes:
# a part's headers and request line at 1 KiB, keys as percent-encoded in the URL and quoted
# in the body, strings as `json.dumps` writes them (ASCII-escaped, as the SDK sends them:
# an emoji is 12 bytes), bytes as base64, and an `@odata.type` annotation for every field.
PART_OVERHEAD = 1024
_ANNOTATION = len('"@odata.type":"Edm.DateTime",')


@dataclass(frozen=True)
class Insert:
    """Create the row; the whole transaction fails with ConflictError when it exists."""

    row: Mapping[str, Any]
    partition_key: str
    row_key: str


@dataclass(frozen=True)
class Upsert:
    """Create the row or replace it whole."""

    row: Mapping[str, Any]
    partition_key: str
    row_key: str


@dataclass(frozen=True)
class Merge:
    """Set the given fields of an existing row (the whole transaction fails with
    NotFoundError when there is none)."""

    row: Mapping[str, Any]
    partition_key: str
    row_key: str


@dataclass(frozen=True)
class Delete:
    """Remove the row; unlike `Database.delete`, a missing row fails the whole transaction
    with NotFoundError, as Table Storage's batch does."""

    partition_key: str
    row_key: str


Operation = Insert | Upsert | Merge | Delete
Kind = Literal["insert", "upsert", "merge", "delete"]
_KINDS: dict[type[Any], Kind] = {
    Insert: "insert",
    Upsert: "upsert",
    Merge: "merge",
    Delete: "delete",
}


@dataclass(frozen=True)
class Checked:
    """An operation as it will be written: `row` is the checked row (None for a delete)."""

    kind: Kind
    partition_key: str
    row_key: str
    row: dict[str, Any] | None


def check(operations: Sequence[Operation]) -> list[Checked]:
    """Each operation checked by the row rules, then the transaction by its own rules."""
    if isinstance(operations, (str, bytes)) or not isinstance(operations, Sequence):
        raise ValidationError("transaction: a list of Insert, Upsert, Merge or Delete")
    if len(operations) > MAX_OPERATIONS:
        raise ValidationError(
            f"transaction: at most {MAX_OPERATIONS} operations, not {len(operations)}"
        )
    checked: list[Checked] = []
    seen: set[str] = set()
    size = 0
    for operation in operations:
        kind = _KINDS.get(type(operation))
        if kind is None:
            raise ValidationError(
                f"transaction: {type(operation).__name__} is not an operation"
                " (Insert, Upsert, Merge or Delete)"
            )
        pk, rk = operation.partition_key, operation.row_key
        if isinstance(operation, Delete):
            rules.keys(pk, rk)
            row = None
        else:
            row = rules.row(operation.row, partition_key=pk, row_key=rk)
        if checked and pk != checked[0].partition_key:
            raise ValidationError(
                f"transaction: every operation is in one partition; {checked[0].partition_key!r}"
                f" and {pk!r} differ"
            )
        if rk in seen:
            raise ValidationError(
                f"transaction: row {rk!r} appears twice; a transaction writes a row once"
            )
        seen.add(rk)
        size += payload_bytes(pk, rk, row)
        checked.append(Checked(kind, pk, rk, row))
    if size > MAX_PAYLOAD_BYTES:
        raise ValidationError(
            f"transaction: about {size} bytes to send; a transaction is at most"
            f" {MAX_PAYLOAD_BYTES} bytes (4 MiB)"
        )
    return checked


def payload_bytes(partition_key: str, row_key: str, row: Mapping[str, Any] | None) -> int:
    """An upper bound of one operation's share of the $batch request body."""
    size = PART_OVERHEAD
    for key in (partition_key, row_key):
        size += 6 * len(key.encode("utf-8"))  # in the URL: a quote doubled, then %-encoded
        size += len(json.dumps(key)) + 16  # in the body: "PartitionKey":"...",
    for name, value in (row or {}).items():
        size += 2 * len(name) + 4 + _ANNOTATION + _json_bytes(value)
    return size


def _json_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(json.dumps(value))
    if isinstance(value, bytes):
        return 2 + 4 * ((len(value) + 2) // 3)
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 22  # an Int64 is sent as a quoted string
    if isinstance(value, uuid.UUID):
        return 38
    return 40  # float, datetime
