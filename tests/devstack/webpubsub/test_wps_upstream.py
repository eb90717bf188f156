"""Events the emulator raises upstream, against a recording CloudEvents handler."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from devstack.webpubsub import Emulator
from tests.devstack.webpubsub.wps_support import HUB, ClientUrl, Connect, Recorded, Upstream
from tests.support.payloads import signature

JSON = "json.webpubsub.azure.v1"
RELIABLE = "json.reliable.webpubsub.azure.v1"


def states(**values: Any) -> str:
    """The Functions extension's encoding: base64(json({key: base64(json(value))}))."""
    inner = {k: base64.b64encode(json.dumps(v).encode()).decode() for k, v in values.items()}
    return base64.b64encode(json.dumps(inner).encode()).decode()


def decode_states(header: str) -> dict[str, Any]:
    inner = json.loads(base64.b64decode(header))
    return {k: json.loads(base64.b64decode(v)) for k, v in inner.items()}


async def test_simple_client_lifecycle_raises_every_event_with_exact_headers(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type == "azure.webpubsub.sys.connect":
            return web.json_response(
                {"userId": "handler-user", "groups": ["lobby"]},
                headers={"ce-connectionState": states(room="r1")},
            )
        if request.ce_type == "azure.webpubsub.user.message":
            count = len(upstream.events(request.ce_type))
            return web.Response(
                text=f"echo:{request.body.decode(errors='replace')}",
                headers={"ce-connectionState": states(room="r1", count=count)},
            )
        return web.Response(status=200)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    key = emulator.config.access_key
    client = await connect(await client_url(emulator, user_id="token-user") + "&room=r1")

    options = upstream.requests[0]
    assert options.method == "OPTIONS"
    assert options.headers["webhook-request-origin"] == "localhost"
    assert options.headers["ce-awpsversion"] == "1.0"

    (connect_event,) = upstream.events("azure.webpubsub.sys.connect")
    headers = connect_event.headers
    connection_id = headers["ce-connectionid"]
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-source"] == f"/hubs/{HUB}/client/{connection_id}"
    assert headers["ce-id"] and headers["ce-time"].endswith("Z")
    assert headers["ce-awpsversion"] == "1.0"
    assert headers["ce-hub"] == HUB
    assert headers["ce-eventname"] == "connect"
    assert headers["ce-userid"] == "token-user"
    assert headers["ce-signature"] == signature(connection_id, key)
    assert headers["webhook-request-origin"] == "localhost"
    assert headers["content-type"].startswith("application/json")
    assert "ce-connectionstate" not in headers
    body = connect_event.json()
    assert set(body) == {"claims", "query", "headers", "subprotocols", "clientCertificates"}
    assert body["claims"]["sub"] == ["token-user"]
    assert body["query"]["room"] == ["r1"] and "access_token" in body["query"]
    assert body["subprotocols"] == []

    (connected,) = await upstream.wait_for("azure.webpubsub.sys.connected")
    assert connected.headers["ce-userid"] == "handler-user"
    assert connected.headers["ce-eventname"] == "connected"
    assert decode_states(connected.headers["ce-connectionstate"]) == {"room": "r1"}
    assert connected.json() == {}

    await client.ws.send_str("hello")
    assert await client.text() == "echo:hello"
    await client.ws.send_str("again")
    assert await client.text() == "echo:again"
    first, second = upstream.events("azure.webpubsub.user.message")
    assert first.headers["content-type"] == "text/plain" and first.body == b"hello"
    assert first.headers["ce-eventname"] == "message"
    assert first.headers["ce-signature"] == signature(connection_id, key)
    assert decode_states(first.headers["ce-connectionstate"]) == {"room": "r1"}
    assert decode_states(second.headers["ce-connectionstate"]) == {"room": "r1", "count": 1}

    await client.ws.send_bytes(b"\x00\xff")
    await client.text()
    binary = upstream.events("azure.webpubsub.user.message")[-1]
    assert binary.headers["content-type"] == "application/octet-stream"
    assert binary.body == b"\x00\xff"

    await client.ws.close()
    (disconnected,) = await upstream.wait_for("azure.webpubsub.sys.disconnected")
    assert disconnected.headers["ce-eventname"] == "disconnected"
    assert set(disconnected.json()) == {"reason"}
    assert decode_states(disconnected.headers["ce-connectionstate"])["count"] == 3


@pytest.mark.parametrize("status", [400, 401, 500])
async def test_connect_rejection_refuses_the_socket_with_the_handler_status(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect, status: int
) -> None:
    upstream.respond = lambda r: web.Response(status=status, text="go away")
    emulator: Emulator = await start_emulator(upstream)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(await client_url(emulator))
    assert refused.value.status == status
    await asyncio.sleep(0.05)
    assert upstream.events("azure.webpubsub.sys.connected") == []


async def test_failed_abuse_protection_handshake_refuses_connections(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    upstream.allowed_origin = "someone-else.example.com"
    emulator: Emulator = await start_emulator(upstream)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(await client_url(emulator))
    assert refused.value.status == 500
    assert upstream.events() == []


async def test_connect_response_sets_roles_and_subprotocol(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type == "azure.webpubsub.sys.connect":
            return web.json_response({"roles": ["webpubsub.joinLeaveGroup"], "subprotocol": JSON})
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator), JSON)
    assert client.ws.protocol == JSON
    connect_body = upstream.events("azure.webpubsub.sys.connect")[0].json()
    assert connect_body["subprotocols"] == [JSON]
    await client.json()
    await client.send({"type": "joinGroup", "group": "g", "ackId": 1})
    assert await client.json() == {"type": "ack", "ackId": 1, "success": True}
    (connected,) = await upstream.wait_for("azure.webpubsub.sys.connected")
    assert connected.headers["ce-subprotocol"] == JSON


@pytest.mark.parametrize(
    ("data_type", "data", "content_type", "body"),
    [
        ("json", {"a": [1, 2]}, "application/json", b'{"a":[1,2]}'),
        ("text", "hi there", "text/plain", b"hi there"),
        ("binary", "AAEC", "application/octet-stream", b"\x00\x01\x02"),
    ],
)
async def test_json_client_event_goes_upstream_and_the_answer_comes_back(
    upstream: Upstream,
    start_emulator: Any,
    client_url: ClientUrl,
    connect: Connect,
    data_type: str,
    data: Any,
    content_type: str,
    body: bytes,
) -> None:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type.startswith("azure.webpubsub.user."):
            return web.Response(body=request.body, content_type=content_type)
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator), JSON)
    await client.json()
    await client.send(
        {"type": "event", "event": "custom", "dataType": data_type, "data": data, "ackId": 5}
    )
    answer = await client.json()
    assert answer == {"type": "message", "from": "server", "dataType": data_type, "data": data}
    assert await client.json() == {"type": "ack", "ackId": 5, "success": True}
    (event,) = upstream.events("azure.webpubsub.user.custom")
    assert event.headers["ce-eventname"] == "custom"
    assert event.headers["content-type"] == content_type
    assert json.loads(event.body) == data if data_type == "json" else event.body == body


async def test_empty_user_event_answer_sends_nothing(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    emulator: Emulator = await start_emulator(upstream)  # answers 204 to everything
    client = await connect(await client_url(emulator))
    await client.ws.send_str("anything")
    await upstream.wait_for("azure.webpubsub.user.message")
    await client.nothing()


@pytest.mark.parametrize("protocol", [None, JSON])
async def test_failing_user_event_closes_the_connection(
    upstream: Upstream,
    start_emulator: Any,
    client_url: ClientUrl,
    connect: Connect,
    protocol: str | None,
) -> None:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type.startswith("azure.webpubsub.user."):
            return web.Response(status=500, text="boom")
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator), protocol)
    if protocol:
        await client.json()
        await client.send({"type": "event", "event": "e", "data": 1, "ackId": 1})
    else:
        await client.ws.send_str("x")
    code, frames = await client.closed()
    assert code == 1011
    if protocol:
        assert frames[0]["ackId"] == 1 and frames[0]["success"] is False
        assert frames[-1]["event"] == "disconnected"
    await upstream.wait_for("azure.webpubsub.sys.disconnected")


async def test_connected_event_does_not_block_the_socket(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    release = asyncio.Event()

    async def respond(request: Recorded) -> web.Response:
        if request.ce_type == "azure.webpubsub.sys.connected":
            await release.wait()
            return web.Response(status=500)  # failures of connected are only logged
        if request.ce_type == "azure.webpubsub.user.message":
            return web.Response(text="pong")
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator))
    await upstream.wait_for("azure.webpubsub.sys.connected")
    await client.ws.send_str("ping")
    assert await client.text() == "pong"
    release.set()
    await client.ws.send_str("ping")
    assert await client.text() == "pong"


async def test_reliable_disconnected_is_raised_only_when_the_grace_period_ends(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    emulator: Emulator = await start_emulator(upstream, grace_period=0.5)
    client = await connect(await client_url(emulator), RELIABLE)
    connection_id = (await client.json())["connectionId"]
    assert emulator.drop_socket(HUB, connection_id)
    await client.closed()
    await asyncio.sleep(0.3)
    assert upstream.events("azure.webpubsub.sys.disconnected") == []
    (disconnected,) = await upstream.wait_for("azure.webpubsub.sys.disconnected")
    assert disconnected.headers["ce-connectionid"] == connection_id


async def test_recovered_connection_raises_no_disconnected(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    emulator: Emulator = await start_emulator(upstream, grace_period=0.4)
    client = await connect(await client_url(emulator), RELIABLE)
    connected = await client.json()
    emulator.drop_socket(HUB, connected["connectionId"])
    await client.closed()
    url = (
        f"ws://localhost:{emulator.port}/client/hubs/{HUB}?awps_connection_id="
        f"{connected['connectionId']}&awps_reconnection_token={connected['reconnectionToken']}"
    )
    recovered = await connect(url, RELIABLE)
    assert (await recovered.json())["connectionId"] == connected["connectionId"]
    await asyncio.sleep(0.6)
    assert upstream.events("azure.webpubsub.sys.disconnected") == []
    assert len(upstream.events("azure.webpubsub.sys.connect")) == 1
