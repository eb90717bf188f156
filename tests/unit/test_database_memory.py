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
    Behaviour,
    Case,
    check,
    outcome,
)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_memory_database_keeps_the_rule(case: Case) -> None:
    check(case, await outcome(MemoryDatabase(), case))


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=str)
async def test_memory_database_behaves(behaviour: Behaviour) -> None:
    assert await behaviour.run(MemoryDatabase()) == EXPECTED_BEHAVIOUR[behaviour.name]


async def test_latest_gives_the_newest_rows_oldest_first() -> None:
    db = MemoryDatabase()
    for at in (1_000, 2_000, 3_000):
        await db.insert("messages", {"at": at}, partition_key="room", row_key=newest_first_key(at))
    rows: list[dict[str, Any]] = await db.latest("messages", "room", 2)
    assert rows == [{"at": 2_000}, {"at": 3_000}]
