"""A routed frame's `id` comes back on the frame that answers it, and never reaches the input."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from shared.core.errors import ForbiddenError, WiringError
from shared.core.functions import channel_func
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an `id` left in the input would fail here
    text: str


@channel_func(auth=False)
async def shout(services: ChannelServices[Any], data: Strict) -> dict[str, str]:
    return {"text": data.text.upper()}


@channel_func(auth=False)
async def count(services: ChannelServices[Any], data: Strict) -> int:
    return len(data.text)


@channel_func(auth=False)
async def refuse(services: ChannelServices[Any], data: Strict) -> None:
    raise ForbiddenError("no")


@channel_func(auth=False)
async def echo(services: ChannelServices[Any], data: Any) -> Any:
    return data


@pytest.fixture
def env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="c",
        route="/c",
        auth=False,
        on_message=echo,
        on_message_wiring={"action": {"shout": shout, "count": count, "refuse": refuse}},
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def ask(env: ChannelTestEnvironment, frame: Any) -> Any:
    client = env.communicator("c")
    assert (await client.connect()).accepted
    await client.send_json(frame)
    return await client.receive_json()


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            {"action": "shout", "id": "a1", "text": "hi"},
            {"action": "shout", "id": "a1", "text": "HI"},
        ),
        ({"action": "shout", "id": 7, "text": "hi"}, {"action": "shout", "id": 7, "text": "HI"}),
        (
            {"action": "count", "id": "n", "text": "abc"},
            {"action": "count", "id": "n", "result": 3},
        ),
        ({"action": "shout", "text": "hi"}, {"action": "shout", "text": "HI"}),
    ],
)
async def test_a_reply_echoes_the_id_of_the_frame_it_answers(
    env: ChannelTestEnvironment, frame: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert await ask(env, frame) == expected


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        ({"action": "refuse", "id": "r", "text": "x"}, 403),
        ({"action": "shout", "id": "r"}, 422),  # validation failed
    ],
)
async def test_an_error_frame_echoes_the_id(
    env: ChannelTestEnvironment, frame: dict[str, Any], status: int
) -> None:
    reply = await ask(env, frame)
    assert (reply["action"], reply["id"], reply["status"]) == (frame["action"], "r", status)


async def test_an_unknown_action_s_error_echoes_the_id() -> None:
    registry = ChannelRegistry()
    wire_channel(
        name="r",
        route="/r",
        auth=False,
        on_message_wiring={"action": {"shout": shout}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("r")
    await client.connect()
    await client.send_json({"action": "nope", "id": "r"})
    reply = await client.receive_json()
    assert (reply["action"], reply["id"], reply["status"]) == ("nope", "r", 404)


async def test_an_unknown_action_taken_by_on_message_keeps_its_id_as_data(
    env: ChannelTestEnvironment,
) -> None:
    assert await ask(env, {"action": "nope", "id": "r"}) == {"action": "nope", "id": "r"}


async def test_an_id_of_another_json_type_is_not_echoed(env: ChannelTestEnvironment) -> None:
    reply = await ask(env, {"action": "shout", "id": {"x": 1}, "text": "hi"})
    assert reply == {"action": "shout", "text": "HI"}


async def test_unrouted_frames_keep_their_id_as_data(env: ChannelTestEnvironment) -> None:
    assert await ask(env, {"id": "x", "free": 1}) == {"id": "x", "free": 1}


async def test_two_calls_in_flight_are_told_apart_by_id(env: ChannelTestEnvironment) -> None:
    client = env.communicator("c")
    await client.connect()
    await client.send_json({"action": "shout", "id": 1, "text": "one"})
    await client.send_json({"action": "shout", "id": 2, "text": "two"})
    replies = {r["id"]: r["text"] for r in [await client.receive_json() for _ in range(2)]}
    assert replies == {1: "ONE", 2: "TWO"}


class HasId(BaseModel):
    id: str
    text: str


class Item(BaseModel):
    id: str


@channel_func(auth=False)
async def takes_id(services: ChannelServices[Any], data: HasId) -> dict[str, str]:
    return {"got": data.id}


@channel_func(auth=False)
async def returns_id(services: ChannelServices[Any], data: Strict) -> Item:
    return Item(id="made-here")


async def test_an_input_that_declares_id_receives_it_and_the_reply_echoes_it() -> None:
    registry = ChannelRegistry()
    wire_channel(
        name="x",
        route="/x",
        auth=False,
        on_message_wiring={"action": {"t": takes_id}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("x")
    await client.connect()
    await client.send_json({"action": "t", "id": "m-1", "text": "hi"})
    assert await client.receive_json() == {"action": "t", "id": "m-1", "got": "m-1"}


def test_an_action_returning_an_id_it_does_not_take_is_refused_at_wiring() -> None:
    with pytest.raises(WiringError, match="correlation id"):
        wire_channel(
            name="x",
            route="/x",
            on_message_wiring={"action": {"r": returns_id}},
            registry=ChannelRegistry(),
        )
