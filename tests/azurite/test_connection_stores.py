"""The memory and Table Storage connection stores keep the same record, field for field."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.azure.stores import TableConnectionStore
from shared.azure.tables import TableStorage
from shared.core.stores import (
    SESSION_GRACE,
    UNCONFIRMED_WINDOW,
    ConnectionRecord,
    ConnectionStore,
    MemoryConnectionStore,
)


@pytest.fixture(params=["memory", "table"])
async def store(request: pytest.FixtureRequest, app_settings: dict[str, str]) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryConnectionStore()
        return
    storage = TableStorage.from_connection_string(app_settings["AzureWebJobsStorage"])
    yield TableConnectionStore(storage)
    await storage.aclose()


async def test_a_record_keeps_session_state_and_pending_frames(store: ConnectionStore) -> None:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    record = ConnectionRecord(
        channel_id=cid,
        channel="board",
        opening_data={"room": "lobby"},
        session={"userId": "ann"},
        user_id="ann",
        state={"posts": 0},
        pending=({"welcome": "hi"}, [1, "two"]),
    )
    await store.put(record)
    assert await store.get(cid) == record

    await store.save_state(cid, {"posts": 3})
    await store.save_session(cid, None)
    got = await store.get(cid)
    assert got is not None and (got.state, got.session) == ({"posts": 3}, None)
    assert got.opening_data == {"room": "lobby"} and got.pending == record.pending

    await store.save_state(cid, None)
    got = await store.get(cid)
    assert got is not None and got.state is None
    await store.delete(cid)
    assert await store.get(cid) is None
    await store.save_state(cid, {"posts": 1})  # a closed connection: nothing to keep, no error
    assert await store.get(cid) is None


async def test_a_session_that_expires_brings_the_records_check_to_its_end(
    store: ConnectionStore,
) -> None:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    connected = datetime.now(UTC).replace(microsecond=0)  # Table Storage keeps milliseconds
    await store.put(ConnectionRecord(cid, "chat", {"room": "a"}, connected_at=connected))
    first = connected + UNCONFIRMED_WINDOW
    expires = int(connected.timestamp()) + 3600
    await store.save_session(cid, {"userId": "ann", "expiresAt": expires})
    got = await store.get(cid)
    ends = datetime.fromtimestamp(expires, UTC) + SESSION_GRACE
    assert got is not None and got.check_after == ends  # in the session's own write
    assert cid not in [c async for c in store.due_for_check(first + timedelta(minutes=1))]
    assert cid in [c async for c in store.due_for_check(ends + timedelta(seconds=1))]

    await store.save_session(cid, {"userId": "ann"})  # no expiry: the next check stays
    got = await store.get(cid)
    assert got is not None and got.check_after == ends
    await store.delete(cid)
