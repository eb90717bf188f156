"""on_connect decides at connect time: it may refuse, its topics ride in the accept, its frames
arrive once the connection is open; on_connected runs after the socket exists."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from shared.core.errors import ForbiddenError
from shared.core.events import Accept, ConnectEvent, Reject
from shared.core.functions import channel_connection_func, channel_func
from shared.core.services import ChannelServices
from shared.core.session import Session
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Room(BaseModel):
    room: str


class Nothing(BaseModel):
    pass


@channel_connection_func
async def vip_only(services: ChannelServices[Room]) -> dict[str, str]:
    if services.channel.opening_data.room == "vip":
        raise ForbiddenError("the vip room is invite-only")
    await services.event_hub.subscribe(f"room:{services.channel.opening_data.room}", "x-other")
    await services.event_hub.subscribe(
        f"room:{services.channel.opening_data.room}", services.channel.channel_id
    )
    await services.channel.send({"step": "joined"})
    await services.user_session.set(Session(user_id="from-connect"))
    return {"welcome": services.channel.opening_data.room}


@channel_func
async def who(services: ChannelServices[Room], data: Nothing, session: Session | None) -> str:
    return session.user_id if session else "nobody"


def env_with(**wiring: Any) -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(name="c", route="/c", auth=False, registry=registry, **wiring)
    return ChannelTestEnvironment(registry)


async def test_on_connect_raising_refuses_the_connection_and_stores_no_record() -> None:
    env = env_with(on_connect=vip_only, on_message_wiring={"action": {"who": who}})
    client = env.communicator("c", room="vip")
    result = await client.connect()
    assert (result.accepted, result.status, result.message) == (
        False,
        400,  # what a Web PubSub client sees: the service carries only 401, 400 and 500
        "the vip room is invite-only",
    )
    assert result.app_status == 403
    assert env.store.records == {}
    assert client.receive_nothing()


async def test_on_connect_topics_ride_in_the_accept_and_its_frames_arrive_once_open() -> None:
    env = env_with(on_connect=vip_only, on_message_wiring={"action": {"who": who}})
    env.transport.listen("x-other", lambda _cid, _text: None)  # another open connection
    accepted = await env.dispatcher.dispatch(
        ConnectEvent("conn-x", {"channel": ["c"], "room": ["lobby"]})
    )
    assert isinstance(accepted, Accept)
    # its own subscription, and its session's user topic (send_to_user): no call to the service
    assert accepted.topics == ("room:lobby", "user:from-connect")
    assert env.transport.topics["room:lobby"] == {"x-other"}  # another connection's: a call
    assert env.store.records["conn-x"].pending == ({"step": "joined"}, {"welcome": "lobby"})

    client = env.communicator("c", room="lobby")
    assert (await client.connect()).accepted
    assert client.channel_id in env.transport.topics["room:lobby"]
    assert [await client.receive_json() for _ in range(2)] == [
        {"step": "joined"},
        {"welcome": "lobby"},
    ]
    # The session it set is in the states copy at once: the first message reads nothing.
    assert client.states["channel"]["session"] == {"userId": "from-connect", "role": None}
    await client.send_json({"action": "who"})
    assert await client.receive_json() == {"action": "who", "result": "from-connect"}
    assert "pending" not in client.states["channel"]  # delivered: dropped from the copy


async def test_an_unexpected_on_connect_failure_refuses_with_500_and_leaks_nothing() -> None:
    @channel_connection_func
    async def broken(services: ChannelServices[Room]) -> None:
        raise RuntimeError("secret internals")

    env = env_with(on_connect=broken)
    result = await env.communicator("c", room="r").connect()
    assert (result.accepted, result.status, result.message) == (False, 500, "internal error")
    assert env.store.records == {}


async def test_on_connected_runs_once_the_socket_exists_and_its_result_is_sent() -> None:
    @channel_connection_func
    async def hello(services: ChannelServices[Room]) -> dict[str, str]:
        return {"status": services.channel.status.value}

    env = env_with(on_connected=hello, on_message_wiring={"action": {"who": who}})
    client = env.communicator("c", room="r")
    assert (await client.connect()).accepted
    assert await client.receive_json() == {"status": "open"}


async def test_on_connected_cannot_change_the_session_and_says_where_to() -> None:
    @channel_connection_func
    async def late(services: ChannelServices[Room]) -> None:
        await services.user_session.set(Session(user_id="late"))

    env = env_with(on_connected=late, on_message_wiring={"action": {"who": who}})
    client = env.communicator("c", room="r")
    assert (await client.connect()).accepted
    assert (await client.receive_json())["status"] == 500
    await client.send_json({"action": "who"})
    assert await client.receive_json() == {"action": "who", "result": "nobody"}


async def test_on_connect_refuses_by_raising_not_by_closing() -> None:
    @channel_connection_func
    async def closes(services: ChannelServices[Room]) -> None:
        await services.channel.close("no")

    env = env_with(on_connect=closes)
    result = await env.communicator("c", room="r").connect()
    assert (result.accepted, result.status) == (False, 500)


async def test_frames_too_big_for_the_states_copy_are_delivered_from_the_record() -> None:
    big = "x" * 4000  # the copy carries at most 2 KB: the record keeps the frame

    @channel_connection_func
    async def chatty(services: ChannelServices[Room]) -> dict[str, str]:
        return {"big": big}

    env = env_with(on_connect=chatty, on_message_wiring={"action": {"who": who}})
    client = env.communicator("c", room="r")
    assert (await client.connect()).accepted
    assert client.states["channel"] is None
    assert await client.receive_json() == {"big": big}
    await client.send_json({"action": "who"})
    assert await client.receive_json() == {"action": "who", "result": "nobody"}
    copy = dict(client.states)["channel"]  # (a fresh read, after the event)
    assert copy["openingData"] == {"room": "r"}  # small again: copied


@pytest.mark.parametrize(
    ("app_status", "client_status", "code"),
    [
        (401, 401, "unauthorized"),
        (400, 400, "userError"),
        (403, 400, "userError"),
        (404, 400, "userError"),
        (422, 400, "userError"),
        (429, 400, "userError"),
        (500, 500, "serverError"),
        (503, 500, "serverError"),
    ],
)
def test_a_refusal_is_seen_as_web_pubsub_carries_it_by_every_adapter(
    app_status: int, client_status: int, code: str
) -> None:
    # Web PubSub's connect response has three error codes, answered 401, 400 and 500
    # (the extension's WebPubSubErrorCode); the harness and shared.local answer the same.
    from shared.azure.trigger import render

    refused = Reject(app_status, "no")
    assert refused.client_status == client_status
    assert render(refused) == {"code": code, "errorMessage": "no"}
