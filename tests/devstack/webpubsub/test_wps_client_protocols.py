"""Clients talking to the emulator directly: simple, json.webpubsub and reliable protocols."""

from __future__ import annotations

import time

import aiohttp
import jwt
import pytest

from devstack.webpubsub import Emulator
from tests.devstack.webpubsub.wps_support import HUB, ClientUrl, Connect

JSON = "json.webpubsub.azure.v1"
RELIABLE = "json.reliable.webpubsub.azure.v1"
ALL_ROLES = ["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"]


async def test_json_client_gets_connected_message_with_its_ids(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator, user_id="alice"), JSON)
    assert client.ws.protocol == JSON
    connected = await client.json()
    assert connected["type"] == "system" and connected["event"] == "connected"
    assert connected["userId"] == "alice"
    assert isinstance(connected["connectionId"], str) and connected["connectionId"]
    assert "reconnectionToken" not in connected


async def test_join_send_to_group_and_no_echo(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    alice = await connect(await client_url(emulator, user_id="alice", roles=ALL_ROLES), JSON)
    bob = await connect(await client_url(emulator, user_id="bob", roles=ALL_ROLES), JSON)
    await alice.json(), await bob.json()
    for ack_id, client in ((1, alice), (2, bob)):
        await client.send({"type": "joinGroup", "group": "room", "ackId": ack_id})
        assert await client.json() == {"type": "ack", "ackId": ack_id, "success": True}

    await alice.send(
        {"type": "sendToGroup", "group": "room", "dataType": "text", "data": "hi", "ackId": 3}
    )
    frames = [await alice.json(), await alice.json()]
    group_message = {
        "type": "message",
        "from": "group",
        "group": "room",
        "dataType": "text",
        "data": "hi",
        "fromUserId": "alice",
    }
    assert group_message in frames  # echoed to the sender by default
    assert {"type": "ack", "ackId": 3, "success": True} in frames
    assert await bob.json() == group_message

    await alice.send(
        {
            "type": "sendToGroup",
            "group": "room",
            "dataType": "json",
            "data": {"n": 1},
            "noEcho": True,
        }
    )
    assert (await bob.json())["data"] == {"n": 1}
    await alice.nothing()


async def test_binary_group_data_is_base64_for_json_clients_and_binary_for_simple(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    sender = await connect(await client_url(emulator, roles=ALL_ROLES), JSON)
    await sender.json()
    simple = await connect(await client_url(emulator, groups=["room"]))
    await sender.send(
        {"type": "sendToGroup", "group": "room", "dataType": "binary", "data": "AAEC", "ackId": 1}
    )
    assert await sender.json() == {"type": "ack", "ackId": 1, "success": True}
    frame = await simple.frame()
    assert frame.type is aiohttp.WSMsgType.BINARY and frame.data == b"\x00\x01\x02"


async def test_repeated_ack_id_is_answered_duplicate(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator, roles=ALL_ROLES), JSON)
    await client.json()
    await client.send({"type": "joinGroup", "group": "g", "ackId": 7})
    assert (await client.json())["success"] is True
    await client.send({"type": "leaveGroup", "group": "g", "ackId": 7})
    ack = await client.json()
    assert ack["ackId"] == 7 and ack["success"] is False
    assert ack["error"]["name"] == "Duplicate"


async def test_group_actions_without_roles_are_forbidden(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator, roles=["webpubsub.sendToGroup.open"]), JSON)
    await client.json()
    await client.send({"type": "joinGroup", "group": "g", "ackId": 1})
    ack = await client.json()
    assert ack["success"] is False and ack["error"]["name"] == "Forbidden"
    await client.send({"type": "sendToGroup", "group": "closed", "data": 1, "ackId": 2})
    assert (await client.json())["error"]["name"] == "Forbidden"
    await client.send({"type": "sendToGroup", "group": "open", "data": 1, "ackId": 3})
    assert await client.json() == {"type": "ack", "ackId": 3, "success": True}


async def test_group_scoped_join_role_and_initial_groups_claim(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    url = await client_url(
        emulator, roles=["webpubsub.joinLeaveGroup.mine"], groups=["lobby"], user_id="u"
    )
    client = await connect(url, JSON)
    await client.json()
    await client.send({"type": "joinGroup", "group": "mine", "ackId": 1})
    assert (await client.json())["success"] is True
    await client.send({"type": "joinGroup", "group": "other", "ackId": 2})
    assert (await client.json())["success"] is False
    publisher = await connect(await client_url(emulator, roles=ALL_ROLES), JSON)
    await publisher.json()
    for group in ("lobby", "mine"):
        await publisher.send({"type": "sendToGroup", "group": group, "data": group, "noEcho": True})
        assert (await client.json())["group"] == group


@pytest.mark.parametrize(
    "problem",
    ["missing", "wrong key", "expired", "other hub", "garbage"],
)
async def test_bad_tokens_are_refused_with_401(
    emulator: Emulator, connect: Connect, problem: str
) -> None:
    base = f"ws://localhost:{emulator.port}/client/hubs/{HUB}"
    now = int(time.time())
    claims = {"aud": f"http://localhost:{emulator.port}/client/hubs/{HUB}", "exp": now + 60}
    key = emulator.config.access_key
    if problem == "wrong key":
        key = "x" * 44
    elif problem == "expired":
        claims["exp"] = now - 120
    elif problem == "other hub":
        claims["aud"] = f"http://localhost:{emulator.port}/client/hubs/other"
    token = jwt.encode(claims, key, algorithm="HS256")
    url = {"missing": base, "garbage": f"{base}?access_token=abc.def"}.get(
        problem, f"{base}?access_token={token}"
    )
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(url)
    assert refused.value.status == 401


async def test_token_in_authorization_header_is_accepted(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    url = await client_url(emulator, user_id="hdr")
    base, _, query = url.partition("?access_token=")
    client = await connect(base, JSON, headers={"Authorization": f"Bearer {query}"})
    assert (await client.json())["userId"] == "hdr"


async def test_frame_over_one_megabyte_closes_with_1009(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator), JSON)
    await client.json()
    await client.ws.send_str("x" * (1024 * 1024 + 1))
    code, _ = await client.closed()
    assert code == 1009


async def test_frame_of_exactly_one_megabyte_is_accepted(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator, roles=ALL_ROLES), JSON)
    await client.json()
    data = "y" * (1024 * 1024 - 200)
    await client.send(
        {"type": "sendToGroup", "group": "g", "dataType": "text", "data": data, "ackId": 1}
    )
    assert await client.json() == {"type": "ack", "ackId": 1, "success": True}


async def test_invalid_json_frame_closes_a_json_client(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator), JSON)
    await client.json()
    await client.ws.send_str("not json")
    code, frames = await client.closed()
    assert code == 1008
    assert frames and frames[-1]["event"] == "disconnected"


async def test_reliable_messages_carry_sequence_ids_and_are_resent_after_recovery(
    start_emulator: object, client_url: ClientUrl, connect: Connect
) -> None:
    emulator: Emulator = await start_emulator(grace_period=2.0)  # type: ignore[operator]
    client = await connect(await client_url(emulator, user_id="r", groups=["g"]), RELIABLE)
    connected = await client.json()
    token = connected["reconnectionToken"]
    connection_id = connected["connectionId"]
    publisher = await connect(await client_url(emulator, roles=ALL_ROLES), JSON)
    await publisher.json()

    for n in (1, 2, 3):
        await publisher.send({"type": "sendToGroup", "group": "g", "data": n, "noEcho": True})
        message = await client.json()
        assert (message["sequenceId"], message["data"]) == (n, n)
    await client.send({"type": "sequenceAck", "sequenceId": 1})
    await publisher.send(
        {"type": "sendToGroup", "group": "g", "dataType": "text", "data": "ping", "ackId": 9}
    )
    assert (await publisher.json())["success"] is True
    await client.json()  # sequence 4; the client "loses" it with the socket

    assert emulator.drop_socket(HUB, connection_id)
    await client.closed()
    # While the socket is down, messages are kept for the connection.
    await publisher.send(
        {"type": "sendToGroup", "group": "g", "data": 5, "noEcho": True, "ackId": 10}
    )
    assert (await publisher.json())["success"] is True

    url = (
        f"ws://localhost:{emulator.port}/client/hubs/{HUB}"
        f"?awps_connection_id={connection_id}&awps_reconnection_token={token}"
    )
    recovered = await connect(url, RELIABLE)
    again = await recovered.json()
    assert again["event"] == "connected" and again["connectionId"] == connection_id
    resent = [await recovered.json() for _ in range(4)]
    assert [m["sequenceId"] for m in resent] == [2, 3, 4, 5]
    assert resent[-1]["data"] == 5
    # Group membership survived.
    await publisher.send({"type": "sendToGroup", "group": "g", "data": 6, "noEcho": True})
    assert (await recovered.json())["sequenceId"] == 6


async def test_recovery_with_a_wrong_token_closes_with_1008(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator), RELIABLE)
    connected = await client.json()
    emulator.drop_socket(HUB, connected["connectionId"])
    url = (
        f"ws://localhost:{emulator.port}/client/hubs/{HUB}"
        f"?awps_connection_id={connected['connectionId']}&awps_reconnection_token=wrong"
    )
    intruder = await connect(url, RELIABLE)
    code, _ = await intruder.closed()
    assert code == 1008


async def test_permessage_deflate_is_not_negotiated(
    emulator: Emulator, client_url: ClientUrl
) -> None:
    """As the service (ASP.NET Core without DangerousEnableCompression) and Microsoft's own
    simulator: a client that offers compression gets plain frames."""
    url = await client_url(emulator, user_id="alice")
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=(JSON,), compress=15) as ws,
    ):
        assert ws.compress == 0
        assert "Sec-WebSocket-Extensions" not in ws._response.headers
