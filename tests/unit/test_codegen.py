"""The clients are generated from the document: each call under its own routing key, unrouted
channels get `send`, and the Python output is valid, formatted source."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.core.asyncapi import asyncapi_document
from shared.core.codegen import generate
from shared.core.functions import channel_func
from shared.core.services import ChannelServices
from shared.core.wiring import ChannelRegistry, wire_channel


class Ping(BaseModel):
    n: int


class Pong(BaseModel):
    n: int


@channel_func(auth=False)
async def ping(services: ChannelServices[Any], data: Ping) -> Pong:
    return Pong(n=data.n)


@channel_func(auth=False)
async def shout(services: ChannelServices[Any], data: Ping) -> None:
    return None


def files() -> dict[str, str]:
    registry = ChannelRegistry()
    wire_channel(
        name="game",
        route="/game",
        auth=False,
        on_message_wiring={"action": {"ping": ping}, "command": {"shout": shout}},
        registry=registry,
    )
    wire_channel(name="raw", route="/raw", auth=False, on_message=ping, registry=registry)
    return generate(asyncapi_document(registry, title="Game", version="1"))


def test_each_call_is_sent_under_its_own_routing_key() -> None:
    out = files()
    assert 'this.connection.call("action", "ping", data)' in out["typescript/api.ts"]
    assert 'this.connection.call("command", "shout", data)' in out["typescript/api.ts"]
    client = out["python/channels_client/client.py"]
    assert '"command", "shout", data.model_dump(' in client
    assert '"routingKeys": ["action", "command"]' in out["typescript/api.ts"]


def test_an_unrouted_channel_gets_send_and_its_replies_come_as_frames() -> None:
    out = files()
    assert "send(data: Ping): Promise<void>" in out["typescript/api.ts"]
    assert "async def send(self, data: Ping) -> None:" in out["python/channels_client/client.py"]


def test_the_python_client_is_valid_source_with_typed_methods() -> None:
    out = files()
    for path, text in out.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert "async def ping(self, data: Ping) -> Pong:" in out["python/channels_client/client.py"]
    assert "class Pong(BaseModel):" in out["python/channels_client/models.py"]
