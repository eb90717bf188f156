"""The sweep removes records that outlived their connection, and only those."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from shared.core.functions import channel_disconnection_func, channel_func
from shared.core.services import ChannelServices
from shared.core.session import Session
from shared.core.stores import SESSION_GRACE, UNCONFIRMED_WINDOW
from shared.core.sweep import EXPIRED_REASON, RECHECK, sweep
from shared.core.testing import ChannelCommunicator, ChannelTestEnvironment
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


class Expiry(BaseModel):
    expires_in: int | None  # seconds from now; None: a session that does not expire


@channel_func(auth=False)
async def sign_in(services: ChannelServices[Room], data: Expiry) -> None:
    expires = None if data.expires_in is None else int(time.time()) + data.expires_in
    await services.user_session.set(Session(user_id="ada", expires_at=expires))


def _signed_env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="s",
        route="/s",
        auth=True,
        on_disconnect=leave,
        on_message_wiring={"action": {"signIn": sign_in, "ping": ping}},
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def _signed_in(env: ChannelTestEnvironment, expires_in: int | None) -> ChannelCommunicator:
    client = env.communicator("s", room="a")
    await client.connect()
    await client.send_json({"action": "signIn", "expires_in": expires_in})
    assert "error" not in await client.receive_json()
    return client


async def test_a_session_left_expired_past_the_grace_is_told_and_its_connection_closed() -> None:
    env = _signed_env()
    client = await _signed_in(env, expires_in=60)
    ends = datetime.now(UTC) + timedelta(seconds=60) + SESSION_GRACE
    check = env.store.records[client.channel_id].check_after
    assert check is not None and abs(check - ends) < timedelta(seconds=2)  # the sign-in moved it

    before = await sweep(env.dispatcher, now=ends - timedelta(seconds=5))
    assert before.checked == 0 and client.channel_id not in env.transport.closed

    left.clear()
    result = await sweep(env.dispatcher, now=ends + timedelta(seconds=2))
    assert (result.checked, result.ended, result.removed) == (1, 1, 0)
    frame = await client.receive_json()
    assert (frame["status"], frame["error"]) == (401, EXPIRED_REASON)
    assert env.transport.closed[client.channel_id] == EXPIRED_REASON
    assert await client.wait_closed() == EXPIRED_REASON
    assert left == [client.channel_id]  # on_disconnect ran, as after the service's close
    assert client.channel_id not in env.store.records


async def test_a_renewed_session_keeps_its_connection() -> None:
    env = _signed_env()
    client = await _signed_in(env, expires_in=60)
    first_end = env.store.records[client.channel_id].check_after
    assert first_end is not None
    await client.send_json({"action": "signIn", "expires_in": 7200})  # authenticated again
    assert "error" not in await client.receive_json()

    result = await sweep(env.dispatcher, now=first_end + timedelta(seconds=2))
    assert result.ended == 0 and client.channel_id not in env.transport.closed
    assert client.receive_nothing()


async def test_a_renewal_that_came_after_the_check_was_due_is_read_before_closing() -> None:
    env = _signed_env()
    client = await _signed_in(env, expires_in=7200)
    # due now (say a check came due for another reason): the record says the session is good
    await env.store.checked(client.channel_id, datetime.now(UTC) - timedelta(seconds=1))
    result = await sweep(env.dispatcher, now=datetime.now(UTC))
    assert (result.checked, result.ended) == (1, 0)
    next_check = env.store.records[client.channel_id].check_after
    assert next_check is not None and next_check <= datetime.now(UTC) + RECHECK


async def test_a_session_that_does_not_expire_never_ends_its_connection() -> None:
    env = _signed_env()
    client = await _signed_in(env, expires_in=None)
    result = await sweep(env.dispatcher, now=datetime.now(UTC) + timedelta(days=30))
    assert (result.checked, result.ended, result.removed) == (1, 0, 0)
    assert client.channel_id not in env.transport.closed
