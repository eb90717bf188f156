"""MemoryDatabase keeps Table Storage's rules (shared/core/row_rules.py): every case of
tests/support/database_cases.py, in memory. tests/azurite runs the same cases on Azurite."""

from __future__ import annotations

from typing import Any

import pytest

from shared.core.database import MemoryDatabase, newest_first_key
from tests.support.database_cases import (
    BEHAVIOURS,
    CASES,
    EXPECTED_BEHAVIOUR,
    TRANSACTIONS,
    Behaviour,
    Case,
    TransactionCase,
    check,
    check_transaction,
    outcome,
    transaction_outcome,
)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_memory_database_keeps_the_rule(case: Case) -> None:
    check(case, await outcome(MemoryDatabase(), case))


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=str)
async def test_memory_database_behaves(behaviour: Behaviour) -> None:
    assert await behaviour.run(MemoryDatabase()) == EXPECTED_BEHAVIOUR[behaviour.name]


@pytest.mark.parametrize("case", TRANSACTIONS, ids=str)
async def test_memory_database_keeps_the_transaction_rule(case: TransactionCase) -> None:
    check_transaction(case, await transaction_outcome(MemoryDatabase(), case))


async def test_a_query_keeps_to_a_key_prefix_and_starts_after_a_key() -> None:
    db = MemoryDatabase()
    for key in ("id-a", "msg-1", "msg-2", "msg-3", "msh-0"):
        await db.insert("keys", {"k": key}, partition_key="p", row_key=key)
    page = await db.query("keys", "p", prefix="msg-", after="msg-1")
    assert [row["k"] for row in page.rows] == ["msg-2", "msg-3"]
    assert await db.latest("keys", "p", 2, prefix="msg-") == [{"k": "msg-2"}, {"k": "msg-1"}]


async def test_latest_gives_the_newest_rows_oldest_first() -> None:
    db = MemoryDatabase()
    for at in (1_000, 2_000, 3_000):
        await db.insert("messages", {"at": at}, partition_key="room", row_key=newest_first_key(at))
    rows: list[dict[str, Any]] = await db.latest("messages", "room", 2)
    assert rows == [{"at": 2_000}, {"at": 3_000}]
