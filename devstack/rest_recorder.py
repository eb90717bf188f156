"""A stand-in for Web PubSub's REST data plane that records every call.

Unit tests and benchmarks use it to see exactly which REST calls the app made (the
emulator, with real WebSocket clients, is in tests/devstack and tests/e2e). It answers with
the status codes azure-messaging-webpubsubservice expects, so the real SDK talks to it as is.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devstack.serve import Served, serve

ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"


@dataclass(frozen=True)
class RestCall:
    method: str
    path: str  # decoded, without /api/hubs/{hub}
    query: dict[str, list[str]]
    body: Any

    @property
    def kind(self) -> str:
        p = self.path
        if p.endswith("/:send"):
            return "send_to_group" if p.startswith("/groups/") else "send_to_connection"
        if p.startswith("/groups/") and "/connections/" in p:
            return {"PUT": "add_to_group", "DELETE": "remove_from_group"}.get(self.method, "?")
        if p.startswith("/connections/") and self.method == "DELETE":
            return "close_connection"
        if p.startswith("/connections/") and self.method == "HEAD":
            return "connection_exists"
        return f"{self.method} {p}"


class RestRecorder:
    def __init__(self, hub: str = "channels") -> None:
        self.hub = hub
        self.port = 0  # known once started
        self.calls: list[RestCall] = []
        self.fail_with: int | None = None  # answer every call with this status (an outage)
        self.gone: set[str] = set()  # connection ids the "service" no longer has
        self._served: Served | None = None

    @property
    def connection_string(self) -> str:
        return f"Endpoint=http://127.0.0.1:{self.port};AccessKey={ACCESS_KEY};Version=1.0;"

    def kinds(self) -> list[str]:
        return [c.kind for c in self.calls]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._served = await serve(app)
        self.port = self._served.port

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        prefix = f"/api/hubs/{self.hub}"
        raw = request.raw_path.split("?", 1)[0]
        path = urllib.parse.unquote(raw[len(prefix) :] if raw.startswith(prefix) else raw)
        text = await request.text()
        try:
            body: Any = json.loads(text) if text else None
        except json.JSONDecodeError:
            body = text
        call = RestCall(request.method, path, urllib.parse.parse_qs(request.query_string), body)
        self.calls.append(call)
        if self.fail_with is not None:
            return web.Response(status=self.fail_with)
        if call.kind == "connection_exists" and path.rsplit("/", 1)[-1] in self.gone:
            return web.Response(status=404)
        status = {
            "send_to_group": 202,
            "send_to_connection": 202,
            "add_to_group": 200,
            "remove_from_group": 204,
            "close_connection": 204,
        }.get(call.kind, 200)
        return web.Response(status=status)
