"""Microsoft's `azure-messaging-webpubsubclient`, default settings, against the whole stack.

The SDK speaks `json.reliable.webpubsub.azure.v1`: the chat channel's actions go up as user
events named `message`, the channel's replies come back as server messages, and the room's
broadcasts as group messages (the room's topic is the group `room:<room>`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from azure.data.tables.aio import TableServiceClient
from azure.messaging.webpubsubclient.aio import WebPubSubClient, WebPubSubClientCredential
from azure.messaging.webpubsubclient.models import CallbackType, WebPubSubDataType
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as sync_connect

from devstack.stack import LocalStack
from tests.e2e.chat_client import QUIET, TIMEOUT, guest, join, negotiate

pytestmark = pytest.mark.e2e


class Inbox:
    """What one SDK callback receives, in order."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    async def add(self, item: Any) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait(self, count: int) -> list[Any]:
        """The first `count` items once they are in (bounded by TIMEOUT)."""

        async def until() -> list[Any]:
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.items[:count]

        return await asyncio.wait_for(until(), TIMEOUT)


class SdkMember:
    """An SDK client in a chat room, with its server and group messages collected."""

    def __init__(self, client: WebPubSubClient, token: str, user_id: str) -> None:
        self.client = client
        self.token = token
        self.user_id = user_id
        self.server = Inbox()
        self.group = Inbox()

    async def open(self) -> None:
        async def on_server(args: Any) -> None:
            await self.server.add(args.data)

        async def on_group(args: Any) -> None:
            if args.data.get("type") != "presence":  # room messages only
                await self.group.add((args.group, args.data))

        await self.client.subscribe(CallbackType.SERVER_MESSAGE, on_server)
        await self.client.subscribe(CallbackType.GROUP_MESSAGE, on_group)
        await self.client.open()

    async def send_action(self, action: str, **data: Any) -> None:
        await self.client.send_event("message", {"action": action, **data}, WebPubSubDataType.JSON)

    async def call(self, action: str, **data: Any) -> Any:
        """Send an action and return the server message that answers it."""
        seen = len(self.server.items)
        await self.send_action(action, **data)
        return (await self.server.wait(seen + 1))[seen]


MemberFactory = Callable[[str, str], Awaitable[SdkMember]]


@pytest.fixture
async def sdk_member(
    stack: LocalStack, http: aiohttp.ClientSession
) -> AsyncIterator[MemberFactory]:
    members: list[SdkMember] = []

    async def make(room: str, name: str) -> SdkMember:
        async def client_access_url() -> str:
            # Called again on a fresh (not a recovered) connection, as the SDK does.
            return (await negotiate(http, stack.host_url, "chat", room))["url"]

        client = WebPubSubClient(WebPubSubClientCredential(client_access_url))  # defaults
        issued = await guest(http, stack.host_url, name)
        member = SdkMember(client, issued["token"], issued["userId"])
        members.append(member)
        await member.open()
        return member

    yield make
    for member in members:
        await member.client.close()


def drop_socket(client: WebPubSubClient) -> Any:
    """Cut the SDK's TCP connection without a close frame, as a network drop would.

    The SDK has no public way to do this: its socket is an aiohttp ClientWebSocketResponse
    in `client._ws.sock`. Returns the dropped socket wrapper.
    """
    dropped = client._ws
    assert dropped is not None and dropped.sock is not None
    connection = dropped.sock._conn
    assert connection is not None and connection.transport is not None
    connection.transport.abort()
    return dropped


async def test_sdk_client_exchanges_the_chat_actions_and_gets_the_channel_replies(
    stack: LocalStack, http: aiohttp.ClientSession, sdk_member: MemberFactory, room: str
) -> None:
    ada = await sdk_member(room, "ada")
    assert await ada.server.wait(1) == [{"welcome": f"Welcome to {room}!"}]
    bob = await join(http, stack.host_url, room, "bob")

    refused = await ada.call("sendMessage", message="too early")
    assert (refused["action"], refused["errorName"]) == ("sendMessage", "UnauthorizedError")
    assert await ada.call("authenticate", token=ada.token) == {
        "action": "authenticate",
        "authenticated": True,
    }
    sent = await ada.call("sendMessage", message="from the sdk")
    assert sent == {
        "action": "sendMessage",
        "id": sent["id"],
        "message": "from the sdk",
        "timestamp": sent["timestamp"],
    }
    expected = {
        "type": "message",
        "id": sent["id"],
        "message": "from the sdk",
        "userId": ada.user_id,
        "name": "ada",
    }
    assert await bob.broadcasts_exactly(1) == [{**expected, "timestamp": sent["timestamp"]}]

    reply = await bob.call("sendMessage", message="from a browser")
    assert await ada.group.wait(1) == [
        (
            f"room:{room}",
            {
                "type": "message",
                "id": reply["id"],
                "message": "from a browser",
                "userId": bob.user_id,
                "name": "bob",
                "timestamp": reply["timestamp"],
            },
        )
    ]
    history = await ada.call("history")
    assert [m["message"] for m in history["messages"]] == ["from the sdk", "from a browser"]
    await asyncio.sleep(QUIET)
    assert len(ada.group.items) == 1  # its own message never came back to it
    await bob.close()


class BlockingMember:
    """A plain WebSocket chat member whose every call blocks this process's event loop.

    While it sends, the SDK client (on the same loop) cannot notice its dropped socket nor
    recover it, so everything it sends is published while the SDK is cut off: the emulator
    and the host run in their own processes and carry on.
    """

    def __init__(self, ws: ClientConnection, token: str) -> None:
        self.ws = ws
        self.recv()  # welcome
        assert self.call("authenticate", token=token)["authenticated"] is True

    def recv(self) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.ws.recv(timeout=TIMEOUT))
        return frame

    def call(self, action: str, **data: Any) -> dict[str, Any]:
        self.ws.send(json.dumps({"action": action, **data}))
        return self.recv()


async def test_sdk_client_recovers_a_dropped_socket_without_losing_a_message(
    stack: LocalStack,
    http: aiohttp.ClientSession,
    tables: TableServiceClient,
    sdk_member: MemberFactory,
    room: str,
) -> None:
    ada = await sdk_member(room, "ada")
    await ada.server.wait(1)  # welcome
    await ada.call("authenticate", token=ada.token)
    info = await negotiate(http, stack.host_url, "chat", room)
    token = (await guest(http, stack.host_url, "bob"))["token"]
    with sync_connect(info["url"], open_timeout=TIMEOUT) as ws:
        await recover_and_deliver(ada, BlockingMember(ws, token), tables)


async def recover_and_deliver(
    ada: SdkMember, bob: BlockingMember, tables: TableServiceClient
) -> None:
    for n in range(3):
        assert bob.call("sendMessage", message=f"m{n}")["action"] == "sendMessage"
    await ada.group.wait(3)
    connection_id = ada.client._connection_id  # the SDK exposes no public accessor
    assert connection_id

    dropped = drop_socket(ada.client)
    for n in range(3, 13):  # published while ada's socket is gone and not yet recovered
        assert bob.call("sendMessage", message=f"m{n}")["action"] == "sendMessage"
    await ada.group.wait(13)
    await asyncio.sleep(QUIET)  # a duplicate delivery would show up here
    assert [data["message"] for _, data in ada.group.items] == [f"m{n}" for n in range(13)]

    # Recovered, not reconnected: a new socket, the same connection, its record and session.
    assert ada.client._ws is not dropped
    assert ada.client._connection_id == connection_id
    record = await tables.get_table_client("connections").get_entity(connection_id, "connection")
    session = json.loads(record["Session"])
    assert (session["userId"], session["name"], session["role"]) == (ada.user_id, "ada", "guest")
    sent = await ada.call("sendMessage", message="after the drop")  # no second authenticate
    assert sent == {
        "action": "sendMessage",
        "id": sent["id"],
        "message": "after the drop",
        "timestamp": sent["timestamp"],
    }
    frame = bob.recv()
    assert (frame["message"], frame["userId"]) == ("after the drop", ada.user_id)
