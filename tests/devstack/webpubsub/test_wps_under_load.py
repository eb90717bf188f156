"""The emulator under load and at its limits, as the service behaves.

- A connection's frames wait for their events in its own inbox: the reader goes on, so a ping
  behind many queued events is answered at once, and a slow connection delays only itself.
- Each event's upstream timeout counts from its own request: many connections at once never
  wait for a pool slot, and a handler that does not answer drops only its client.
- Outgoing messages are limited to 1 MB, as the service's largest message.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from azure.core.exceptions import HttpResponseError
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from devstack.webpubsub import Emulator
from tests.devstack.webpubsub.wps_support import HUB, ClientUrl, Connect, Recorded, Upstream

JSON = "json.webpubsub.azure.v1"
MB = 1024 * 1024


def slow_user_events(upstream: Upstream, seconds: float) -> asyncio.Event:
    """User events answer after `seconds`; the returned event is set at the first one."""
    first = asyncio.Event()

    async def respond(request: Recorded) -> web.Response:
        if request.ce_type.startswith("azure.webpubsub.user."):
            first.set()
            await asyncio.sleep(seconds)
        return web.Response(status=204)

    upstream.respond = respond
    return first


async def test_a_ping_behind_queued_events_is_answered_before_them(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    first = slow_user_events(upstream, 0.5)
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator), JSON)
    await client.json()  # connected
    for n in range(20):  # ten seconds of events, handled one at a time
        await client.send({"type": "event", "event": "work", "data": n, "ackId": n + 1})
    await first.wait()
    await client.send({"type": "ping"})
    # The first frame after the ping is the pong, not an ack of a queued event.
    assert await client.json() == {"type": "pong"}
    assert len(upstream.events("azure.webpubsub.user.work")) <= 2


async def test_a_slow_connection_delays_only_itself(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    async def respond(request: Recorded) -> web.Response:
        if request.ce_type == "azure.webpubsub.user.slow":
            await asyncio.sleep(2)
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    slow = await connect(await client_url(emulator), JSON)
    fast = await connect(await client_url(emulator), JSON)
    await slow.json()
    await fast.json()
    for n in range(5):
        await slow.send({"type": "event", "event": "slow", "data": n, "ackId": n + 1})
    await fast.send({"type": "event", "event": "quick", "data": 1, "ackId": 1})
    # The other connection's event is acked while the slow one's events still wait.
    assert await fast.json() == {"type": "ack", "ackId": 1, "success": True}
    assert len(upstream.events("azure.webpubsub.user.slow")) == 1


async def test_many_connections_at_once_never_wait_against_their_timeout(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    """150 events held 1 s each by the handler, a 1.5 s upstream timeout, 50 in flight: the
    last ones wait 2 s for their turn, untimed, and each is answered. (The old client, a pool
    of 100 under a total timeout that counted the wait for a slot, timed out the last 50.)"""
    slow_user_events(upstream, 1.0)
    emulator: Emulator = await start_emulator(
        upstream, upstream_timeout=1.5, upstream_concurrency=50
    )
    url = await client_url(emulator)
    clients = [await connect(url, JSON) for _ in range(150)]
    for client in clients:
        await client.json()
    for n, client in enumerate(clients):
        await client.send({"type": "event", "event": "work", "data": n, "ackId": 1})
    acks = await asyncio.wait_for(
        asyncio.gather(*(client.ws.receive_json() for client in clients)), 60
    )
    assert [a.get("success") for a in acks] == [True] * len(clients)


async def test_a_handler_that_never_answers_drops_its_client_at_the_upstream_timeout(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    slow_user_events(upstream, 3)  # longer than the timeout: a function that raised on Azure
    emulator: Emulator = await start_emulator(upstream, upstream_timeout=1.0)
    client = await connect(await client_url(emulator), JSON)
    await client.json()
    await client.send({"type": "event", "event": "work", "data": 1, "ackId": 1})
    started = time.monotonic()
    code, frames = await client.closed()
    assert code == 1011
    assert frames[0]["ackId"] == 1 and frames[0]["success"] is False
    assert frames[-1] == {
        "type": "system",
        "event": "disconnected",
        "message": "The event handler failed",
    }
    assert time.monotonic() - started >= 0.9  # it waited for the timeout, not less


async def test_a_connect_handler_that_never_answers_refuses_the_client_at_the_timeout(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    async def respond(request: Recorded) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream, upstream_timeout=1.0)
    url = await client_url(emulator)
    try:
        await connect(url)
    except Exception as exc:  # the WebSocket upgrade is refused
        assert "500" in str(exc)
    else:
        raise AssertionError("the connection was accepted")


async def test_rest_messages_over_1_mb_are_refused_with_413(
    emulator: Emulator, client_url: ClientUrl, connect: Connect
) -> None:
    client = await connect(await client_url(emulator))
    async with WebPubSubServiceClient.from_connection_string(
        emulator.connection_string, hub=HUB
    ) as service:
        try:
            await service.send_to_all("x" * (MB + 1), content_type="text/plain")
        except HttpResponseError as exc:
            assert exc.status_code == 413
        else:
            raise AssertionError("a message over 1 MB was accepted")
        await service.send_to_all("x" * MB, content_type="text/plain")  # exactly 1 MB is fine
    assert len(await client.text()) == MB


async def test_an_event_answer_over_1_mb_is_not_delivered(
    upstream: Upstream, start_emulator: Any, client_url: ClientUrl, connect: Connect
) -> None:
    def respond(request: Recorded) -> web.Response:
        if request.ce_type.startswith("azure.webpubsub.user."):
            return web.Response(text="y" * (MB + 1), content_type="text/plain")
        return web.Response(status=204)

    upstream.respond = respond
    emulator: Emulator = await start_emulator(upstream)
    client = await connect(await client_url(emulator), JSON)
    await client.json()
    await client.send({"type": "event", "event": "big", "data": 1, "ackId": 7})
    ack = await client.json()
    assert (ack["ackId"], ack["success"]) == (7, False)
    await client.nothing()
