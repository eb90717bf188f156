"""The memory and Table Storage databases refuse and store exactly the same rows.

Each case of tests/support/database_cases.py runs on MemoryDatabase and on TableDatabase
against Azurite; the outcomes (the row read back, or the error's name, status and message)
must be equal and be what the case states. For a refused row the case also says what Azurite
does with it when sent through the SDK with no rules of ours in front, and this test checks
that too: where Azurite enforces the rule it refuses the row as well; where it does not, the
case says why we refuse anyway (Azure's data model does, or ours is deliberately stricter).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from shared.azure.database import TableDatabase
from shared.core.database import Delete, Insert, MemoryDatabase, Merge, Operation
from shared.core.row_rules import Json
from tests.support.database_cases import (
    BEFORE,
    BEHAVIOURS,
    CASES,
    ENFORCED,
    EXPECTED_BEHAVIOUR,
    TRANSACTION_TABLE,
    TRANSACTIONS,
    Behaviour,
    Case,
    TransactionCase,
    check,
    check_transaction,
    outcome,
    transaction_outcome,
)


async def azurite_refuses(raw: TableServiceClient, case: Case) -> bool:
    table = case.table if case.table != "rules" else "rawrules"
    row = case.raw_row if case.raw_row is not None else case.row
    entity = {
        **{k: v.value if isinstance(v, Json) else v for k, v in row.items()},
        "PartitionKey": case.partition_key,
        "RowKey": case.row_key,
    }
    try:
        with contextlib.suppress(ResourceExistsError):
            await raw.create_table(table)
        # upsert, not insert: rows of earlier cases share keys, and Azurite checks the 1 MiB
        # entity limit on updates only
        await raw.get_table_client(table).upsert_entity(entity)
    except (HttpResponseError, TypeError, ValueError):  # refused by Azurite or by the SDK
        return True
    return False


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_memory_and_table_storage_agree_on_the_rule(
    case: Case, table_database: TableDatabase, raw_tables: TableServiceClient
) -> None:
    in_memory = await outcome(MemoryDatabase(), case)
    in_table_storage = await outcome(table_database, case)
    assert in_table_storage == in_memory
    check(case, in_table_storage)
    if case.refused is not None:
        assert case.azurite, "a refused case says what Azurite does with the row"
        assert await azurite_refuses(raw_tables, case) is (case.azurite == ENFORCED), case.azurite


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=str)
async def test_memory_and_table_storage_behave_the_same(
    behaviour: Behaviour, table_database: TableDatabase, raw_tables: TableServiceClient
) -> None:
    for table in ("behave", "pages"):  # a clean slate: Azurite lives for the whole run
        await raw_tables.delete_table(table)
    in_memory = await behaviour.run(MemoryDatabase())
    in_table_storage = await behaviour.run(table_database)
    assert in_table_storage == in_memory == EXPECTED_BEHAVIOUR[behaviour.name]


async def test_a_long_partition_pages_through_table_storage_without_loss(
    table_database: TableDatabase,
) -> None:
    partition = uuid.uuid4().hex
    for i in range(25):
        await table_database.insert("pages", {"i": i}, partition_key=partition, row_key=f"{i:03d}")
    seen: list[int] = []
    token = None
    while True:
        page = await table_database.query("pages", partition, page_size=7, continuation=token)
        seen += [row["i"] for row in page.rows]
        token = page.continuation
        if token is None:
            break
    assert seen == list(range(25))


def _raw_operation(op: Operation) -> tuple[Any, ...]:
    """The operation as the SDK takes it, with none of our rules in front."""
    keys = {"PartitionKey": op.partition_key, "RowKey": op.row_key}
    if isinstance(op, Delete):
        return ("delete", keys)
    entity = {**{k: v.value if isinstance(v, Json) else v for k, v in op.row.items()}, **keys}
    if isinstance(op, Insert):
        return ("create", entity)
    if isinstance(op, Merge):
        return ("update", entity, {"mode": UpdateMode.MERGE})
    return ("upsert", entity, {"mode": UpdateMode.REPLACE})


async def azurite_refuses_transaction(raw: TableServiceClient, case: TransactionCase) -> bool:
    """Azurite (or the SDK) refuses the transaction, and then has written nothing."""
    table = await _fresh(raw, "rawbatches")
    for key, row in BEFORE.items():
        await table.upsert_entity({**row, "PartitionKey": "p", "RowKey": key})
    try:
        await table.submit_transaction([_raw_operation(op) for op in case.operations])
    except Exception:  # refused by Azurite or the SDK (101 operations: a malformed answer)
        after = [e async for e in table.query_entities("PartitionKey eq 'p'")]
        assert [{k: e[k] for k in e if k not in ("PartitionKey", "RowKey")} for e in after] == [
            *BEFORE.values()
        ], "Azurite wrote part of a refused transaction"
        return True
    return False


async def _fresh(raw: TableServiceClient, name: str) -> TableClient:
    await raw.delete_table(name)
    return await raw.create_table(name)


@pytest.mark.parametrize("case", TRANSACTIONS, ids=str)
async def test_memory_and_table_storage_agree_on_the_transaction_rule(
    case: TransactionCase, table_database: TableDatabase, raw_tables: TableServiceClient
) -> None:
    await raw_tables.delete_table(TRANSACTION_TABLE)  # a clean slate (made again on first use)
    in_memory = await transaction_outcome(MemoryDatabase(), case)
    in_table_storage = await transaction_outcome(table_database, case)
    assert in_table_storage == in_memory
    check_transaction(case, in_table_storage)
    if case.answer != "written":
        assert case.azurite, "a refused case says what Azurite does with the transaction"
        refused = await azurite_refuses_transaction(raw_tables, case)
        assert refused is (case.azurite == ENFORCED), case.azurite


async def test_a_transaction_makes_a_deleted_table_again_and_writes(
    table_database: TableDatabase, raw_tables: TableServiceClient
) -> None:
    await table_database.insert("gone", {"n": 1}, partition_key="p", row_key="a")
    await raw_tables.delete_table("gone")  # as when Azurite restarts on an empty folder
    await table_database.transact("gone", [Insert({"n": 2}, partition_key="p", row_key="b")])
    assert await table_database.latest("gone", "p", 10) == [{"n": 2}]


async def test_a_query_keeps_to_a_key_prefix_and_starts_after_a_key_in_table_storage(
    table_database: TableDatabase,
) -> None:
    partition = uuid.uuid4().hex
    for key in ("id-a", "msg-1", "msg-2", "msg-3", "msh-0", "msg'"):
        await table_database.insert("keys", {"k": key}, partition_key=partition, row_key=key)
    page = await table_database.query("keys", partition, prefix="msg-", after="msg-1")
    assert [row["k"] for row in page.rows] == ["msg-2", "msg-3"]
    quoted = await table_database.query("keys", partition, prefix="msg'")  # no OData injection
    assert [row["k"] for row in quoted.rows] == ["msg'"]
    latest = await table_database.latest("keys", partition, 2, prefix="msg-")
    assert latest == [{"k": "msg-2"}, {"k": "msg-1"}]
