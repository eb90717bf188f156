"""Wrong wiring fails at import, saying what and where."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from shared.core.errors import WiringError
from shared.core.functions import channel_connection_func, channel_func, func
from shared.core.services import ChannelServices, Services
from shared.core.wiring import ChannelRegistry, wire_channel


class In(BaseModel):
    text: str


class RoomA(BaseModel):
    room: str


class RoomB(BaseModel):
    name: str


@channel_func
async def ok(services: ChannelServices[RoomA], data: In) -> In:
    return data


def test_a_duplicate_name_names_both_places() -> None:
    reg = ChannelRegistry()
    wire_channel(name="dup", route="/a", on_message=ok, registry=reg)
    with pytest.raises(
        WiringError,
        match=r"channel 'dup' is wired twice: at .*test_wiring.py:\d+ and at .*test_wiring.py:\d+",
    ):
        wire_channel(name="dup", route="/b", on_message=ok, registry=reg)


def test_a_duplicate_route_names_the_channel_holding_it() -> None:
    reg = ChannelRegistry()
    wire_channel(name="one", route="/same", on_message=ok, registry=reg)
    with pytest.raises(
        WiringError, match=r"route '/same' of channel 'two' .* is already taken by channel 'one'"
    ):
        wire_channel(name="two", route="/same", on_message=ok, registry=reg)


async def undecorated(services: Services, data: In) -> In:
    return data


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"on_message_wiring": {"action": {"go": undecorated}}},
            r"on_message_wiring\['action'\]\['go'\].*: undecorated \(decorate it with @channel_func or @func\) is not a channel function",
        ),
        (
            {"on_message_wiring": {"action": {"go": {"func": ok, "auht": False}}}},
            r"takes 'func' and optionally 'auth', 'middleware'",
        ),
        ({"on_message_wiring": {"action": {"go": "ok"}}}, r"'ok' is not a channel function"),
        (
            {"on_message_wiring": {"action": {}}},
            r"on_message_wiring\['action'\] must map values to functions",
        ),
        ({"on_connect": ok}, r"on_connect.*ok .* is a message function, not connect"),
        ({}, "wire at least one of"),
    ],
)
def test_wiring_something_that_is_not_a_channel_function_fails(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(WiringError, match=message):
        wire_channel(name="bad", route="/bad", registry=ChannelRegistry(), **kwargs)


def test_route_and_name_are_checked() -> None:
    with pytest.raises(WiringError, match="route must start with '/'"):
        wire_channel(name="x", route="x", on_message=ok, registry=ChannelRegistry())
    with pytest.raises(WiringError, match="a channel name is letters, digits"):
        wire_channel(name="a b", route="/x", on_message=ok, registry=ChannelRegistry())


def test_functions_must_agree_on_the_opening_data_type() -> None:
    @channel_connection_func
    async def hello(services: ChannelServices[RoomB]) -> None:
        return None

    with pytest.raises(WiringError, match="different opening data types: RoomA, RoomB"):
        wire_channel(
            name="mix", route="/mix", on_connect=hello, on_message=ok, registry=ChannelRegistry()
        )


def test_decorators_check_the_function_shape() -> None:
    def not_async(services: Services, data: In) -> In:
        return data

    with pytest.raises(WiringError, match="must be an async function"):
        func(not_async)  # type: ignore[arg-type]

    async def too_many(services: Services, data: In, session: None, extra: int) -> None:
        return None

    with pytest.raises(
        WiringError,
        match=r"takes 4 parameters; a message function takes \(services, data\[, session\]\)",
    ):
        channel_func(too_many)


def test_types_come_from_the_annotations_once() -> None:
    assert ok.input_type is In and ok.output_type is In and ok.opening_data_type is RoomA
    assert ok.input_schema() == In.model_json_schema()
    assert ok.output_schema() == In.model_json_schema()
    assert ok.auth is None and not ok.wants_session


def test_only_a_plain_func_can_be_served_over_http() -> None:
    import azure.functions as azf

    from shared.azure.functions_app import wire_http
    from shared.azure.runtime import ChannelRuntime

    with pytest.raises(
        WiringError,
        match=r"wire_http\(route='x'\): ok .* is a message function; only a plain @func",
    ):
        wire_http(azf.FunctionApp(), ChannelRuntime(ChannelRegistry()), ok, route="x")
