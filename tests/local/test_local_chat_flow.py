"""The chat channel, unchanged, on the plain WebSocket server: the seed's flow, real sockets.

The same client (tests/e2e/chat_client.py) drives the Azure stack end to end.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp

from shared.core.jwt_service import JwtService
from shared.core.stores import SESSION_GRACE, MemoryConnectionStore
from shared.core.sweep import EXPIRED_REASON
from shared.local import LocalRuntime, create_app, load_app, start
from tests.e2e.chat_client import join
from tests.local.conftest import JWT_SECRET, Served, serve


async def test_seed_flow_welcome_unauthorized_authenticate_send_to_the_room_and_history(
    server: Served, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server.url, "general", "ada", authenticate=False)  # welcome checked
    bob = await join(http, server.url, "general", "bob")
    cy = await join(http, server.url, "elsewhere", "cy")

    refused = await ada.call("sendMessage", message="too early")
    assert refused == {
        "action": "sendMessage",
        "error": "'sendMessage' needs an authenticated session: authenticate first",
        "errorName": "UnauthorizedError",
        "status": 401,
    }
    # the socket stayed open: the same connection authenticates and sends
    await ada.authenticate()
    sent = await ada.call("sendMessage", message="hello room")
    assert sent == {
        "action": "sendMessage",
        "id": sent["id"],
        "message": "hello room",
        "timestamp": sent["timestamp"],
    }

    expected = {
        "type": "message",
        "id": sent["id"],
        "message": "hello room",
        "userId": ada.user_id,
        "name": "ada",
    }
    bob_got, ada_got, cy_got = await asyncio.gather(
        bob.broadcasts_exactly(1), ada.broadcasts_exactly(0), cy.broadcasts_exactly(0)
    )
    assert bob_got == [{**expected, "timestamp": sent["timestamp"]}]
    assert ada_got == []  # never the sender
    assert cy_got == []  # another room

    assert await bob.call("history") == {
        "action": "history",
        "messages": [{**expected, "timestamp": sent["timestamp"]}],
        "more": False,
        "next": None,
    }
    assert await cy.call("history") == {
        "action": "history",
        "messages": [],
        "more": False,
        "next": None,
    }
    for client in (ada, bob, cy):
        await client.close()


async def test_history_is_oldest_first_and_limited(
    server: Served, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server.url, "hist", "ada")
    for text in ("one", "two", "three"):
        await ada.call("sendMessage", message=text)
    history = await ada.call("history", limit=2)
    assert [m["message"] for m in history["messages"]] == ["two", "three"]
    await ada.close()


async def test_broadcast_route_reaches_every_member_of_the_room(
    server: Served, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server.url, "news", "ada")
    bob = await join(http, server.url, "news", "bob")
    async with http.post(
        f"{server.url}/api/broadcast",
        json={"room": "news", "message": "to all"},
        headers={"Authorization": f"Bearer {ada.token}"},
    ) as response:
        assert response.status == 403  # a guest may not broadcast
    moderator = JwtService(JWT_SECRET).sign({"userId": "mod", "role": "moderator"})
    async with http.post(
        f"{server.url}/api/broadcast",
        json={"room": "news", "message": "to all"},
        headers={"Authorization": f"Bearer {moderator}"},
    ) as response:
        assert response.status == 204
    for client in (ada, bob):
        got = await client.broadcast()
        assert (got["message"], got["userId"]) == ("to all", "mod")
        await client.close()


async def test_channel_send_frames_arrive_before_the_reply(
    server: Served, http: aiohttp.ClientSession
) -> None:
    ada = await join(http, server.url, "jobs", "ada")
    reply = await ada.call("processJob", jobId="job-7")
    assert reply == {
        "action": "processJob",
        "type": "complete",
        "result": {"jobId": "job-7", "items": 5},
    }
    assert ada.frames[-3:] == [
        {"type": "processing", "step": "Loading data"},
        {"type": "processing", "step": "Processing"},
        reply,
    ]
    await ada.close()


async def test_during_a_jwt_rotation_a_token_of_the_previous_secret_still_authenticates(
    guest_login: None, http: aiohttp.ClientSession
) -> None:
    previous = "the-secret-before-the-rotation-0123456789"
    served = await serve(load_app("channels"), jwt_secret_previous=previous)
    try:
        ada = await join(http, served.url, "rotation", "ada", authenticate=False)
        old_token = JwtService(previous).sign({"userId": "ada"})
        assert await ada.call("authenticate", token=old_token) == {
            "action": "authenticate",
            "authenticated": True,
        }
        forged = JwtService("some-other-secret-entirely-0123456789").sign({"userId": "ada"})
        refused = await ada.call("authenticate", token=forged)
        assert (refused["errorName"], refused["status"]) == ("UnauthorizedError", 401)
        await ada.close()
    finally:
        await served.running.stop()


async def test_a_session_left_expired_is_told_and_closed_by_the_servers_sweep(
    guest_login: None, http: aiohttp.ClientSession
) -> None:
    runtime = LocalRuntime(load_app("channels"), jwt_secret=JWT_SECRET, sweep_every=0.2)
    running = await start(create_app(runtime))
    try:
        ada = await join(http, running.url, "general", "ada")
        bob = await join(http, running.url, "general", "bob")
        await ada.notice()  # bob joined
        store = runtime.parts.store
        assert isinstance(store, MemoryConnectionStore)
        (record,) = [
            r for r in store.records.values() if (r.session or {}).get("userId") == bob.user_id
        ]
        # hours pass: bob's token expired past the grace, and nothing renewed it
        gone = int((datetime.now(UTC) - SESSION_GRACE).timestamp()) - 60
        await store.save_session(record.channel_id, {**(record.session or {}), "expiresAt": gone})

        told = await bob.reply()
        assert (told["status"], told["error"]) == (401, EXPIRED_REASON)
        assert bob.reader is not None
        await asyncio.wait_for(bob.reader, 10)  # the server closed the socket
        leave = await ada.notice()
        assert (leave["event"], leave["userId"]) == ("leave", bob.user_id)
        assert (await ada.call("members"))["members"] == [
            {"userId": ada.user_id, "connections": 1, "name": "ada"}
        ]
        await ada.close()
    finally:
        await running.stop()
