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

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.data.tables.aio import TableServiceClient

from shared.azure.database import TableDatabase
from shared.core.database import MemoryDatabase
from shared.core.row_rules import Json
from tests.support.database_cases import (
    BEHAVIOURS,
    CASES,
    ENFORCED,
    EXPECTED_BEHAVIOUR,
    Behaviour,
    Case,
    check,
    outcome,
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
