"""Records that outlive their connection are swept by the host's timer function.

The sweep is `sweep_connections`, a timer trigger (shared/azure/functions_app.py wire_sweep)
that the local host serves as Azure does; these tests run it through the host's admin endpoint
(`POST /admin/functions/sweep_connections` with the master key, as one would against Azure),
so each fails when the host does not serve the timer. A record is first checked some minutes
after its connect (shared/core/stores.py UNCONFIRMED_WINDOW); the tests bring that moment
forward by moving the record's `CheckAfter` into the past in Table Storage, not by calling
the sweep themselves.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableEntity, UpdateMode
from azure.data.tables.aio import TableServiceClient

from devstack.stack import LocalStack
from shared.azure.stores import CONNECTIONS_TABLE
from shared.core.stores import SESSION_GRACE
from shared.core.sweep import EXPIRED_REASON
from tests.e2e.chat_client import QUIET, TIMEOUT, ChatClient, guest, join, negotiate

pytestmark = pytest.mark.e2e
SWEEP = "sweep_connections"


async def room_records(tables: TableServiceClient, room: str) -> list[TableEntity]:
    table = tables.get_table_client(CONNECTIONS_TABLE)
    try:
        return [
            entity
            async for entity in table.list_entities()
            if json.loads(entity.get("OpeningData") or "{}").get("room") == room
        ]
    except ResourceNotFoundError:  # no connect has written one yet
        return []


async def wait_for_records(tables: TableServiceClient, room: str, count: int) -> list[TableEntity]:
    for _ in range(int(TIMEOUT / 0.1)):
        found = await room_records(tables, room)
        if len(found) == count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{room} has {len(found)} connection records, not {count}")


async def make_due(tables: TableServiceClient, records: list[TableEntity]) -> None:
    """The moment each record is first checked comes now (as it would minutes later)."""
    table = tables.get_table_client(CONNECTIONS_TABLE)
    past = datetime.now(UTC) - timedelta(seconds=1)
    for record in records:
        entity = {"PartitionKey": record["PartitionKey"], "RowKey": record["RowKey"]}
        await table.update_entity(
            {**entity, "CheckAfter": past},
            mode=UpdateMode.MERGE,
            etag=record.metadata["etag"],
            match_condition=MatchConditions.IfNotModified,
        )


def left(client: ChatClient) -> dict[str, Any]:
    """The presence notice of `client` leaving its room."""
    return {
        "type": "presence",
        "event": "leave",
        "userId": client.user_id,
        "room": client.room,
        "name": client.name,
    }


async def run_sweep(http: aiohttp.ClientSession, stack: LocalStack) -> None:
    """Core Tools' admin endpoint: the host runs the timer function now (202, in background)."""
    url = f"{stack.host_url}/admin/functions/{SWEEP}"
    async with http.post(url, json={"input": ""}, headers=stack.admin_headers()) as response:
        assert response.status == 202, f"{response.status} {await response.text()}"


def abort_handshake(url: str) -> None:
    """Send the WebSocket upgrade request, then reset the TCP connection before the answer."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    request = (
        f"GET {parts.path}?{parts.query} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(request.encode())
        # SO_LINGER 0: close sends RST, as a client that gave up (or crashed) would.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_records_of_aborted_handshakes_are_swept_by_the_hosts_timer(
    stack: LocalStack, http: aiohttp.ClientSession, tables: TableServiceClient, room: str
) -> None:
    issued = await guest(http, stack.host_url, "Quitter")
    for _ in range(3):
        info = await negotiate(http, stack.host_url, "chat", room, str(issued["token"]))
        await asyncio.to_thread(abort_handshake, info["url"])
    # `connect` was accepted for each (a record written), then the client was gone: no
    # `connected`, no `disconnected` ever comes for them.
    await make_due(tables, await wait_for_records(tables, room, 3))

    await run_sweep(http, stack)

    await wait_for_records(tables, room, 0)


async def test_after_a_host_crash_the_member_list_is_still_the_services(
    stack: LocalStack, http: aiohttp.ClientSession, tables: TableServiceClient, room: str
) -> None:
    """The `disconnected` event of a socket closed while the host is down is lost (no leave
    notice, a stale record); the member list comes from the service, so it is right, and the
    host's sweep timer sends the notice late."""
    ada = await join(http, stack.host_url, room, "Ada")
    bob = await join(http, stack.host_url, room, "Bob")
    await ada.notice()  # bob's join
    host = next(child for child in stack.children if child.name == "funchost")
    assert host.proc is not None
    host.proc.kill()
    host.proc.wait()
    try:
        await bob.close()  # its disconnected event finds no host
        await asyncio.sleep(QUIET)
    finally:
        host.start()
        await asyncio.to_thread(
            stack._wait, f"http://127.0.0.1:{stack.host_port}/admin/host/ping", "GET", 60
        )
    members = await ada.call("members")
    assert members["members"] == [{"userId": ada.user_id, "connections": 1, "name": "Ada"}]
    assert ada.presence.empty()  # the leave notice was lost with the host
    stale = await room_records(tables, room)
    assert len(stale) == 2  # Ada's, and Bob's that outlived its connection

    await make_due(tables, stale)
    await run_sweep(http, stack)

    assert await ada.notice() == left(bob)
    (kept,) = await wait_for_records(tables, room, 1)  # Bob's went; Ada's was checked and kept
    assert kept["PartitionKey"] in {r["PartitionKey"] for r in stale}
    assert kept["CheckAfter"] > datetime.now(UTC) + timedelta(minutes=30)  # not asked again soon
    await ada.close()


async def test_a_session_left_expired_is_told_and_closed_by_the_hosts_timer(
    stack: LocalStack, http: aiohttp.ClientSession, tables: TableServiceClient, room: str
) -> None:
    """A socket keeps its room after its token expires (the service does not close it); one
    whose session stayed expired past the grace is told, closed, and its members hear it
    leave. Its record's session is moved into the past here, as hours would."""
    ada = await join(http, stack.host_url, room, "Ada")
    bob = await join(http, stack.host_url, room, "Bob")
    await ada.notice()  # bob's join
    records = await wait_for_records(tables, room, 2)
    (bobs,) = [r for r in records if json.loads(r["Session"])["userId"] == bob.user_id]
    expired = int((datetime.now(UTC) - SESSION_GRACE).timestamp()) - 60
    table = tables.get_table_client(CONNECTIONS_TABLE)
    await table.update_entity(
        {
            "PartitionKey": bobs["PartitionKey"],
            "RowKey": bobs["RowKey"],
            "Session": json.dumps({**json.loads(bobs["Session"]), "expiresAt": expired}),
            "CheckAfter": datetime.now(UTC) - timedelta(seconds=1),
        },
        mode=UpdateMode.MERGE,
    )

    await run_sweep(http, stack)

    told = await bob.reply()
    assert (told["status"], told["error"]) == (401, EXPIRED_REASON)
    assert bob.reader is not None
    await asyncio.wait_for(bob.reader, TIMEOUT)  # the service closed the socket
    assert await ada.notice() == left(bob)
    (kept,) = await wait_for_records(tables, room, 1)
    assert json.loads(kept["Session"])["userId"] == ada.user_id
    assert (await ada.call("members"))["members"] == [
        {"userId": ada.user_id, "connections": 1, "name": "Ada"}
    ]
    await ada.close()
