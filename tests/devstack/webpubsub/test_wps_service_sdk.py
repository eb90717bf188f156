"""Microsoft's `azure-messaging-webpubsubservice` (aio) against the emulator, every operation."""

from __future__ import annotations

import io
import time
from typing import Any

import aiohttp
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from devstack.webpubsub import Emulator
from tests.devstack.webpubsub.wps_support import HUB, Client, ClientUrl, Connect

JSON = "json.webpubsub.azure.v1"


async def json_client(
    emulator: Emulator, client_url: ClientUrl, connect: Connect, **kwargs: Any
) -> tuple[Client, str]:
    client = await connect(await client_url(emulator, **kwargs), JSON)
    connected = await client.json()
    return client, connected["connectionId"]


async def test_send_to_all_in_each_content_type(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    pubsub, _ = await json_client(emulator, client_url, connect)
    simple = await connect(await client_url(emulator))

    await service.send_to_all({"hello": "world"})
    assert await pubsub.json() == {
        "type": "message",
        "from": "server",
        "dataType": "json",
        "data": {"hello": "world"},
    }
    assert await simple.text() == '{"hello": "world"}'

    await service.send_to_all("plain", content_type="text/plain")
    assert (await pubsub.json())["data"] == "plain"
    assert await simple.text() == "plain"

    await service.send_to_all(io.BytesIO(b"\x01\x02"), content_type="application/octet-stream")
    assert await pubsub.json() == {
        "type": "message",
        "from": "server",
        "dataType": "binary",
        "data": "AQI=",
    }
    frame = await simple.frame()
    assert frame.type is aiohttp.WSMsgType.BINARY and frame.data == b"\x01\x02"


async def test_send_to_all_honours_excluded_and_filter(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    alice, alice_id = await json_client(emulator, client_url, connect, user_id="alice")
    bob, bob_id = await json_client(emulator, client_url, connect, user_id="bob", groups=["vip"])
    await service.send_to_all("one", content_type="text/plain", excluded=[alice_id])
    assert (await bob.json())["data"] == "one"
    await alice.nothing()
    await service.send_to_all("two", content_type="text/plain", filter="userId eq 'alice'")
    assert (await alice.json())["data"] == "two"
    await bob.nothing()
    await service.send_to_all("three", content_type="text/plain", filter="'vip' in groups")
    assert (await bob.json())["data"] == "three"
    await alice.nothing()
    await service.send_to_all(
        "four", content_type="text/plain", filter=f"not(connectionId eq '{bob_id}')"
    )
    assert (await alice.json())["data"] == "four"
    await bob.nothing()


async def test_send_to_user_connection_and_group(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    alice, alice_id = await json_client(emulator, client_url, connect, user_id="alice")
    alice2, _ = await json_client(emulator, client_url, connect, user_id="alice")
    bob, bob_id = await json_client(emulator, client_url, connect, user_id="bob")

    await service.send_to_user("alice", "for alice", content_type="text/plain")
    assert (await alice.json())["data"] == "for alice"
    assert (await alice2.json())["data"] == "for alice"
    await bob.nothing()

    await service.send_to_connection(bob_id, {"n": 1})
    assert (await bob.json())["data"] == {"n": 1}
    await alice.nothing()

    await service.add_connection_to_group("room", alice_id)
    await service.add_connection_to_group("room", bob_id)
    await service.send_to_group("room", "hi room", content_type="text/plain", excluded=[bob_id])
    assert await alice.json() == {
        "type": "message",
        "from": "group",
        "group": "room",
        "dataType": "text",
        "data": "hi room",
    }
    await bob.nothing()
    await alice2.nothing()
    await service.send_to_group(
        "room", "filtered", content_type="text/plain", filter="userId ne 'alice'"
    )
    assert (await bob.json())["data"] == "filtered"
    await alice.nothing()


async def test_group_membership_operations(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    alice, alice_id = await json_client(emulator, client_url, connect, user_id="alice")
    assert await service.group_exists("g1") is False
    await service.add_connection_to_group("g1", alice_id)
    await service.add_connection_to_group("g2", alice_id)
    assert await service.group_exists("g1") is True
    await service.remove_connection_from_group("g1", alice_id)
    assert await service.group_exists("g1") is False
    await service.remove_connection_from_all_groups(alice_id)
    assert await service.group_exists("g2") is False
    with pytest.raises(ResourceNotFoundError):
        await service.add_connection_to_group("g1", "no-such-connection")

    await service.add_user_to_group("ug", "alice")
    await service.send_to_group("ug", "to ug", content_type="text/plain")
    assert (await alice.json())["data"] == "to ug"
    # A user's group membership also applies to the user's later connections.
    later, _ = await json_client(emulator, client_url, connect, user_id="alice")
    await service.send_to_group("ug", "again", content_type="text/plain")
    assert (await later.json())["data"] == "again"
    assert (await alice.json())["data"] == "again"
    await service.remove_user_from_group("ug", "alice")
    assert await service.group_exists("ug") is False
    await service.add_user_to_group("a", "alice")
    await service.add_user_to_group("b", "alice")
    await service.remove_user_from_all_groups("alice")
    assert not await service.group_exists("a") and not await service.group_exists("b")


async def test_exists_checks(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    client, connection_id = await json_client(emulator, client_url, connect, user_id="carol")
    assert await service.connection_exists(connection_id) is True
    assert await service.connection_exists("nope") is False
    assert await service.user_exists("carol") is True
    assert await service.user_exists("dave") is False
    await client.ws.close()
    assert await service.connection_exists(connection_id) is False


async def test_close_operations_close_the_sockets_with_a_reason(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    one, one_id = await json_client(emulator, client_url, connect, user_id="u1")
    await service.close_connection(one_id, reason="bye one")
    code, frames = await one.closed()
    assert code == 1000
    assert frames == [{"type": "system", "event": "disconnected", "message": "bye one"}]
    assert await service.connection_exists(one_id) is False

    two, _ = await json_client(emulator, client_url, connect, user_id="u2")
    await service.close_user_connections("u2", reason="bye user")
    assert (await two.closed())[1][-1]["message"] == "bye user"

    three, _ = await json_client(emulator, client_url, connect, groups=["room"])
    await service.close_group_connections("room", reason="bye group")
    assert (await three.closed())[1][-1]["message"] == "bye group"

    four, _ = await json_client(emulator, client_url, connect)
    five, five_id = await json_client(emulator, client_url, connect)
    await service.close_all_connections(excluded=[five_id], reason="bye all")
    assert (await four.closed())[1][-1]["message"] == "bye all"
    assert await service.connection_exists(five_id) is True
    await five.nothing()


async def test_permissions_grant_check_revoke(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    client, connection_id = await json_client(emulator, client_url, connect)
    assert await service.has_permission("joinLeaveGroup", connection_id, target_name="g") is False
    await client.send({"type": "joinGroup", "group": "g", "ackId": 1})
    assert (await client.json())["error"]["name"] == "Forbidden"

    await service.grant_permission("joinLeaveGroup", connection_id, target_name="g")
    assert await service.has_permission("joinLeaveGroup", connection_id, target_name="g") is True
    await client.send({"type": "joinGroup", "group": "g", "ackId": 2})
    assert (await client.json())["success"] is True

    await service.revoke_permission("joinLeaveGroup", connection_id, target_name="g")
    assert await service.has_permission("joinLeaveGroup", connection_id, target_name="g") is False
    await service.grant_permission("sendToGroup", connection_id)
    assert await service.has_permission("sendToGroup", connection_id) is True
    assert await service.has_permission("sendToGroup", connection_id, target_name="any") is True
    with pytest.raises(ResourceNotFoundError):
        await service.grant_permission("sendToGroup", "no-such-connection")


async def test_list_connections_in_a_group_pages_through_all(
    emulator: Emulator,
    service: WebPubSubServiceClient,
    client_url: ClientUrl,
    connect: Connect,
) -> None:
    clients = [
        await json_client(emulator, client_url, connect, user_id=f"user{n}", groups=["many"])
        for n in range(5)
    ]
    ids = {connection_id for _, connection_id in clients}
    members = [m async for m in service.list_connections(group="many")]
    assert {m.connection_id for m in members} == ids
    assert {m.user_id for m in members} == {f"user{n}" for n in range(5)}
    pages = [
        [m async for m in page]
        async for page in service.list_connections(group="many", maxpagesize=2).by_page()
    ]
    assert [len(p) for p in pages] == [2, 2, 1]
    limited = [m async for m in service.list_connections(group="many", top=3)]
    assert len(limited) == 3


async def test_rest_rejects_a_token_signed_with_another_key(emulator: Emulator) -> None:
    wrong = emulator.connection_string.replace(emulator.config.access_key, "W" * 44)
    async with WebPubSubServiceClient.from_connection_string(wrong, hub=HUB) as client:
        with pytest.raises(ClientAuthenticationError):
            await client.send_to_all("x", content_type="text/plain")


async def test_generate_token_endpoint_and_health(emulator: Emulator, connect: Connect) -> None:
    url = f"{emulator.url}/api/hubs/{HUB}/:generateToken?userId=zed&role=webpubsub.sendToGroup"
    url += "&api-version=2024-12-01"
    token = jwt.encode(
        {"aud": url, "exp": int(time.time()) + 60}, emulator.config.access_key, algorithm="HS256"
    )
    async with aiohttp.ClientSession() as session:
        async with session.head(f"{emulator.url}/api/health") as health:
            assert health.status == 200
        async with session.post(url, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200
            body = await response.json()
        async with session.post(url) as anonymous:
            assert anonymous.status == 401
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "zed" and claims["role"] == ["webpubsub.sendToGroup"]
    client = await connect(
        f"ws://localhost:{emulator.port}/client/hubs/{HUB}?access_token={body['token']}", JSON
    )
    assert (await client.json())["userId"] == "zed"
