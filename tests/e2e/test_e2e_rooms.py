"""Rooms through the whole stack: who gets a sendMessage, and who gets an HTTP broadcast."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from devstack.stack import LocalStack
from tests.e2e.chat_client import ChatClient, guest_token, join, signed_token

pytestmark = pytest.mark.e2e

MEMBERS = 3


async def join_room(http: aiohttp.ClientSession, host_url: str, room: str) -> list[ChatClient]:
    names = [f"{room}-{n}" for n in range(MEMBERS)]
    return list(await asyncio.gather(*(join(http, host_url, room, name) for name in names)))


async def test_every_send_reaches_exactly_the_other_members_of_its_own_room(
    stack: LocalStack, http: aiohttp.ClientSession
) -> None:
    suffix = uuid.uuid4().hex[:8]
    rooms = {
        room: await join_room(http, stack.host_url, room) for room in (f"a{suffix}", f"b{suffix}")
    }
    everyone = [client for members in rooms.values() for client in members]

    async def send(client: ChatClient) -> None:
        reply = await client.call("sendMessage", message=f"from {client.name}")
        assert reply["action"] == "sendMessage"
        assert reply["message"] == f"from {client.name}"

    await asyncio.gather(*(send(client) for client in everyone))
    received = await asyncio.gather(*(c.broadcasts_exactly(MEMBERS - 1) for c in everyone))

    for client, frames in zip(everyone, received, strict=True):
        others = {(c.name, c.user_id) for c in rooms[client.room] if c is not client}
        assert {(f["type"], f["message"], f["userId"]) for f in frames} == {
            ("message", f"from {name}", user) for name, user in others
        }, client.name
    for client in everyone:
        await client.close()


async def test_http_broadcast_reaches_every_member_of_the_room_and_no_other_room(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    members = await join_room(http, stack.host_url, room)
    outsider = await join(http, stack.host_url, f"{room}-other", "outsider")
    token = signed_token(userId="announcer", role="moderator")

    async with http.post(
        f"{stack.host_url}/api/broadcast",
        json={"room": room, "message": "to all"},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status in {200, 204}, await response.text()

    received = await asyncio.gather(*(m.broadcasts_exactly(1) for m in members))
    for frames in received:
        assert [(f["type"], f["message"], f["userId"]) for f in frames] == [
            ("message", "to all", "announcer")
        ]
        assert isinstance(frames[0]["timestamp"], int)
    assert await outsider.broadcasts_exactly(0) == []
    for client in [*members, outsider]:
        await client.close()


async def test_http_broadcast_without_a_token_is_refused_and_reaches_nobody(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    member = await join(http, stack.host_url, room, "listener")
    async with http.post(
        f"{stack.host_url}/api/broadcast", json={"room": room, "message": "sneaky"}
    ) as response:
        assert response.status == 401
        body = await response.json()
    assert body["errorName"] == "UnauthorizedError"
    assert await member.broadcasts_exactly(0) == []
    await member.close()


async def test_a_guest_cannot_broadcast_into_a_room(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    member = await join(http, stack.host_url, room, "listener")
    token = await guest_token(http, stack.host_url, "mallory")
    async with http.post(
        f"{stack.host_url}/api/broadcast",
        json={"room": room, "message": "spam"},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 403
        body = await response.json()
    assert body["errorName"] == "ForbiddenError"
    assert "admin or moderator role" in body["error"]
    assert await member.broadcasts_exactly(0) == []
    await member.close()
