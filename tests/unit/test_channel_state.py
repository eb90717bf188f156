"""Per-connection channel state: typed by the channel's model, kept with the connection."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from shared.core.channel import ChannelStatus
from shared.core.functions import channel_func
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Counter(BaseModel):
    count: int = Field(ge=0)


class Nothing(BaseModel):
    pass


@channel_func
async def bump(services: ChannelServices[Any, Counter], data: Nothing) -> Counter:
    current = services.channel.get_state() or Counter(count=0)
    bumped = Counter(count=current.count + 1)
    await services.channel.set_state(bumped)
    return bumped


@channel_func
async def read(services: ChannelServices[Any, Counter], data: Nothing) -> dict[str, Any]:
    state = services.channel.get_state()
    return {"count": state.count if state else None, "type": type(state).__name__}


@channel_func
async def reset(services: ChannelServices[Any, Counter], data: Nothing) -> None:
    await services.channel.clear_state()


@channel_func
async def corrupt(services: ChannelServices[Any, Any], data: Nothing) -> None:
    await services.channel.set_state({"count": -1})


@channel_func
async def status(services: ChannelServices[Any], data: Nothing) -> str:
    return services.channel.status.value


@pytest.fixture
def env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="s",
        route="/s",
        auth=False,
        state=Counter,
        on_message_wiring={
            "action": {
                "bump": bump,
                "read": read,
                "reset": reset,
                "corrupt": corrupt,
                "status": status,
            }
        },
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def test_state_set_by_one_action_is_read_by_the_next_typed_by_the_model(
    env: ChannelTestEnvironment,
) -> None:
    client = env.communicator("s")
    await client.connect()
    await client.send_json({"action": "read"})
    assert await client.receive_json() == {"action": "read", "count": None, "type": "NoneType"}
    for expected in (1, 2):
        await client.send_json({"action": "bump"})
        assert await client.receive_json() == {"action": "bump", "count": expected}
    await client.send_json({"action": "read"})
    assert await client.receive_json() == {"action": "read", "count": 2, "type": "Counter"}
    # kept both in the states copy (the hot path reads nothing) and in the record
    assert client.states["channel"]["state"] == {"count": 2}
    assert env.store.records[client.channel_id].state == {"count": 2}


async def test_state_without_the_states_copy_comes_from_the_record(
    env: ChannelTestEnvironment,
) -> None:
    client = env.communicator("s")
    await client.connect()
    await client.send_json({"action": "bump"})
    await client.receive_json()
    client.states.clear()  # another instance, with no copy: the table serves
    await client.send_json({"action": "read"})
    assert await client.receive_json() == {"action": "read", "count": 1, "type": "Counter"}


async def test_clear_state_forgets_it_everywhere(env: ChannelTestEnvironment) -> None:
    client = env.communicator("s")
    await client.connect()
    await client.send_json({"action": "bump"})
    await client.receive_json()
    await client.send_json({"action": "reset"})
    assert await client.receive_json() == {"action": "reset"}
    assert "state" not in client.states["channel"]
    assert env.store.records[client.channel_id].state is None


async def test_a_state_that_breaks_the_model_is_refused_naming_the_field(
    env: ChannelTestEnvironment,
) -> None:
    client = env.communicator("s")
    await client.connect()
    await client.send_json({"action": "corrupt"})
    reply = await client.receive_json()
    assert reply["status"] == 422 and reply["error"].startswith("invalid channel state: count")
    assert env.store.records[client.channel_id].state is None


async def test_status_says_whether_the_connection_is_open(env: ChannelTestEnvironment) -> None:
    client = env.communicator("s")
    await client.connect()
    await client.send_json({"action": "status"})
    assert await client.receive_json() == {"action": "status", "result": "open"}
    assert [s.value for s in ChannelStatus] == ["connecting", "open", "closed"]
