"""Microsoft's `azure-messaging-webpubsubclient` (aio, default reliable protocol) end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from azure.messaging.webpubsubclient.aio import WebPubSubClient, WebPubSubClientCredential
from azure.messaging.webpubsubclient.models import CallbackType, WebPubSubDataType
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from devstack.webpubsub import Emulator
from tests.devstack.webpubsub.wps_support import HUB, TIMEOUT, Recorded, Upstream

ROLES = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"]


class Inbox:
    """Collects what a client's callbacks receive."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.changed = asyncio.Event()

    async def add(self, item: Any) -> None:
        self.items.append(item)
        self.changed.set()

    async def wait(self, count: int) -> list[Any]:
        async def until() -> list[Any]:
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()
            return self.items

        return await asyncio.wait_for(until(), TIMEOUT)


ClientFactory = Callable[..., Any]


@pytest.fixture
async def sdk(
    upstream: Upstream, start_emulator: Any
) -> AsyncIterator[tuple[Emulator, Callable[[str], Any]]]:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type == "azure.webpubsub.user.echo":
            return web.json_response({"echo": json.loads(request.body)})
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream, grace_period=5.0)
    service = WebPubSubServiceClient.from_connection_string(emulator.connection_string, hub=HUB)
    clients: list[WebPubSubClient] = []

    def make(user_id: str) -> WebPubSubClient:
        async def url() -> str:
            token = await service.get_client_access_token(user_id=user_id, roles=ROLES)
            return str(token["url"])

        client = WebPubSubClient(WebPubSubClientCredential(url))
        clients.append(client)
        return client

    yield emulator, make
    for client in clients:
        await client.close()
    await service.close()


async def group_inbox(client: WebPubSubClient) -> Inbox:
    inbox = Inbox()

    async def on_group(args: Any) -> None:
        await inbox.add((args.group, args.data, args.from_user_id))

    await client.subscribe(CallbackType.GROUP_MESSAGE, on_group)
    return inbox


async def test_join_group_and_send_to_group(sdk: tuple[Emulator, Any]) -> None:
    _, make = sdk
    alice, bob = make("alice"), make("bob")
    await alice.open()
    await bob.open()
    bob_inbox = await group_inbox(bob)
    alice_inbox = await group_inbox(alice)
    await alice.join_group("room")
    await bob.join_group("room")
    await alice.send_to_group("room", "hello bob", WebPubSubDataType.TEXT, no_echo=True)
    await alice.send_to_group("room", {"n": 1}, WebPubSubDataType.JSON)
    assert await bob_inbox.wait(2) == [("room", "hello bob", "alice"), ("room", {"n": 1}, "alice")]
    assert await alice_inbox.wait(1) == [("room", {"n": 1}, "alice")]


async def test_send_event_gets_the_handler_answer(
    sdk: tuple[Emulator, Any], upstream: Upstream
) -> None:
    _, make = sdk
    client = make("carol")
    inbox = Inbox()

    async def on_server(args: Any) -> None:
        await inbox.add((args.data_type, args.data))

    await client.subscribe(CallbackType.SERVER_MESSAGE, on_server)
    await client.open()
    await client.send_event("echo", {"q": 42}, WebPubSubDataType.JSON)
    assert await inbox.wait(1) == [("json", {"echo": {"q": 42}})]
    (event,) = upstream.events("azure.webpubsub.user.echo")
    assert event.headers["ce-subprotocol"] == "json.reliable.webpubsub.azure.v1"
    assert event.headers["ce-userid"] == "carol"


async def test_dropped_socket_is_recovered_without_losing_a_message(
    sdk: tuple[Emulator, Any], upstream: Upstream
) -> None:
    emulator, make = sdk
    subscriber, publisher = make("sub"), make("pub")
    await subscriber.open()
    await publisher.open()
    inbox = await group_inbox(subscriber)
    await subscriber.join_group("room")
    connection_id = subscriber._connection_id  # the SDK exposes no public accessor
    assert connection_id is not None

    for n in range(5):
        await publisher.send_to_group("room", n, WebPubSubDataType.JSON)
    await inbox.wait(5)
    assert emulator.drop_socket(HUB, connection_id)
    # Sent while the subscriber's socket is down or recovering.
    for n in range(5, 15):
        await publisher.send_to_group("room", n, WebPubSubDataType.JSON)
    received = await inbox.wait(15)
    await asyncio.sleep(0.2)  # a duplicate delivery would show up here
    assert [data for _, data, _ in inbox.items] == list(range(15))
    assert received[0][2] == "pub"
    assert subscriber._connection_id == connection_id
    assert emulator.service.find(HUB, connection_id) is not None
    assert upstream.events("azure.webpubsub.sys.disconnected") == []
    assert len(upstream.events("azure.webpubsub.sys.connect")) == 2  # one per client
