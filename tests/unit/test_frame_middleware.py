"""Frame middleware (Pikku's channelMiddleware) and app-wide rules, in their documented order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.core.functions import Docs, channel_func
from shared.core.services import ChannelServices, FrameNext, Interaction, Next, Outgoing, Services
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import Action, ChannelRegistry, wire_channel


class Say(BaseModel):
    text: str


@channel_func
async def say(services: ChannelServices[Any], data: Say) -> dict[str, str]:
    await services.channel.send({"pushed": data.text})
    await services.event_hub.publish("news", None, {"published": data.text})
    return {"reply": data.text}


@channel_func
async def fail(services: ChannelServices[Any], data: Say) -> None:
    raise ValueError(data.text)


async def drop_secret(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
    if "secret" in str(outgoing.frame):
        return  # dropped
    await next_(outgoing.frame)


async def shout(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
    await next_({k: v.upper() if isinstance(v, str) else v for k, v in outgoing.frame.items()})


async def twice(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
    await next_(outgoing.frame)
    await next_({"copy": True, "topic": outgoing.topic, "to": outgoing.channel_id})


def env_with(*middleware: Any) -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="f",
        route="/f",
        auth=False,
        on_message_wiring={"action": {"say": say, "fail": fail}},
        frame_middleware=middleware,
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def subscribed(env: ChannelTestEnvironment) -> Any:
    client = env.communicator("f")
    await client.connect()
    await env.parts.services.event_hub.subscribe("news", client.channel_id)
    return client


async def test_a_frame_middleware_drops_frames_sent_pushed_and_published() -> None:
    client = await subscribed(env_with(drop_secret))
    await client.send_json({"action": "say", "text": "a secret"})
    assert client.receive_nothing()  # the push, the publish and the reply: all dropped
    await client.send_json({"action": "say", "text": "hello"})
    assert [await client.receive_json() for _ in range(3)] == [
        {"pushed": "hello"},
        {"published": "hello"},
        {"action": "say", "reply": "hello"},
    ]


async def test_a_frame_middleware_transforms_every_frame() -> None:
    client = await subscribed(env_with(shout))
    await client.send_json({"action": "say", "text": "hi"})
    assert [await client.receive_json() for _ in range(3)] == [
        {"pushed": "HI"},
        {"published": "HI"},
        {"action": "SAY", "reply": "HI"},
    ]


async def test_a_frame_middleware_fans_out_and_sees_where_a_frame_goes() -> None:
    client = await subscribed(env_with(twice))
    await client.send_json({"action": "say", "text": "x"})
    frames = [await client.receive_json() for _ in range(6)]
    assert frames == [
        {"pushed": "x"},
        {"copy": True, "topic": None, "to": client.channel_id},
        {"published": "x"},
        {"copy": True, "topic": "news", "to": None},
        {"action": "say", "reply": "x"},  # the reply's extra frame is sent first,
        {"copy": True, "topic": None, "to": client.channel_id},  # the last is the reply
    ]


async def test_error_frames_bypass_frame_middleware() -> None:
    client = await subscribed(env_with(drop_secret, shout))
    await client.send_json({"action": "fail", "text": "secret"})
    assert (await client.receive_json())["errorName"] == "InternalServerError"


async def test_app_wide_and_tag_rules_wrap_channel_entry_and_function_in_order() -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        async def middleware(services: Services, interaction: Interaction, next_: Next) -> Any:
            order.append(name)
            return await next_()

        return middleware

    def framed(name: str) -> Any:
        async def middleware(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
            await next_({**outgoing.frame, "via": [*outgoing.frame.get("via", []), name]})

        return middleware

    @channel_func(middleware=[named("function")], docs=Docs(tags=["fn-tag"]))
    async def work(services: ChannelServices[Any], data: dict[str, Any]) -> dict[str, Any]:
        order.append("handler")
        return {}

    registry = ChannelRegistry()
    registry.rules.add_middleware(named("tag:fn-tag"), tag="fn-tag")
    registry.rules.add_middleware(named("app"))
    registry.rules.add_middleware(named("tag:channel-tag"), tag="channel-tag")
    registry.rules.add_middleware(named("tag:unused"), tag="unused")
    registry.rules.add_frame_middleware(framed("app"))
    registry.rules.add_frame_middleware(framed("tag"), tag="channel-tag")
    wire_channel(
        name="o",
        route="/o",
        auth=False,
        tags=["channel-tag"],
        middleware=[named("channel")],
        frame_middleware=[framed("channel")],
        on_message_wiring={"action": {"work": Action(work, middleware=[named("entry")])}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("o")
    await client.connect()
    await client.send_json({"action": "work"})
    assert await client.receive_json() == {"action": "work", "via": ["app", "tag", "channel"]}
    assert order == [
        "app",
        "tag:fn-tag",
        "tag:channel-tag",
        "channel",
        "entry",
        "function",
        "handler",
    ]
