"""The sweep removes records that outlived their connection, and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from shared.core.functions import channel_disconnection_func, channel_func
from shared.core.services import ChannelServices
from shared.core.stores import UNCONFIRMED_WINDOW
from shared.core.sweep import RECHECK, sweep
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Room(BaseModel):
    room: str


left: list[str] = []


@channel_disconnection_func
async def leave(services: ChannelServices[Room], data: Room) -> None:
    left.append(services.channel.channel_id)


@channel_func(auth=False)
async def ping(services: ChannelServices[Room], data: dict[str, str]) -> None:
    return None


def _env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="r", route="/r", auth=False, on_disconnect=leave, on_message=ping, registry=registry
    )
    return ChannelTestEnvironment(registry)


async def test_an_aborted_handshake_leaves_a_record_the_sweep_removes() -> None:
    left.clear()
    env = _env()
    live, aborted = env.communicator("r", room="a"), env.communicator("r", room="a")
    await live.connect()
    await aborted.connect()
    env.transport.forget(aborted.channel_id)  # the socket went away; no disconnected event
    assert aborted.channel_id in env.store.records

    # Before the window: nothing is due, nothing is asked.
    early = await sweep(env.dispatcher, now=datetime.now(UTC))
    assert (early.checked, early.removed) == (0, 0)

    later = datetime.now(UTC) + UNCONFIRMED_WINDOW + timedelta(seconds=1)
    result = await sweep(env.dispatcher, now=later)
    assert (result.checked, result.removed, result.failed) == (2, 1, 0)
    assert aborted.channel_id not in env.store.records
    assert left == [aborted.channel_id]  # on_disconnect ran for it, as for any disconnect
    # The live one stays, and is not asked again until its recheck.
    assert env.store.records[live.channel_id].check_after == later + RECHECK
    again = await sweep(env.dispatcher, now=later + timedelta(minutes=1))
    assert again.checked == 0
