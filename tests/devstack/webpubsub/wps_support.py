"""Shared test support: the recording CloudEvents handler and a WebSocket client wrapper."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

HUB = "chat"
TIMEOUT = 5.0


@dataclass
class Recorded:
    method: str
    headers: dict[str, str]
    body: bytes

    @property
    def ce_type(self) -> str:
        return self.headers.get("ce-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Recorded], Awaitable[web.Response] | web.Response]


@dataclass
class Upstream:
    """A CloudEvents handler: records what it gets, answers with `respond`."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    allowed_origin: str | None = "*"
    respond: Responder | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def events(self, ce_type: str | None = None) -> list[Recorded]:
        posts = [r for r in self.requests if r.method == "POST"]
        return [r for r in posts if ce_type is None or r.ce_type == ce_type]

    async def wait_for(self, ce_type: str, count: int = 1) -> list[Recorded]:
        async def until() -> list[Recorded]:
            while len(self.events(ce_type)) < count:
                self.changed.clear()
                await self.changed.wait()
            return self.events(ce_type)

        return await asyncio.wait_for(until(), TIMEOUT)

    async def handle(self, request: web.Request) -> web.Response:
        recorded = Recorded(
            request.method, {k.lower(): v for k, v in request.headers.items()}, await request.read()
        )
        self.requests.append(recorded)
        self.changed.set()
        if request.method == "OPTIONS":
            headers = {}
            if self.allowed_origin is not None:
                headers["WebHook-Allowed-Origin"] = self.allowed_origin
            return web.Response(status=200, headers=headers)
        if self.respond is not None:
            result = self.respond(recorded)
            return await result if not isinstance(result, web.Response) else result
        return web.Response(status=204)


class Client:
    """A raw WebSocket client with helpers to read frames with a timeout."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def frame(self) -> aiohttp.WSMessage:
        return await asyncio.wait_for(self.ws.receive(), TIMEOUT)

    async def text(self) -> str:
        message = await self.frame()
        assert message.type is aiohttp.WSMsgType.TEXT, message
        return str(message.data)

    async def json(self) -> Any:
        return json.loads(await self.text())

    async def send(self, value: Any) -> None:
        await self.ws.send_str(json.dumps(value))

    async def nothing(self, within: float = 0.2) -> None:
        """Assert no frame arrives within `within` seconds."""
        try:
            message = await asyncio.wait_for(self.ws.receive(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {message}")

    async def closed(self) -> tuple[int | None, list[Any]]:
        """Read until the socket closes: the close code, and JSON frames seen before it."""
        seen: list[Any] = []
        while True:
            message = await self.frame()
            if message.type is aiohttp.WSMsgType.TEXT:
                seen.append(json.loads(message.data))
                continue
            if message.type is aiohttp.WSMsgType.CLOSE:
                return int(message.data), seen
            if message.type is aiohttp.WSMsgType.CLOSED:
                return self.ws.close_code, seen
            if message.type is aiohttp.WSMsgType.ERROR:
                return self.ws.close_code, seen


Connect = Callable[..., Awaitable[Client]]
ClientUrl = Callable[..., Awaitable[str]]
