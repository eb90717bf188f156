"""Routing like Pikku: unknown actions fall back to on_message, text reaches a `str` on_message,
and a channel's route addresses it at negotiate."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from shared.core.errors import WiringError
from shared.core.functions import channel_func
from shared.core.routes import RoutePattern
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Nothing(BaseModel):
    pass


class Room(BaseModel):
    room: str


@channel_func
async def ping(services: ChannelServices[Any], data: Nothing) -> str:
    return "pong"


@channel_func
async def anything(services: ChannelServices[Any], data: Any) -> dict[str, Any]:
    return {"fallback": data}


@channel_func
async def text(services: ChannelServices[Any], data: str) -> dict[str, str]:
    return {"text": data}


def client_of(on_message: Any) -> Any:
    registry = ChannelRegistry()
    wire_channel(
        name="r",
        route="/r",
        auth=False,
        on_message=on_message,
        on_message_wiring={"action": {"ping": ping}},
        registry=registry,
    )
    return ChannelTestEnvironment(registry).communicator("r")


async def test_an_unknown_action_reaches_on_message_whole() -> None:
    client = client_of(anything)
    await client.connect()
    await client.send_json({"action": "dance", "speed": 2})
    assert await client.receive_json() == {"fallback": {"action": "dance", "speed": 2}}
    await client.send_json({"action": "ping"})
    assert await client.receive_json() == {"action": "ping", "result": "pong"}


async def test_an_unknown_action_is_404_only_without_on_message() -> None:
    client = client_of(None)
    await client.connect()
    await client.send_json({"action": "dance"})
    assert await client.receive_json() == {
        "action": "dance",
        "error": 'unknown action "dance"; this channel has: ping',
        "errorName": "NotFoundError",
        "status": 404,
    }


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        ("hello there", "hello there"),  # not JSON
        ('{"action": "dance"}', '{"action": "dance"}'),  # JSON, but no known action
        ("42", "42"),  # JSON that is not an object
    ],
)
async def test_on_message_declaring_str_gets_the_text_as_sent(sent: str, received: str) -> None:
    client = client_of(text)
    await client.connect()
    await client.send_text(sent)
    assert await client.receive_json() == {"text": received}
    await client.send_json({"action": "ping"})  # known actions still route
    assert await client.receive_json() == {"action": "ping", "result": "pong"}


async def test_text_that_is_not_json_is_400_when_on_message_wants_json() -> None:
    client = client_of(anything)
    await client.connect()
    await client.send_text("hello there")
    reply = await client.receive_json()
    assert reply["status"] == 400 and reply["error"].startswith("frame is not valid JSON")


def test_a_route_matches_paths_and_names_its_parameters() -> None:
    pattern = RoutePattern("/chat/:room")
    assert pattern.match("chat/general") == {"room": "general"}
    assert pattern.match("/chat/general/") == {"room": "general"}
    assert pattern.match("chat") is None
    assert pattern.match("chat/a/b") is None
    assert pattern.match("talk/general") is None
    assert RoutePattern("/").match("") == {}


def test_route_parameters_must_be_opening_data_fields_and_shapes_unique() -> None:
    @channel_func
    async def in_room(services: ChannelServices[Room], data: Nothing) -> None:
        return None

    registry = ChannelRegistry()
    with pytest.raises(WiringError, match="route parameter\\(s\\) floor are not fields of Room"):
        wire_channel(name="a", route="/a/:floor", on_message=in_room, registry=registry)
    with pytest.raises(WiringError, match="is not a parameter name"):
        wire_channel(name="b", route="/b/:", on_message=in_room, registry=registry)
    wire_channel(name="c", route="/c/:room", on_message=in_room, registry=registry)
    with pytest.raises(WiringError, match="already taken by channel 'c'"):
        wire_channel(name="d", route="/c/:other", on_message=ping, registry=registry)
    found = registry.match("/c/lobby")
    assert found is not None and (found[0].name, found[1]) == ("c", {"room": "lobby"})
