"""The generated Python client (clients/python/channels_client) drives the seed flow through
the whole local stack: negotiate, welcome, authenticate, sendMessage to another member,
history, typed errors, concurrent calls, and a dropped socket that reconnects authenticated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from channels_client import (
    ChannelCallError,
    ChatClient,
    ChatMessage,
    ConnectOptions,
    GuestLogin,
    HistoryRequest,
    IssuedToken,
    Job,
    JobComplete,
    JobProcessing,
    Room,
    RoomMessage,
    Token,
    connect,
    guest_token,
)

from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e
TIMEOUT = 10.0


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def room() -> str:
    return f"room-{uuid.uuid4().hex[:10]}"


async def member(
    http: aiohttp.ClientSession,
    base: str,
    room: str,
    name: str,
    *,
    bearer: bool = False,
    protocol: str = "plain",
) -> tuple[ChatClient, IssuedToken]:
    issued = await guest_token(http, base, GuestLogin(name=name))
    token = issued.token if bearer else None
    options = ConnectOptions(token=token, protocol=protocol, min_delay=0.05)
    client = await connect(base, "chat", Room(room=room), options, http=http)
    return client, issued


@pytest.mark.parametrize("protocol", ["plain", "json.webpubsub.azure.v1"])
async def test_the_seed_flow_with_the_generated_client(
    stack: LocalStack, http: aiohttp.ClientSession, room: str, protocol: str
) -> None:
    ann, ann_issued = await member(http, stack.host_url, room, "ann", protocol=protocol)
    bob, bob_issued = await member(http, stack.host_url, room, "bob", protocol=protocol)
    ann_id = ann_issued.user_id  # a guest's id is its own (two Anns are two people)
    assert ann.welcome.welcome == f"Welcome to {room}!"
    assert (await ann.authenticate(Token(token=ann_issued.token))).authenticated is True
    assert (await bob.authenticate(Token(token=bob_issued.token))).authenticated is True

    heard: asyncio.Queue[RoomMessage] = asyncio.Queue()
    bob.on("message", heard.put_nowait)
    sent = await ann.send_message(ChatMessage(message="hello bob"))
    assert sent.message == "hello bob"
    got = await asyncio.wait_for(heard.get(), TIMEOUT)
    assert (got.message, got.user_id, got.timestamp) == ("hello bob", ann_id, sent.timestamp)

    history = await bob.history(HistoryRequest(limit=10))
    assert [(m.user_id, m.message) for m in history.messages] == [(ann_id, "hello bob")]
    await ann.close()
    await bob.close()


async def test_a_failed_call_raises_the_typed_error(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client, _ = await member(http, stack.host_url, room, "eve")
    with pytest.raises(ChannelCallError) as caught:
        await client.send_message(ChatMessage(message="not yet"))
    assert (caught.value.error_name, caught.value.status) == ("UnauthorizedError", 401)
    assert caught.value.action == "sendMessage"
    with pytest.raises(ChannelCallError) as forged:
        await client.authenticate(Token(token="not-a-jwt"))
    assert forged.value.status == 401
    await client.close()


async def test_two_concurrent_calls_of_one_action_each_get_their_own_reply(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client, issued = await member(http, stack.host_url, room, "cat")
    await client.authenticate(Token(token=issued.token))
    texts = [f"message {i}" for i in range(6)]
    replies = await asyncio.gather(*(client.send_message(ChatMessage(message=t)) for t in texts))
    assert [r.message for r in replies] == texts
    await client.close()


async def test_pushed_frames_of_an_action_reach_their_handler_as_models(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client, _ = await member(http, stack.host_url, room, "dan", bearer=True)
    steps: list[JobProcessing] = []
    client.on("processing", steps.append)
    done = await client.process_job(Job(job_id="job-1"))
    assert [s.step for s in steps] == ["Loading data", "Processing"]
    assert isinstance(done, JobComplete)  # the output is the union of what it sends
    assert done.result == {"jobId": "job-1", "items": 5}
    await client.close()


async def test_a_dropped_socket_reconnects_and_is_authenticated_again(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    client, _ = await member(http, stack.host_url, room, "fay", bearer=True)
    welcomes: list[object] = []
    client.on("welcome", welcomes.append)
    reconnected = asyncio.Event()
    client.on("reconnected", lambda _: reconnected.set())
    await client.send_message(ChatMessage(message="before"))  # the Bearer token authenticated it
    await client.connection.drop()
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)
    assert len(welcomes) == 1  # the new connection's welcome
    after = await client.send_message(ChatMessage(message="after"))  # still authenticated
    assert after.message == "after"
    await client.close()


async def test_a_retry_with_the_same_id_is_answered_again_and_stored_once(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    """sendMessage takes the correlation id as its idempotency key: a retry is recognised."""
    client, _ = await member(http, stack.host_url, room, "gus", bearer=True)
    first = await client.send_message(ChatMessage(message="once", id="retry-1"))
    again = await client.send_message(ChatMessage(message="once", id="retry-1"))
    assert (
        (again.id, again.timestamp) == (first.id, first.timestamp) == ("retry-1", first.timestamp)
    )
    history = await client.history(HistoryRequest(limit=10))
    assert [m.message for m in history.messages] == ["once"]
    await client.close()
