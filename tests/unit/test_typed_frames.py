"""Pushed frames match what the code declares: `channel.send` the function's output, a publish
its typed topic's payload. A mismatch fails under the test harness; in production it is
logged and sent (a frame is never lost over a declaration)."""

from __future__ import annotations

import base64
from typing import Any, Literal

import pytest
from pydantic import Base64Bytes, BaseModel

from shared.core.functions import channel_func
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.topics import Topic
from shared.core.wiring import ChannelRegistry, wire_channel


class Step(BaseModel):
    type: Literal["step"] = "step"
    step: int


class Done(BaseModel):
    type: Literal["done"] = "done"


class Nothing(BaseModel):
    pass


news = Topic("news:{desk}", Step)


@channel_func
async def good(services: ChannelServices[Any], data: Nothing) -> Step | Done:
    await services.channel.send(Step(step=1))
    await services.channel.send({"type": "step", "step": 2})
    await services.event_hub.publish(news(desk="a"), None, Step(step=3))
    return Done()


@channel_func
async def wrong_send(services: ChannelServices[Any], data: Nothing) -> Done:
    await services.channel.send(Step(step=1))
    return Done()


@channel_func
async def wrong_publish(services: ChannelServices[Any], data: Nothing) -> None:
    await services.event_hub.publish(news(desk="a"), None, {"type": "gossip"})


def registry() -> ChannelRegistry:
    registry = ChannelRegistry()
    wire_channel(
        name="t",
        route="/t",
        auth=False,
        on_message_wiring={
            "action": {"good": good, "wrongSend": wrong_send, "wrongPublish": wrong_publish}
        },
        registry=registry,
    )
    return registry


async def test_frames_that_match_their_declared_types_are_sent() -> None:
    env = ChannelTestEnvironment(registry())
    client = env.communicator("t")
    await client.connect()
    await env.parts.services.event_hub.subscribe(news(desk="a"), client.channel_id)
    await client.send_json({"action": "good"})
    assert [await client.receive_json() for _ in range(4)] == [
        {"type": "step", "step": 1},
        {"type": "step", "step": 2},
        {"type": "step", "step": 3},
        {"action": "good", "type": "done"},
    ]


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("wrongSend", "a frame does not match the function's declared output: (value)"),
        ("wrongPublish", "a frame does not match the payload of topic 'news:a': type"),
    ],
)
async def test_a_frame_of_the_wrong_type_fails_under_the_harness(action: str, says: str) -> None:
    client = ChannelTestEnvironment(registry()).communicator("t")
    await client.connect()
    await client.send_json({"action": action})
    reply = await client.receive_json()
    assert reply["errorName"] == "FrameTypeError" and reply["error"].startswith(says)


async def test_in_production_a_frame_of_the_wrong_type_is_logged_and_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = ChannelTestEnvironment(registry(), strict=False)  # as production runs
    client = env.communicator("t")
    await client.connect()
    with caplog.at_level("WARNING", logger="channels"):
        await client.send_json({"action": "wrongSend"})
        assert await client.receive_json() == {"type": "step", "step": 1}
        assert await client.receive_json() == {"action": "wrongSend", "type": "done"}
    assert "does not match the function's declared output" in caplog.text


class Upload(BaseModel):
    """Bytes travel as base64 inside JSON: the documented alternative to binary frames."""

    name: str
    content: Base64Bytes


@channel_func
async def upload(services: ChannelServices[Any], data: Upload) -> dict[str, Any]:
    return {"name": data.name, "size": len(data.content), "first": data.content[0]}


async def test_binary_frames_are_refused_saying_why_and_base64_in_json_carries_bytes() -> None:
    registry = ChannelRegistry()
    wire_channel(
        name="u",
        route="/u",
        auth=False,
        on_message_wiring={"action": {"upload": upload}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("u")
    await client.connect()
    raw = bytes([0xFF, 0x00, 0x80, 0xC3])  # not UTF-8: a text decode would change it
    await client.send_bytes(raw)
    refused = await client.receive_json()
    assert refused["status"] == 415
    assert "decoded from bytes, which loses data" in refused["error"]
    assert "base64" in refused["error"]
    encoded = base64.b64encode(raw).decode()
    await client.send_json({"action": "upload", "name": "blob", "content": encoded})
    assert await client.receive_json() == {
        "action": "upload",
        "name": "blob",
        "size": 4,
        "first": 0xFF,
    }
