"""Presence, per-user delivery and rate limits through the whole local stack, real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from websockets.protocol import State

from channels import chat  # noqa: F401 - wires chat into this process's registry
from devstack.stack import LocalStack
from shared.azure.stores import TableConnectionStore
from shared.azure.tables import TableStorage
from shared.azure.webpubsub import WebPubSubTransport
from shared.core.event_hub import EventHub
from tests.conftest import STACK_SETTINGS
from tests.e2e.chat_client import QUIET, ChatClient, join, signed_token

pytestmark = pytest.mark.e2e


def notice(event: str, client: ChatClient) -> dict[str, Any]:
    return {
        "type": "presence",
        "event": event,
        "userId": client.user_id,
        "room": client.room,
        "name": client.name,
    }


async def no_notices(*clients: ChatClient) -> None:
    await asyncio.sleep(QUIET)
    for client in clients:
        assert client.presence.empty(), f"{client.name} got {client.presence.get_nowait()}"


@pytest.fixture
async def other_instance(stack: LocalStack) -> AsyncIterator[EventHub]:
    """An event hub of another app instance: its own clients, no memory shared with the host."""
    assert stack.storage_connection_string is not None
    storage = TableStorage.from_connection_string(stack.storage_connection_string)
    transport = WebPubSubTransport.from_connection_string(
        stack.webpubsub_connection_string, STACK_SETTINGS["WebPubSubHub"]
    )
    yield EventHub(transport, TableConnectionStore(storage))
    await transport.aclose()
    await storage.aclose()


async def test_two_members_each_see_the_others_join_and_leave(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    ada = await join(http, stack.host_url, room, "Ada")
    bob = await join(http, stack.host_url, room, "Bob")
    assert await ada.notice() == notice("join", bob)
    await bob.close()
    assert await ada.notice() == notice("leave", bob)

    bob = await join(http, stack.host_url, room, "Bob", token=bob.token, user_id=bob.user_id)
    assert await ada.notice() == notice("join", bob)
    await ada.close()
    assert await bob.notice() == notice("leave", ada)
    await no_notices(bob)  # nobody is told twice, and no one hears of itself
    await bob.close()


async def test_members_lists_both_while_both_are_in_however_they_signed_in(
    stack: LocalStack, http: aiohttp.ClientSession, room: str, other_instance: EventHub
) -> None:
    ada = await join(http, stack.host_url, room, "Ada", bearer=True)  # the service knows Ada
    bob = await join(http, stack.host_url, room, "Bob")  # the authenticate action only
    lurker = await join(http, stack.host_url, room, "Lurker", authenticate=False)
    expected = [
        {"userId": ada.user_id, "connections": 1},  # named by the service, no table read
        {"userId": bob.user_id, "connections": 1, "name": "Bob"},  # named by its record
    ]
    by_id = sorted(expected, key=lambda m: str(m["userId"]))
    assert (await ada.call("members"))["members"] == by_id
    assert (await bob.call("members"))["members"] == by_id
    # another instance asks the service and gets the same answer
    assert [m.user_id for m in await other_instance.members(f"room:{room}")] == [
        m["userId"] for m in by_id
    ]
    refused = await lurker.call("members")
    assert refused["status"] == 401  # a socket nobody signed in on sees no one

    assert await ada.notice() == notice("join", bob)
    await bob.close()
    assert await ada.notice() == notice("leave", bob)
    assert (await ada.call("members"))["members"] == [expected[0]]
    await ada.close()
    await lurker.close()


async def test_send_to_user_reaches_both_connections_of_one_user_and_no_one_else(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    ada_phone = await join(http, stack.host_url, room, "Ada", bearer=True)  # negotiate's Bearer
    ada_laptop = await join(  # the authenticate action, in another room
        http,
        stack.host_url,
        f"{room}-2",
        "Ada",
        token=ada_phone.token,
        user_id=ada_phone.user_id,
    )
    bob = await join(http, stack.host_url, room, "Bob")
    carl = await join(http, stack.host_url, room, "Carl")
    sent = await bob.call("sendDirect", to=ada_phone.user_id, message="psst")
    assert sent["action"] == "sendDirect"
    direct = {
        "type": "direct",
        "message": "psst",
        "userId": bob.user_id,
        "name": "Bob",
        "timestamp": sent["timestamp"],
    }
    assert await ada_phone.broadcasts_exactly(1) == [direct]
    assert await ada_laptop.broadcasts_exactly(1) == [direct]
    assert await bob.broadcasts_exactly(0) == []
    assert await carl.broadcasts_exactly(0) == []
    for client in (ada_phone, ada_laptop, bob, carl):
        await client.close()


async def test_a_flood_gets_429_frames_the_socket_stays_and_later_frames_pass(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    ada = await join(http, stack.host_url, room, "Ada")
    await asyncio.gather(
        *(ada.send("sendMessage", id=f"m{n}", message=f"m{n}") for n in range(100))
    )
    replies = [await ada.reply() for _ in range(100)]
    passed = [r for r in replies if "error" not in r]
    refused = [r for r in replies if r.get("status") == 429]
    # On a loaded machine a backend call can run over its budget: a 503 the client retries
    # with the same id (the retry stores nothing twice). Nothing else may go wrong.
    unavailable = [r for r in replies if r.get("status") == 503]
    assert len(passed) + len(refused) + len(unavailable) == 100, replies
    assert 20 <= len(passed) + len(unavailable) < 100 and refused  # 20 per 10 s
    assert {r["errorName"] for r in refused} == {"TooManyRequestsError"}
    assert all(0 < r["retryAfter"] <= 10 for r in refused)
    assert ada.ws.state is State.OPEN

    await asyncio.sleep(refused[-1]["retryAfter"])
    for retry in unavailable:
        again = await ada.call("sendMessage", id=retry["id"], message=retry["id"])
        assert again["id"] == retry["id"], again
    later = await ada.call("sendMessage", message="after the wait")
    assert later["message"] == "after the wait"
    history = await ada.call("history", limit=200)
    # refused frames stored nothing; a retried one is stored once
    assert len(history["messages"]) == len(passed) + len(unavailable) + 1
    await ada.close()


async def test_an_expired_session_gets_401_and_the_socket_stays(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    brief = await join(
        http, stack.host_url, room, "Brief", token="-", user_id="brief", authenticate=False
    )
    brief.token = signed_token(userId="brief", exp=int(time.time()) - 3)  # in the 5 s leeway
    await brief.authenticate()
    await asyncio.sleep(2.5)  # now past the leeway too
    refused = await brief.call("sendMessage", message="too late")
    assert (refused["status"], refused["error"]) == (
        401,
        "your session has expired: authenticate again",
    )
    brief.token = signed_token(userId="brief")
    await brief.authenticate()
    assert (await brief.call("sendMessage", message="renewed"))["message"] == "renewed"
    await brief.close()
