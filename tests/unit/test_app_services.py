"""An app adds services of its own without touching shared/: declared, built, typed, swapped."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from pydantic import BaseModel

from shared.core.functions import channel_func
from shared.core.services import AppServices, ChannelServices, Services
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Room(BaseModel):
    room: str


class Greeting(BaseModel):
    name: str


class Clock:
    def __init__(self) -> None:
        self.ticks = itertools.count(1)

    def now(self) -> int:
        return next(self.ticks)


@dataclass
class GreeterServices(ChannelServices[Room]):
    clock: Clock
    request_no: int  # made per event


@channel_func(auth=False)
async def greet(services: GreeterServices, data: Greeting) -> dict[str, object]:
    room = services.channel.opening_data.room  # still typed by the declared opening data
    return {"hello": data.name, "room": room, "at": services.clock.now(), "no": services.request_no}


def _registry() -> ChannelRegistry:
    registry = ChannelRegistry()
    wire_channel(
        name="greeter",
        route="/greeter",
        auth=False,
        on_message_wiring={"action": {"greet": greet}},
        registry=registry,
    )
    return registry


made: list[Clock] = []
counter = itertools.count(100)


def _singletons() -> dict[str, object]:
    made.append(Clock())
    return {"clock": made[-1]}


def _per_event(services: Services) -> dict[str, object]:
    return {"request_no": next(counter)}


APP = AppServices(singleton=_singletons, per_event=_per_event)


async def test_an_app_service_is_built_once_and_reaches_every_event() -> None:
    made.clear()
    env = ChannelTestEnvironment(_registry(), services=APP)
    client = env.communicator("greeter", room="lobby")
    await client.connect()
    for expected_at in (1, 2):
        await client.send_json({"action": "greet", "name": "Ada"})
        reply = await client.receive_json()
        assert (reply["hello"], reply["room"], reply["at"]) == ("Ada", "lobby", expected_at)
    assert len(made) == 1  # the singleton factory ran once for both events


async def test_a_per_event_service_is_made_for_each_event() -> None:
    env = ChannelTestEnvironment(_registry(), services=APP)
    client = env.communicator("greeter", room="lobby")
    await client.connect()
    numbers = []
    for _ in range(2):
        await client.send_json({"action": "greet", "name": "Ada"})
        numbers.append((await client.receive_json())["no"])
    assert numbers[0] != numbers[1]


async def test_the_harness_substitutes_an_app_service() -> None:
    class FrozenClock(Clock):
        def now(self) -> int:
            return 42

    env = ChannelTestEnvironment(_registry(), services=APP, overrides={"clock": FrozenClock()})
    client = env.communicator("greeter", room="lobby")
    await client.connect()
    await client.send_json({"action": "greet", "name": "Ada"})
    assert (await client.receive_json())["at"] == 42


async def test_a_missing_app_service_is_a_clear_500_naming_it() -> None:
    env = ChannelTestEnvironment(_registry())  # no AppServices given
    client = env.communicator("greeter", room="lobby")
    await client.connect()
    await client.send_json({"action": "greet", "name": "Ada"})
    frame = await client.receive_json()
    assert frame["status"] == 500
    assert "'clock'" in frame["error"] and "GreeterServices" in frame["error"]
