"""The board channel's features through the whole local stack, with real WebSocket clients:
connect-time refusal, negotiate by route, channel state, on_message fallback, frame
middleware and permissions; and that joining a chat room costs no REST call."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from azure.data.tables.aio import TableServiceClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from devstack.stack import LocalStack
from tests.e2e.chat_client import TIMEOUT, ChatClient, guest_token, join

pytestmark = pytest.mark.e2e


async def negotiate_route(http: aiohttp.ClientSession, host_url: str, path: str) -> Any:
    async with http.get(f"{host_url}/api/negotiate/{path}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def enter(http: aiohttp.ClientSession, host_url: str, room: str, name: str) -> ChatClient:
    """Negotiate `/board/<room>`, connect, take the welcome, start reading."""
    info = await negotiate_route(http, host_url, f"board/{room}")
    ws = await connect(info["url"], open_timeout=TIMEOUT)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert welcome == {"welcome": f"Welcome to the {room} board"}
    client = ChatClient(name=name, room=room, token="", ws=ws)
    client.start()
    return client


async def test_a_private_board_refuses_the_connect_and_stores_no_record(
    stack: LocalStack, http: aiohttp.ClientSession, tables: TableServiceClient, room: str
) -> None:
    member = await enter(http, stack.host_url, room, "member")  # a record that is stored
    info = await negotiate_route(http, stack.host_url, f"board/private-{room}")
    with pytest.raises(InvalidStatus) as refused:
        await connect(info["url"], open_timeout=TIMEOUT)
    # on_connect's ForbiddenError, as Web PubSub's userError: 400 with the message as body
    assert refused.value.response.status_code == 400
    assert refused.value.response.body == b"this board is private"
    records = tables.get_table_client("connections").query_entities(
        "Channel eq @c", parameters={"c": "board"}
    )
    rooms = [json.loads(r["OpeningData"])["room"] async for r in records]
    assert room in rooms and f"private-{room}" not in rooms
    await member.close()


async def test_negotiate_by_route_connects_to_chat_with_the_room_from_the_path(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    info = await negotiate_route(http, stack.host_url, f"chat/{room}")
    async with connect(info["url"], open_timeout=TIMEOUT) as ws:
        welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert welcome == {"welcome": f"Welcome to {room}!"}


async def test_state_unknown_actions_middleware_and_permissions_on_one_board(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    poster = await enter(http, stack.host_url, room, "poster")
    reader = await enter(http, stack.host_url, room, "reader")

    # frame middleware: a banned word is masked in the reply and in what others receive
    assert await poster.call("post", text="darn rain") == {
        "action": "post",
        "text": "**** rain",
        "posts": 1,
    }
    # ...and a draft reaches nobody (its publish was dropped), while the reply still comes
    assert (await poster.call("post", text="draft", draft=True))["posts"] == 2
    notice = {"type": "notice", "text": "**** rain", "draft": False}
    assert await reader.broadcasts_exactly(1) == [notice]
    assert await poster.broadcasts_exactly(1) == [notice]  # a publish to None reaches all
    # channel state: kept per connection, read by the next event
    assert await poster.call("seen") == {"action": "seen", "posts": 2}
    assert await reader.call("seen") == {"action": "seen", "posts": 0}

    # an unknown action reaches on_message, as the text sent
    await poster.send("dance", speed=2)
    assert await poster.broadcast() == {"unrouted": '{"action": "dance", "speed": 2}'}

    # a failed permission: a 403 frame, and the connection stays open
    token = await guest_token(http, stack.host_url, "guest-eve")
    assert (await poster.call("authenticate", token=token))["authenticated"] is True
    assert await poster.call("clear") == {
        "action": "clear",
        "error": "'clear' is not permitted",
        "errorName": "ForbiddenError",
        "status": 403,
    }
    assert await poster.call("seen") == {"action": "seen", "posts": 2}
    await poster.close()
    await reader.close()


async def test_joining_a_chat_room_costs_no_rest_call_yet_the_room_hears_the_member(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    emulator = next(c for c in stack.children if c.name == "webpubsub")
    alice = await join(http, stack.host_url, room, "alice")
    bob = await join(http, stack.host_url, room, "bob")
    await bob.call("sendMessage", message="hi")
    assert (await alice.broadcast())["message"] == "hi"  # both joined the room's group
    await asyncio.sleep(0.2)  # the emulator logs a request once it has answered
    log = emulator.output()
    # Its REST log shows the publish, and no call adding a connection to the room: the group
    # came with the connect response.
    assert f"/groups/room:{room}/:send" in log or f"/groups/room%3A{room}/:send" in log
    assert f"/groups/room:{room}/connections/" not in log
    assert f"/groups/room%3A{room}/connections/" not in log
    await alice.close()
    await bob.close()
