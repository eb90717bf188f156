"""Every database rule as a case, run on MemoryDatabase (tests/unit) and on the Table Storage
database against Azurite (tests/azurite), expecting the same outcome from both.

`azurite` says what Azurite does with the same row sent through the SDK with no rules of
ours in front: ENFORCED (the SDK or Azurite refuses it too) or a sentence saying why we
refuse what it takes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from shared.core.database import Database, Delete, Insert, Merge, Operation, Upsert
from shared.core.errors import ChannelError
from shared.core.row_rules import Json

ENFORCED = "enforced"
AZURE_ONLY = "Azurite does not check this; Azure's data model refuses it"

EMOJI = "\U0001f600"  # two UTF-16 code units


@dataclass(frozen=True)
class Case:
    name: str
    row: dict[str, Any] = field(default_factory=lambda: {"message": "hi"})
    table: str = "rules"
    partition_key: str = "p"
    row_key: str = "r"
    refused: str | None = None  # a part of the ValidationError's message; None: accepted
    reads_back: dict[str, Any] | None = None  # what get returns (the row itself by default)
    azurite: str | None = None  # for refused rows: what Azurite does with it (see above)
    raw_row: dict[str, Any] | None = None  # what the raw SDK sends, when not `row`

    def __str__(self) -> str:
        return self.name


async def outcome(db: Database, case: Case) -> tuple[str, Any]:
    """What a channel sees: the row read back, or the error's name, status and message."""
    try:
        # a clean slate where the keys are valid (Azurite lives for the whole run); an invalid
        # key or table name is refused here exactly as insert would refuse it
        await db.delete(case.table, case.partition_key, case.row_key)
        await db.insert(
            case.table, case.row, partition_key=case.partition_key, row_key=case.row_key
        )
        return ("stored", await db.get(case.table, case.partition_key, case.row_key))
    except ChannelError as exc:
        return (exc.name, (exc.status, exc.message))


def check(case: Case, seen: tuple[str, Any]) -> None:
    """The outcome the case states: the row read back, or a 422 whose message says why."""
    if case.refused is None:
        assert seen == ("stored", case.reads_back if case.reads_back is not None else case.row)
    else:
        name, (status, message) = seen
        assert (name, status) == ("ValidationError", 422)
        assert case.refused in message


def _keys() -> list[Case]:
    cases = [
        Case(
            f"{label} in a partition key is refused",
            partition_key=f"a{char}b",
            refused=f"partition_key: {char!r} is not allowed in a key",
            azurite=ENFORCED,
        )
        for label, char in [
            ("slash", "/"),
            ("backslash", "\\"),
            ("hash", "#"),
            ("question mark", "?"),
            ("NUL", "\x00"),
            ("tab", "\t"),
            ("U+001F", "\x1f"),
            ("DEL", "\x7f"),
            ("U+009F", "\x9f"),
        ]
    ]
    cases += [
        Case(
            "a newline in a row key is refused",
            row_key="a\nb",
            refused="row_key: '\\n' is not allowed in a key",
            azurite=ENFORCED,
        ),
        Case("U+00A0 in a key is allowed", partition_key="a\xa0b"),
        Case("a key of 512 UTF-16 units is allowed", partition_key="k" * 512),
        Case(
            "a key of 513 UTF-16 units is refused",
            partition_key="k" * 513,
            refused="partition_key: a key is at most 1024 bytes as UTF-16",
            azurite=ENFORCED,
        ),
        Case("a key of 256 emoji (512 units) is allowed", row_key=EMOJI * 256),
        Case(
            "a key of 257 emoji (514 units) is refused",
            row_key=EMOJI * 257,
            refused="row_key: a key is at most 1024 bytes as UTF-16",
            azurite=ENFORCED,
        ),
        Case(
            "an empty key is refused",
            row_key="",
            refused="row_key: a key cannot be empty",
            azurite="Azure and Azurite take an empty key; we refuse it (an empty room or id"
            " is a bug, and `insert` makes a key when none is given)",
        ),
    ]
    return cases


def _table_names() -> list[Case]:
    bad = {
        "two letters": "ab",
        "a leading digit": "1abc",
        "64 characters": "a" * 64,
        "an underscore": "my_table",
        "a dash": "my-table",
    }
    cases = [
        Case(
            f"a table name with {label} is refused",
            table=name,
            refused=f"table {name!r}: a table name is 3 to 63 letters and digits,"
            " starting with a letter",
            azurite=ENFORCED,
        )
        for label, name in bad.items()
    ]
    cases += [
        Case(
            "the reserved table name is refused",
            table="Tables",
            refused="table 'Tables': the name is reserved",
            azurite=ENFORCED,
        ),
        Case("a table name of 63 characters is allowed", table="T" + "a" * 62),
    ]
    return cases


def _fields() -> list[Case]:
    return [
        Case(
            "a field name with a dash is refused",
            row={"bad-name": 1},
            refused="field 'bad-name': a field name is",
            azurite=AZURE_ONLY,
        ),
        Case(
            "a field name with a leading digit is refused",
            row={"1st": 1},
            refused="field '1st': a field name is",
            azurite=AZURE_ONLY,
        ),
        Case(
            "a field name of 256 characters is refused",
            row={"f" * 256: 1},
            refused=f"field {'f' * 256!r}: a field name is",
            azurite=AZURE_ONLY,
        ),
        Case("a field name of 255 characters is allowed", row={"f" * 255: 1}),
        Case(
            "a field named Timestamp is refused",
            row={"Timestamp": "x"},
            refused="field 'Timestamp': the name is reserved",
            azurite="Azure and Azurite ignore a Timestamp sent by the client; we refuse it"
            " so the value is not silently lost",
        ),
        Case("252 fields are allowed", row={f"f{i}": i for i in range(252)}),
        Case(
            "253 fields are refused",
            row={f"f{i}": i for i in range(253)},
            refused="row: at most 252 fields, not 253",
            azurite=AZURE_ONLY,
        ),
    ]


def _values() -> list[Case]:
    stamp = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    guid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    return [
        Case(
            "every allowed type reads back as it was stored",
            row={
                "s": "text",
                "i": 7,
                "big": 2**40,
                "neg": -(2**63),
                "f": 1.5,
                "yes": True,
                "when": stamp,
                "raw": b"\x00\xff",
                "id": guid,
            },
            reads_back={
                "s": "text",
                "i": 7,
                "big": 2**40,
                "neg": -(2**63),
                "f": 1.5,
                "yes": True,
                "when": stamp.astimezone(UTC),
                "raw": b"\x00\xff",
                "id": guid,
            },
        ),
        Case("a None field is not stored", row={"a": "x", "b": None}, reads_back={"a": "x"}),
        Case(
            "a dict is refused, naming the field",
            row={"meta": {"a": 1}},
            refused="field 'meta': a dict cannot be stored",
            azurite=ENFORCED,
        ),
        Case(
            "a list is refused, naming the field",
            row={"tags": ["a"]},
            refused="field 'tags': a list cannot be stored",
            azurite=ENFORCED,
        ),
        Case(
            "a set is refused",
            row={"tags": {"a"}},
            refused="field 'tags': a set cannot be stored",
            azurite=ENFORCED,
        ),
        Case(
            "Json(...) stores a dict's JSON text, on purpose",
            row={"meta": Json({"a": [1, 2]})},
            reads_back={"meta": '{"a":[1,2]}'},
        ),
        Case(
            "Json(...) of what JSON cannot hold is refused",
            row={"meta": Json({"x": float("nan")})},
            refused="field 'meta': Json(...) cannot encode it",
            azurite=ENFORCED,  # the SDK refuses the dict itself
            raw_row={"meta": {"x": float("nan")}},
        ),
        Case(
            "an integer over 64 bits is refused",
            row={"n": 2**63},
            refused="field 'n': an integer must fit in 64 bits",
            azurite=ENFORCED,
        ),
        Case(
            "a naive datetime is refused",
            row={"at": datetime(2024, 1, 1)},
            refused="field 'at': a datetime needs a timezone",
            azurite="the SDK sends a naive datetime as the machine's local time; we refuse"
            " the guess",
        ),
        Case(
            "a datetime before 1601 is refused",
            row={"at": datetime(1600, 12, 31, tzinfo=UTC)},
            refused="field 'at': a datetime is from 1601-01-01 UTC on",
            azurite=AZURE_ONLY,
        ),
        Case("a string of 32K UTF-16 units is allowed", row={"s": "a" * 32768}),
        Case(
            "a string over 32K UTF-16 units is refused",
            row={"s": "a" * 32769},
            refused="field 's': a string is at most 32768 UTF-16 code units",
            azurite=ENFORCED,
        ),
        Case("a string of 16K emoji (32K units) is allowed", row={"s": EMOJI * 16384}),
        Case(
            "a string of 16K+1 emoji is refused",
            row={"s": EMOJI * 16385},
            refused="field 's': a string is at most 32768 UTF-16 code units",
            azurite=ENFORCED,
        ),
        Case("64 KiB of bytes are allowed", row={"b": b"x" * 65536}),
        Case(
            "bytes over 64 KiB are refused",
            row={"b": b"x" * 65537},
            refused="field 'b': bytes are at most 65536 long",
            azurite=ENFORCED,
        ),
        Case("a row just under 1 MiB is allowed", row={f"p{i}": "a" * 32768 for i in range(15)}),
        Case(
            "a row over 1 MiB of non-ASCII text is refused",
            row={f"p{i}": "\xe9" * 32768 for i in range(16)},
            refused="bytes; a row is at most 1048576 bytes",
            azurite=ENFORCED,
        ),
        Case(
            "a row over 1 MiB of ASCII text is refused",
            row={f"p{i}": "a" * 32000 for i in range(17)},
            refused="bytes; a row is at most 1048576 bytes",
            azurite="Azurite measures the request's UTF-8 JSON (half the size for ASCII), not"
            " the entity as Azure does",
        ),
    ]


CASES: list[Case] = [*_keys(), *_table_names(), *_fields(), *_values()]


@dataclass(frozen=True)
class Behaviour:
    """One operation beyond insert/get, the same on both implementations."""

    name: str
    run: Callable[[Database], Awaitable[Any]]

    def __str__(self) -> str:
        return self.name


async def _conflict(db: Database) -> Any:
    await db.insert("behave", {"n": 1}, partition_key="p", row_key="same")
    try:
        await db.insert("behave", {"n": 2}, partition_key="p", row_key="same")
    except ChannelError as exc:
        return exc.to_body(), await db.get("behave", "p", "same")
    return "inserted twice"


async def _merge(db: Database) -> Any:
    await db.upsert("behave", {"a": 1, "b": "x"}, partition_key="p", row_key="m")
    await db.merge("behave", {"b": "y", "c": True, "a": None}, partition_key="p", row_key="m")
    return await db.get("behave", "p", "m")


async def _merge_missing(db: Database) -> Any:
    try:
        await db.merge("behave", {"a": 1}, partition_key="p", row_key="absent")
    except ChannelError as exc:
        return exc.to_body()
    return "merged into nothing"


async def _upsert_replaces(db: Database) -> Any:
    await db.upsert("behave", {"a": 1, "b": 2}, partition_key="p", row_key="u")
    await db.upsert("behave", {"c": 3}, partition_key="p", row_key="u")
    return await db.get("behave", "p", "u")


async def _delete(db: Database) -> Any:
    await db.insert("behave", {"a": 1}, partition_key="p", row_key="d")
    await db.delete("behave", "p", "d")
    await db.delete("behave", "p", "d")  # again: no error
    return await db.get("behave", "p", "d"), await db.get("behave", "p", "never")


async def _pages(db: Database) -> Any:
    for i in range(5):
        await db.insert("pages", {"i": i}, partition_key="q", row_key=f"r{i}")
    await db.insert("pages", {"i": 99}, partition_key="other", row_key="r0")
    seen, sizes, token = [], [], None
    while True:
        page = await db.query("pages", "q", page_size=2, continuation=token)
        seen += [row["i"] for row in page.rows]
        sizes.append(len(page.rows))
        token = page.continuation
        if token is None:
            return seen, sizes, await db.latest("pages", "q", 3)


async def _bad_paging(db: Database) -> Any:
    answers: list[Any] = []
    for size, token in [(0, None), (1001, None), (True, None), (10, "not a token!")]:
        try:
            await db.query("pages", "q", page_size=size, continuation=token)
            answers.append("answered")
        except ChannelError as exc:
            answers.append(exc.to_body())
    return answers


BEHAVIOURS = [
    Behaviour("insert on a taken key is a 409 and keeps the first row", _conflict),
    Behaviour("merge sets the given fields, keeps the rest, None leaves a field", _merge),
    Behaviour("merge into a missing row is a 404", _merge_missing),
    Behaviour("upsert replaces the whole row", _upsert_replaces),
    Behaviour("delete is quiet when the row is gone; get gives None", _delete),
    Behaviour("a partition query pages in key order to the end; latest is oldest first", _pages),
    Behaviour("a page size outside 1..1000 or a forged continuation is a 422", _bad_paging),
]

EXPECTED_BEHAVIOUR: dict[str, Any] = {
    "insert on a taken key is a 409 and keeps the first row": (
        {
            "error": "a row with key 'same' exists in behave",
            "errorName": "ConflictError",
            "status": 409,
        },
        {"n": 1},
    ),
    "merge sets the given fields, keeps the rest, None leaves a field": {
        "a": 1,
        "b": "y",
        "c": True,
    },
    "merge into a missing row is a 404": {
        "error": "no row with key 'absent' in behave",
        "errorName": "NotFoundError",
        "status": 404,
    },
    "upsert replaces the whole row": {"c": 3},
    "delete is quiet when the row is gone; get gives None": (None, None),
    "a partition query pages in key order to the end; latest is oldest first": (
        [0, 1, 2, 3, 4],
        [2, 2, 1],
        [{"i": 2}, {"i": 1}, {"i": 0}],
    ),
    "a page size outside 1..1000 or a forged continuation is a 422": [
        {
            "error": "page_size: a whole number from 1 to 1000",
            "errorName": "ValidationError",
            "status": 422,
        },
    ]
    * 3
    + [
        {
            "error": "continuation: not a token this database gave",
            "errorName": "ValidationError",
            "status": 422,
        },
    ],
}


# -- transactions (shared/core/transaction.py) --------------------------------------------
# Microsoft's rules, "Performing entity group transactions"
# (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions):
# one PartitionKey, each entity once, at most 100 entities, at most 4 MiB, all or nothing.
# azure-data-tables sends them as one $batch request (TableClient.submit_transaction,
# azure/data/tables/aio/_base_client_async.py `_batch_send`) and raises TableTransactionError
# (409 EntityAlreadyExists, 404 ResourceNotFound, 400 InvalidDuplicateRow; 413 as
# RequestTooLargeError) for the first failed operation, writing nothing.

TRANSACTION_TABLE = "batches"
# every case starts from these rows in partition "p"
BEFORE = {"existing": {"n": 0}, "old": {"n": 9}}
BIG = EMOJI * 16384  # 32K UTF-16 units: the largest string; 196,610 bytes as the SDK sends it


@dataclass(frozen=True)
class TransactionCase:
    name: str
    operations: list[Operation]
    answer: Any = "written"  # or the error body
    rows: list[dict[str, Any]] | None = None  # partition "p" afterwards (BEFORE by default)
    azurite: str | None = None  # for refused transactions: what Azurite does (see the top)

    def __str__(self) -> str:
        return self.name


async def transaction_outcome(db: Database, case: TransactionCase) -> tuple[Any, Any]:
    """What a channel sees: the answer, then partition "p"'s rows in key order."""
    for key, row in BEFORE.items():
        await db.upsert(TRANSACTION_TABLE, row, partition_key="p", row_key=key)
    try:
        await db.transact(TRANSACTION_TABLE, case.operations)
        answer: Any = "written"
    except ChannelError as exc:
        answer = exc.to_body()
    page = await db.query(TRANSACTION_TABLE, "p", page_size=1000)
    return answer, page.rows


def check_transaction(case: TransactionCase, seen: tuple[Any, Any]) -> None:
    expected_rows = case.rows if case.rows is not None else list(BEFORE.values())
    assert seen == (case.answer, expected_rows)


def _error(name: str, status: int, message: str) -> dict[str, Any]:
    return {"error": message, "errorName": name, "status": status}


def _inserts(count: int, row: Callable[[int], dict[str, Any]] = lambda i: {"n": i}) -> list[Any]:
    return [Insert(row(i), partition_key="p", row_key=f"r{i:03d}") for i in range(count)]


def _big_row(i: int) -> dict[str, Any]:
    return {"n": i, **{f"s{j}": BIG for j in range(4)}}


def _transactions() -> list[TransactionCase]:
    before = list(BEFORE.values())
    return [
        TransactionCase(
            "two inserts in one partition are written together",
            _inserts(2),
            rows=[*before, {"n": 0}, {"n": 1}],
        ),
        TransactionCase(
            "100 operations are written",
            _inserts(100),
            rows=[*before, *({"n": i} for i in range(100))],
        ),
        TransactionCase(
            "101 operations are refused and nothing is written",
            _inserts(101),
            _error("ValidationError", 422, "transaction: at most 100 operations, not 101"),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "two partitions in one transaction are refused",
            [
                Insert({"n": 1}, partition_key="p", row_key="r1"),
                Insert({"n": 2}, partition_key="q", row_key="r2"),
            ],
            _error(
                "ValidationError",
                422,
                "transaction: every operation is in one partition; 'p' and 'q' differ",
            ),
            azurite=ENFORCED,  # the SDK refuses it before sending
        ),
        TransactionCase(
            "one row twice in a transaction is refused",
            [
                Insert({"n": 1}, partition_key="p", row_key="r1"),
                Upsert({"n": 2}, partition_key="p", row_key="r1"),
            ],
            _error(
                "ValidationError",
                422,
                "transaction: row 'r1' appears twice; a transaction writes a row once",
            ),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "an insert of an existing row is a 409 and nothing is written",
            [
                Insert({"n": 1}, partition_key="p", row_key="r1"),
                Insert({"n": 2}, partition_key="p", row_key="existing"),
            ],
            _error("ConflictError", 409, "a row with key 'existing' exists in batches"),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "a merge into a missing row is a 404 and nothing is written",
            [
                Delete(partition_key="p", row_key="old"),
                Merge({"n": 2}, partition_key="p", row_key="absent"),
            ],
            _error("NotFoundError", 404, "no row with key 'absent' in batches"),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "a delete of a missing row is a 404 and nothing is written",
            [
                Upsert({"n": 1}, partition_key="p", row_key="existing"),
                Delete(partition_key="p", row_key="absent"),
            ],
            _error("NotFoundError", 404, "no row with key 'absent' in batches"),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "merge, upsert and delete in one transaction",
            [
                Merge({"m": True}, partition_key="p", row_key="existing"),
                Delete(partition_key="p", row_key="old"),
                Upsert({"n": 3}, partition_key="p", row_key="r3"),
            ],
            rows=[{"n": 0, "m": True}, {"n": 3}],
        ),
        TransactionCase(
            "a row the row rules refuse fails the whole transaction",
            [
                Insert({"n": 1}, partition_key="p", row_key="r1"),
                Insert({"meta": {"a": 1}}, partition_key="p", row_key="r2"),
            ],
            _error(
                "ValidationError",
                422,
                "field 'meta': a dict cannot be stored; store its parts as fields,"
                " or wrap it in Json(...) to store its JSON text",
            ),
            azurite=ENFORCED,
        ),
        TransactionCase(
            "a transaction just under 4 MiB as sent is written",
            _inserts(5, _big_row),
            rows=[*before, *(_big_row(i) for i in range(5))],
        ),
        TransactionCase(
            "a transaction over 4 MiB as sent is refused",
            _inserts(6, _big_row),
            _error(
                "ValidationError",
                422,
                "transaction: about 4726440 bytes to send; a transaction is at most 4194304"
                " bytes (4 MiB)",
            ),
            azurite=ENFORCED,
        ),
        TransactionCase("an empty transaction writes nothing", []),
    ]


TRANSACTIONS: list[TransactionCase] = _transactions()
