"""Frames the chat channel cannot take: over 1 MB (the service closes) and binary (an error)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed

from devstack.stack import LocalStack
from tests.e2e.chat_client import TIMEOUT, join

pytestmark = pytest.mark.e2e

ONE_MB = 1024 * 1024


async def test_a_frame_over_1_mb_closes_the_socket_with_1009(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client = await join(http, stack.host_url, room, "big")
    await client.send("sendMessage", message="x" * ONE_MB)
    await asyncio.wait_for(client.ws.wait_closed(), TIMEOUT)
    assert client.ws.close_code == 1009
    with pytest.raises(ConnectionClosed):
        await client.send("history")


async def test_a_frame_just_under_1_mb_gets_an_error_frame_and_the_socket_stays_open(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    # Under the service's bound the frame reaches the channel, whose own limit (256 KiB by
    # default) answers with an error frame instead of closing.
    client = await join(http, stack.host_url, room, "almost")
    reply = await client.call("sendMessage", message="x" * (ONE_MB - 100))
    assert reply["errorName"] == "PayloadTooLargeError"
    assert reply["status"] == 413
    assert client.ws.close_code is None
    assert (await client.call("history"))["action"] == "history"
    await client.close()


async def test_a_binary_frame_gets_an_error_frame_and_the_socket_stays_open(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client = await join(http, stack.host_url, room, "bin")
    await client.ws.send(b'{"action": "history"}')
    error = await client.reply()
    assert error["errorName"] == "UnsupportedMediaTypeError"
    assert error["status"] == 415
    assert "binary" in error["error"]
    history = await client.call("history")
    assert history == {"action": "history", "messages": [], "more": False, "next": None}
    await client.close()
