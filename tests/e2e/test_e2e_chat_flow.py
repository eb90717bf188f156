"""The seed's client flow through emulator, host, dispatcher and Azurite, with real WebSockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables.aio import TableServiceClient

from devstack.stack import LocalStack
from shared.azure.database import TableDatabase
from shared.azure.tables import TableStorage
from tests.e2e.chat_client import TIMEOUT, join
from tests.support import chat_rows

pytestmark = pytest.mark.e2e

CONNECTIONS = "connections"
ROW_KEY = "connection"


async def chat_records(tables: TableServiceClient, room: str) -> dict[str, dict[str, Any]]:
    """The stored chat connections opened with this room, by connection id."""
    table = tables.get_table_client(CONNECTIONS)
    return {
        entity["PartitionKey"]: dict(entity)
        async for entity in table.list_entities()
        if entity.get("Channel") == "chat" and json.loads(entity["OpeningData"]) == {"room": room}
    }


def session_user(record: dict[str, Any]) -> str | None:
    session = record["Session"]
    return str(json.loads(session)["userId"]) if session else None


async def wait_until_deleted(tables: TableServiceClient, connection_id: str) -> None:
    """`disconnected` is fire-and-forget, so the record goes shortly after the close."""
    table = tables.get_table_client(CONNECTIONS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        try:
            await table.get_entity(connection_id, ROW_KEY)
        except ResourceNotFoundError:
            return
        assert loop.time() < deadline, f"record of {connection_id} still stored after close"
        await asyncio.sleep(0.1)


async def test_seed_flow_unauthorized_then_authenticated_send_reaches_the_other_member(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    ada = await join(http, stack.host_url, room, "ada", authenticate=False)  # welcome checked
    bob = await join(http, stack.host_url, room, "bob")

    refused = await ada.call("sendMessage", message="too early")
    assert refused["action"] == "sendMessage"
    assert refused["errorName"] == "UnauthorizedError"
    assert refused["status"] == 401
    assert "authenticate" in refused["error"]
    # The socket stayed open: the same connection authenticates and sends.
    await ada.authenticate()
    sent = await ada.call("sendMessage", message="hello room")
    assert sent == {
        "action": "sendMessage",
        "id": sent["id"],
        "message": "hello room",
        "timestamp": sent["timestamp"],
    }
    assert isinstance(sent["timestamp"], int)

    expected = {
        "type": "message",
        "id": sent["id"],
        "message": "hello room",
        "userId": ada.user_id,
        "name": "ada",
    }
    bob_got, ada_got = await asyncio.gather(bob.broadcasts_exactly(1), ada.broadcasts_exactly(0))
    assert bob_got == [{**expected, "timestamp": sent["timestamp"]}]
    assert ada_got == []  # never the sender

    history = await bob.call("history")
    assert history == {
        "action": "history",
        "messages": [{**expected, "timestamp": sent["timestamp"]}],
        "more": False,
        "next": None,
    }
    assert ada.frames[0]["errorName"] == "UnauthorizedError"  # nothing arrived out of order
    await ada.close()
    await bob.close()


async def test_connection_record_holds_room_and_session_and_goes_when_the_socket_closes(
    stack: LocalStack, http: aiohttp.ClientSession, tables: TableServiceClient, room: str
) -> None:
    ada = await join(http, stack.host_url, room, "ada", authenticate=False)
    bob = await join(http, stack.host_url, room, "bob", authenticate=False)
    records = await chat_records(tables, room)
    assert len(records) == 2
    assert all(r["Session"] == "" for r in records.values())

    await ada.authenticate()
    records = await chat_records(tables, room)
    by_user = {session_user(record): cid for cid, record in records.items()}
    assert set(by_user) == {ada.user_id, None}
    ada_id = by_user[ada.user_id]
    session = json.loads(records[ada_id]["Session"])
    assert session.pop("expiresAt") > 0  # the session ends with the guest token
    assert session == {"userId": ada.user_id, "role": "guest", "name": "ada", "joined": room}

    await ada.close()
    await wait_until_deleted(tables, ada_id)
    assert set(await chat_records(tables, room)) == {by_user[None]}  # bob's stays
    await bob.close()
    await wait_until_deleted(tables, by_user[None])


async def test_history_pages_through_200_messages_of_2000_emoji_via_the_emulator(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    """Each page arrives through the emulator, which delivers no message over 1 MB (as the
    service); every message comes once, in order."""
    assert stack.storage_connection_string is not None
    storage = TableStorage.from_connection_string(stack.storage_connection_string)
    try:
        ids = await chat_rows.store(TableDatabase(storage), room, 200, "😀" * 2000)
    finally:
        await storage.aclose()
    ada = await join(http, stack.host_url, room, "ada")
    pages = [await ada.call("history", limit=200)]
    while pages[-1]["next"] is not None:
        pages.append(await ada.call("history", limit=200, before=pages[-1]["next"]))
    assert len(pages) >= 3  # 4.8 MB of it as sent
    assert [m["id"] for page in reversed(pages) for m in page["messages"]] == ids
    await ada.close()
