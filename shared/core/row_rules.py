"""What a row may hold: Table Storage's data model, enforced by every `Database`.

One module, used by `MemoryDatabase` and the Table Storage database alike, so a channel that
passes its in-memory tests cannot fail in Azure for a row Azure refuses. Every limit below is
Microsoft's, from "Understanding the Table service data model"
(https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model).

Allowed values, and what each is stored as:
    str -> Edm.String (at most 32K UTF-16 code units: 64 KiB)
    bool -> Edm.Boolean
    int -> Edm.Int32 when it fits, else Edm.Int64 (outside Int64: refused)
    float -> Edm.Double
    datetime (timezone-aware, from 1601-01-01 UTC) -> Edm.DateTime
    bytes -> Edm.Binary (at most 64 KiB)
    uuid.UUID -> Edm.Guid
    None -> no property (insert/upsert store nothing; merge leaves the stored value)
    Json(value) -> its JSON text, an Edm.String: read back as that text (json.loads it)
A dict, a list or any other type is refused with a message naming the field.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.core.errors import ValidationError

# "Table names": alphanumeric, not starting with a digit, 3 to 63 characters; "tables" reserved.
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
RESERVED_TABLE_NAMES = frozenset({"tables"})
# "Characters disallowed in key fields": / \ # ? and the control characters U+0000-U+001F,
# U+007F-U+009F.
KEY_FORBIDDEN = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
# "PartitionKey property" / "RowKey property": a string of up to 1 KiB (UTF-16: 512 units).
MAX_KEY_BYTES = 1024
# "Property names": case-sensitive, up to 255 characters, following the rules for C#
# identifiers (no dash since 2009-04-14); the system properties' names are reserved.
PROPERTY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
SYSTEM_PROPERTIES = frozenset({"PartitionKey", "RowKey", "Timestamp"})
# "Property limitations": 255 properties of which 3 are the system ones; 1 MiB in all.
MAX_PROPERTIES = 252
MAX_ENTITY_BYTES = 1024 * 1024
# "Property types": Edm.String and Edm.Binary up to 64 KiB; Edm.Int32/Int64 signed 32/64-bit;
# Edm.DateTime from 12:00 midnight, January 1, 1601 A.D. (C.E.), UTC.
MAX_VALUE_BYTES = 64 * 1024
INT32 = range(-(2**31), 2**31)
INT64 = range(-(2**63), 2**63)
MIN_DATETIME = datetime(1601, 1, 1, tzinfo=UTC)
# Query Entities: at most 1,000 entities a response.
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Json:
    """Ask for a dict or list to be stored as its JSON text (read back as that text)."""

    value: Any


Row = Mapping[str, Any]


def table_name(name: str) -> str:
    if not isinstance(name, str) or not TABLE_NAME.fullmatch(name):
        raise ValidationError(
            f"table {name!r}: a table name is 3 to 63 letters and digits, starting with a letter"
        )
    if name.lower() in RESERVED_TABLE_NAMES:
        raise ValidationError(f"table {name!r}: the name is reserved")
    return name


def key(field: str, value: str) -> str:
    """A partition or row key; `field` names it in the error."""
    if not isinstance(value, str):
        raise ValidationError(f"{field}: a key is a string, not {type(value).__name__}")
    if not value:
        raise ValidationError(f"{field}: a key cannot be empty")
    bad = KEY_FORBIDDEN.search(value)
    if bad:
        raise ValidationError(f"{field}: {bad.group()!r} is not allowed in a key")
    if _utf16_bytes(value) > MAX_KEY_BYTES:
        raise ValidationError(f"{field}: a key is at most {MAX_KEY_BYTES} bytes as UTF-16")
    return value


def keys(partition_key: str, row_key: str) -> None:
    """Both keys of a point operation (get, delete), checked as one."""
    key("partition_key", partition_key)
    key("row_key", row_key)


def key_range(prefix: str, after: str | None) -> None:
    """A query's row-key bounds: a prefix (empty: every key) and a key to start after."""
    if prefix != "":
        key("prefix", prefix)
        if prefix[-1] == "\U0010ffff":
            raise ValidationError("prefix: cannot end with U+10FFFF (no key sorts above it)")
    if after is not None:
        key("after", after)


def prefix_end(prefix: str) -> str:
    """The least key above every key that starts with `prefix` (keys compare by character)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def page_size(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(f"page_size: a whole number from 1 to {MAX_PAGE_SIZE}")
    return value


def query(partition_key: str, size: int, prefix: str, after: str | None) -> None:
    """A query's arguments, checked before any row is read (every Database implementation)."""
    key("partition_key", partition_key)
    page_size(size)
    key_range(prefix, after)


def row(values: Row, *, partition_key: str, row_key: str) -> dict[str, Any]:
    """The row as it will be stored (None dropped, Json encoded), or ValidationError."""
    key("partition_key", partition_key)
    key("row_key", row_key)
    if not isinstance(values, Mapping):
        raise ValidationError(f"row: a mapping of field names to values, not {type(values)}")
    stored: dict[str, Any] = {}
    size = 4 + _utf16_bytes(partition_key) + _utf16_bytes(row_key)
    for name, value in values.items():
        _property_name(name)
        if value is None:
            continue
        stored[name] = cell = _value(name, value)
        size += 8 + _utf16_bytes(name) + _value_bytes(cell)
    if len(stored) > MAX_PROPERTIES:
        raise ValidationError(f"row: at most {MAX_PROPERTIES} fields, not {len(stored)}")
    if size > MAX_ENTITY_BYTES:
        raise ValidationError(f"row: {size} bytes; a row is at most {MAX_ENTITY_BYTES} bytes")
    return stored


def _property_name(name: str) -> None:
    if not isinstance(name, str) or not PROPERTY_NAME.fullmatch(name):
        raise ValidationError(
            f"field {name!r}: a field name is 1 to 255 letters, digits and underscores,"
            " not starting with a digit"
        )
    if name in SYSTEM_PROPERTIES:
        raise ValidationError(f"field {name!r}: the name is reserved for the key and timestamp")


def _value(name: str, value: Any) -> Any:
    kind = type(value)
    if isinstance(value, Json):
        try:
            value = json.dumps(value.value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"field {name!r}: Json(...) cannot encode it: {exc}") from exc
        kind = str
    if kind is str:
        if _utf16_bytes(value) > MAX_VALUE_BYTES:
            raise ValidationError(
                f"field {name!r}: a string is at most {MAX_VALUE_BYTES // 2} UTF-16 code units"
            )
        return value
    if kind is bool:
        return value
    if kind is int:
        if value not in INT64:
            raise ValidationError(f"field {name!r}: an integer must fit in 64 bits")
        return value
    if kind is float:
        return value
    if kind is bytes:
        if len(value) > MAX_VALUE_BYTES:
            raise ValidationError(f"field {name!r}: bytes are at most {MAX_VALUE_BYTES} long")
        return value
    if kind is uuid.UUID:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(f"field {name!r}: a datetime needs a timezone")
        utc = value.astimezone(UTC)
        if utc < MIN_DATETIME:
            raise ValidationError(f"field {name!r}: a datetime is from 1601-01-01 UTC on")
        return datetime.combine(utc.date(), utc.time(), UTC)  # a plain datetime, in UTC
    if isinstance(value, (dict, list, tuple, set)):
        raise ValidationError(
            f"field {name!r}: a {kind.__name__} cannot be stored; store its parts as fields,"
            " or wrap it in Json(...) to store its JSON text"
        )
    raise ValidationError(
        f"field {name!r}: {kind.__name__} cannot be stored"
        " (str, int, float, bool, datetime, bytes, UUID or None)"
    )


def _value_bytes(value: Any) -> int:
    """A value's size in Microsoft's entity-size estimate: 4 + (PartitionKey + RowKey) * 2,
    then per property 8 + name * 2 + the value (string: 4 + 2 per UTF-16 unit; binary: 4 +
    length; Int32 4; Int64, Double, DateTime 8; Guid 16; Boolean 1). From "How the size of
    an entity is calculated in Windows Azure table storage" (Microsoft, Avkash Chauhan, 2011,
    learn.microsoft.com/archive/blogs/avkashchauhan/...)."""
    if isinstance(value, str):
        return 4 + _utf16_bytes(value)
    if isinstance(value, bytes):
        return 4 + len(value)
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 4 if value in INT32 else 8
    if isinstance(value, uuid.UUID):
        return 16
    return 8  # float, datetime


def _utf16_bytes(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass"))


def encode_continuation(position: Mapping[str, str]) -> str:
    """An opaque continuation token: where the next page starts."""
    text = json.dumps(dict(position), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_continuation(token: str) -> dict[str, str]:
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, AttributeError) as exc:
        raise ValidationError("continuation: not a token this database gave") from exc
    if not isinstance(position, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in position.items()
    ):
        raise ValidationError("continuation: not a token this database gave")
    return position
