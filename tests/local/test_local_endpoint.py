"""The client endpoint of `shared.local`: access tokens, refusals, frames, states, closing.

Real sockets (the `websockets` client) against a real server on a loopback port.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from shared.core.functions import channel_disconnection_func, channel_func
from shared.core.services import ChannelServices
from shared.core.stores import ConnectionRecord, MemoryConnectionStore
from shared.core.wiring import ChannelRegistry, wire_channel
from shared.local import LocalApp
from shared.local.access import ClientTokens
from shared.local.transport import MAX_QUEUED_FRAMES
from tests.e2e.chat_client import guest_token, join, negotiate
from tests.local.conftest import Served, serve

TIMEOUT = 10.0


async def recv_json(ws: ClientConnection) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def refused(url: str) -> tuple[int, str]:
    """The HTTP status and body a WebSocket handshake to `url` is refused with."""
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, open_timeout=TIMEOUT):
            pass
    response = caught.value.response
    return response.status_code, response.body.decode() if response.body else ""


# -- connect: the access token, then the channel's own checks ---------------------------------


async def test_a_connection_without_a_valid_access_token_is_refused_with_401(
    server: Served, http: aiohttp.ClientSession
) -> None:
    info = await negotiate(http, server.url, "chat", "general")
    base = f"{info['baseUrl']}?channel=chat&room=general"
    assert await refused(base) == (
        401,
        "an access token is required: ?access_token=<token from negotiate>",
    )
    forged = ClientTokens().issue("mallory")  # the right shape, another key
    assert await refused(f"{base}&access_token={forged}") == (401, "the access token is not valid")
    session = await guest_token(http, server.url, "ada")  # a session token opens no socket
    assert await refused(f"{base}&access_token={session}") == (
        401,
        "the access token is not valid",
    )
    server.runtime.tokens.lifetime_seconds = -60
    expired = (await negotiate(http, server.url, "chat", "general"))["url"]
    assert await refused(expired) == (401, "the access token has expired: negotiate again")
    assert server.runtime.parts.store.records == {}  # type: ignore[attr-defined]


async def test_refused_connects_carry_the_services_status_and_the_channels_message(
    server: Served, http: aiohttp.ClientSession
) -> None:
    # 400 for every client error, as Azure Web PubSub answers (401, 400 or 500 only): an app
    # that works here meets the same codes there
    token = (await negotiate(http, server.url, "chat", "general"))["accessToken"]
    base = f"{server.url.replace('http', 'ws')}/client?access_token={token}"
    assert await refused(base) == (400, "the connection URL must name a channel: ?channel=<name>")
    assert await refused(f"{base}&channel=nope") == (400, "unknown channel 'nope'")
    status, message = await refused(f"{base}&channel=chat&room=no%20spaces")
    assert status == 400
    assert message.startswith("invalid opening data: room:")


async def test_negotiate_with_a_session_token_connects_as_that_user(
    server: Served, http: aiohttp.ClientSession
) -> None:
    token = await guest_token(http, server.url, "ada")
    info = await negotiate(http, server.url, "chat", "signed", token=token)
    async with connect(info["url"], open_timeout=TIMEOUT) as ws:
        assert await recv_json(ws) == {"welcome": "Welcome to signed!"}
        await ws.send(json.dumps({"action": "sendMessage", "message": "no authenticate needed"}))
        reply = await recv_json(ws)
        assert reply["message"] == "no authenticate needed"


async def test_negotiate_answers_urls_to_the_host_the_client_reached(
    server: Served, http: aiohttp.ClientSession
) -> None:
    url = f"http://localhost:{server.running.port}/api/negotiate"
    async with http.get(url, params={"channel": "chat", "room": "general"}) as response:
        info = await response.json()
    assert info["baseUrl"] == f"ws://localhost:{server.running.port}/client"
    assert info["url"].startswith(f"{info['baseUrl']}?access_token={info['accessToken']}&")
    assert info["url"].endswith("&channel=chat&room=general")


# -- frames: every bad one gets an error frame and the connection stays --------------------


@pytest.fixture
async def ws(server: Served, http: aiohttp.ClientSession) -> AsyncIterator[ClientConnection]:
    info = await negotiate(http, server.url, "chat", "frames")
    async with connect(info["url"], open_timeout=TIMEOUT, max_size=None) as socket:
        assert await recv_json(socket) == {"welcome": "Welcome to frames!"}
        yield socket


async def test_a_binary_frame_gets_415_and_the_connection_stays(ws: ClientConnection) -> None:
    await ws.send(b'{"action": "history"}')
    refused = await recv_json(ws)
    assert (refused["errorName"], refused["status"]) == ("UnsupportedMediaTypeError", 415)
    assert refused["error"].startswith("binary frames are not supported")
    assert "base64" in refused["error"]  # what to do instead
    await ws.send(json.dumps({"action": "history"}))
    assert (await recv_json(ws))["errorName"] == "UnauthorizedError"  # still served


async def test_text_that_is_not_json_gets_400_and_the_connection_stays(
    ws: ClientConnection,
) -> None:
    await ws.send("{not json")
    frame = await recv_json(ws)
    assert (frame["errorName"], frame["status"]) == ("BadRequestError", 400)
    assert frame["error"].startswith("frame is not valid JSON")
    await ws.send(json.dumps({"action": "nope"}))
    frame = await recv_json(ws)
    assert (frame["action"], frame["status"]) == ("nope", 404)


async def test_a_frame_over_the_channel_limit_gets_413_and_the_connection_stays(
    ws: ClientConnection,
) -> None:
    await ws.send(json.dumps({"action": "sendMessage", "message": "x" * 300_000}))
    frame = await recv_json(ws)
    assert (frame["errorName"], frame["status"]) == ("PayloadTooLargeError", 413)
    await ws.send(json.dumps({"action": "history"}))
    assert (await recv_json(ws))["status"] == 401


async def test_a_frame_over_one_mebibyte_closes_that_socket_only(
    server: Served, http: aiohttp.ClientSession, ws: ClientConnection
) -> None:
    await ws.send("x" * (1024 * 1024 + 1))  # Web PubSub's limit for a client frame
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    other = await join(http, server.url, "frames", "bob")  # the server serves on
    assert (await other.call("history"))["messages"] == []
    await other.close()


# -- connection states: carried per connection, as Web PubSub does -------------------------


class CountingStore(MemoryConnectionStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, channel_id: str) -> ConnectionRecord | None:
        self.reads += 1
        return await super().get(channel_id)


async def test_states_from_connect_and_authenticate_come_back_so_messages_read_no_record(
    server: Served, http: aiohttp.ClientSession
) -> None:
    store = CountingStore()
    server.runtime.parts.store = store
    server.runtime.parts.dispatcher.store = store
    ada = await join(http, server.url, "states", "ada", authenticate=False)
    reads_after_connect = store.reads  # `connected`: on_connect may set a session
    await ada.authenticate()  # the session changed: its copy comes back in the states
    for text in ("one", "two", "three"):
        assert (await ada.call("sendMessage", message=text))["message"] == text
    assert (await ada.call("history"))["messages"][-1]["message"] == "three"
    assert store.reads - reads_after_connect <= 1  # authenticate only: the first message
    await ada.close()


# -- closing -----------------------------------------------------------------------------


class Nothing(BaseModel):
    pass


class Door:
    """A channel that closes itself on request and records why each connection ended."""

    def __init__(self) -> None:
        self.ended: asyncio.Queue[str] = asyncio.Queue()
        self.registry = ChannelRegistry()

        @channel_func(auth=False)
        async def leave(services: ChannelServices[Any], data: Nothing) -> None:
            await services.channel.close("bye")

        @channel_func(auth=False)
        async def flood(services: ChannelServices[Any], data: Nothing) -> None:
            for n in range(MAX_QUEUED_FRAMES + 10):  # faster than any client reads
                await services.channel.send({"n": n})

        @channel_disconnection_func
        async def gone(services: ChannelServices[Any], data: Any) -> None:
            self.ended.put_nowait(services.channel.channel_id)

        wire_channel(
            name="door",
            route="/door",
            auth=False,
            on_disconnect=gone,
            on_message_wiring={"action": {"leave": leave, "flood": flood}},
            registry=self.registry,
        )


@pytest.fixture
async def door() -> AsyncIterator[tuple[Door, Served]]:
    channel = Door()
    served = await serve(LocalApp(channel.registry))
    yield channel, served
    await served.running.stop()


async def open_door(http: aiohttp.ClientSession, served: Served) -> ClientConnection:
    async with http.get(f"{served.url}/api/negotiate", params={"channel": "door"}) as response:
        info = await response.json()
    return await connect(info["url"], open_timeout=TIMEOUT)


async def test_channel_close_closes_the_socket_with_its_reason_then_disconnect_runs(
    door: tuple[Door, Served], http: aiohttp.ClientSession
) -> None:
    channel, served = door
    ws = await open_door(http, served)
    await ws.send(json.dumps({"action": "leave"}))
    # The close goes out while the action runs, so its reply never does (as on Web PubSub,
    # where the close is a REST call made before the event's answer).
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1000, "bye")
    await asyncio.wait_for(channel.ended.get(), TIMEOUT)
    assert served.runtime.parts.store.records == {}  # type: ignore[attr-defined]


async def test_a_client_that_falls_too_far_behind_is_cut_off_not_buffered_forever(
    door: tuple[Door, Served], http: aiohttp.ClientSession
) -> None:
    channel, served = door
    ws = await open_door(http, served)
    await ws.send(json.dumps({"action": "flood"}))
    received = 0
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            received += 1
    assert received == MAX_QUEUED_FRAMES  # what was queued goes out, then the close
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1013,
        "too many frames waiting: the client is not reading",
    )
    await asyncio.wait_for(channel.ended.get(), TIMEOUT)


async def test_a_client_close_runs_disconnect_and_the_connection_leaves_its_topics(
    server: Served, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server.url, "leaving", "ada")
    bob = await join(http, server.url, "leaving", "bob")
    assert server.runtime.transport.topics["room:leaving"] != set()
    await bob.close()
    ada_id = next(iter(server.runtime.parts.store.records))  # type: ignore[attr-defined]
    for _ in range(100):  # disconnected runs as the server notices the close
        if len(server.runtime.parts.store.records) == 1:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.05)
    assert list(server.runtime.parts.store.records) == [ada_id]  # type: ignore[attr-defined]
    assert server.runtime.transport.topics["room:leaving"] == {ada_id}
    await ada.close()


async def test_stopping_the_server_closes_every_socket_as_going_away(
    door: tuple[Door, Served], http: aiohttp.ClientSession
) -> None:
    channel, served = door
    ws = await open_door(http, served)
    await served.running.stop()
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1001,
        "the server is shutting down",
    )
    await asyncio.wait_for(channel.ended.get(), TIMEOUT)


# -- logs ----------------------------------------------------------------------------------


async def test_no_token_reaches_the_logs(
    server: Served, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ada = await join(http, server.url, "logs", "ada")
    await ada.call("sendMessage", message="logged?")
    info = await negotiate(http, server.url, "chat", "logs")
    await ada.close()
    access_token = info["accessToken"]
    # the server's logs (the websockets client logs its own request line at DEBUG)
    logged = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("websockets")
    )
    assert "GET /client 101" in logged  # the access log ran
    for secret in (ada.token, access_token, access_token.split(".")[2]):
        assert secret not in logged


async def test_negotiate_by_the_channel_s_route_takes_opening_data_from_the_path(
    server: Served, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.url}/api/negotiate/chat/by-route") as response:
        assert response.status == 200
        info = await response.json()
    async with connect(info["url"], open_timeout=TIMEOUT) as ws:
        assert await recv_json(ws) == {"welcome": "Welcome to by-route!"}
