"""The plain WebSocket server: an app's channels, HTTP routes and pages on one aiohttp app.

    runtime = LocalRuntime(load_app("channels"), jwt_secret=...)
    server = await start(create_app(runtime), "127.0.0.1", 8000)   # port 0: any free port

Everything lives in this process (topics, connection records, sessions, the database), so it
serves one machine; beyond one, deploy to Azure.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from shared.core.database import MemoryDatabase
from shared.core.docs import describe
from shared.core.http import HttpResult, HttpRoute, call_function, negotiate
from shared.core.jwt_service import JwtService
from shared.core.runtime import Parts, assemble
from shared.core.stores import MemoryConnectionStore
from shared.core.sweep import sweep
from shared.core.wiring import ChannelRegistry
from shared.local.access import ClientEndpoint, ClientTokens
from shared.local.app import LocalApp
from shared.local.endpoint import CLIENT_PATH, ClientEndpointRoute
from shared.local.transport import SocketTransport

SWEEP_EVERY = 300.0  # seconds, as the Azure app's timer (`0 */5 * * * *`)

log = logging.getLogger("shared.local")


class LocalRuntime:
    """What one server process serves with: in-memory store, database and topics, live sockets.

    `sweep_every`: seconds between sweeps of the connection records. Nothing outlives its socket
    in one process, but sessions end with their tokens here too (shared/core/sweep.py)."""

    def __init__(
        self,
        app: LocalApp,
        *,
        jwt_secret: str,
        jwt_secret_previous: str | None = None,
        sweep_every: float = SWEEP_EVERY,
    ) -> None:
        self.app = app
        self.sweep_every = sweep_every
        self.registry = app.registry
        self.transport = SocketTransport()
        self.tokens = ClientTokens()
        self.parts = assemble(
            app.registry,
            store=MemoryConnectionStore(),
            transport=self.transport,
            database=MemoryDatabase(),
            jwt=JwtService(jwt_secret, previous=jwt_secret_previous),
            app_services=app.services,
        )

    def reached_at(self, base_url: str) -> _Reached:
        """This runtime as one request sees it: negotiate answers URLs to `base_url`."""
        negotiator = ClientEndpoint(self.tokens, base_url)
        return _Reached(self.registry, replace(self.parts, negotiator=negotiator))


@dataclass(frozen=True)
class _Reached:
    registry: ChannelRegistry
    parts: Parts


def to_response(result: HttpResult) -> web.Response:
    if result.body is None:
        return web.Response(status=result.status)
    return web.json_response(result.body, status=result.status)


class PathAccessLogger(AbstractAccessLogger):
    """Method, path and status: never the query, which carries access tokens."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s (%.3fs)", request.method, request.path, response.status, time)


def create_app(runtime: LocalRuntime) -> web.Application:
    app = web.Application()

    async def negotiate_route(request: web.Request) -> web.Response:
        scheme = "wss" if request.secure else "ws"
        reached = runtime.reached_at(f"{scheme}://{request.host}{CLIENT_PATH}")
        query = dict(request.query)
        path = request.match_info.get("path", "")
        authorization = request.headers.get("Authorization")
        return to_response(await negotiate(reached, query, authorization, path))

    @functools.cache
    def docs() -> str:  # on first request: building every schema at start costs a cold start
        return json.dumps(describe(runtime.registry))

    async def docs_route(request: web.Request) -> web.Response:
        return web.Response(text=docs(), content_type="application/json")

    app.router.add_get("/api/negotiate", negotiate_route)
    app.router.add_get("/api/negotiate/{path:.*}", negotiate_route)  # by the channel's route
    app.router.add_get("/api/channels", docs_route)
    endpoint = ClientEndpointRoute(runtime.parts.dispatcher, runtime.transport, runtime.tokens)
    app.router.add_get(CLIENT_PATH, endpoint.handle)
    for route in runtime.app.http_routes:
        app.router.add_route(route.method, f"/api/{route.route}", _function_route(runtime, route))
    for name, path in runtime.app.pages.items():
        app.router.add_get(f"/api/{name}", _page_route(path.read_bytes()))

    async def close_sockets(app: web.Application) -> None:
        runtime.transport.close_all("the server is shutting down")

    async def sweeping(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweep_forever(runtime), name="sweep")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.append(sweeping)
    return app


async def _sweep_forever(runtime: LocalRuntime) -> None:
    while True:
        await asyncio.sleep(runtime.sweep_every)
        try:
            await sweep(runtime.parts.dispatcher)
        except Exception:  # a sweep that fails is logged; the next one runs
            log.exception("sweep failed")


def _function_route(runtime: LocalRuntime, route: HttpRoute) -> Any:
    async def handle(request: web.Request) -> web.Response:
        result = await call_function(
            runtime,
            route.fn,
            route=f"/api/{route.route}",
            body=await request.read(),
            authorization=request.headers.get("Authorization"),
            auth=route.auth,
        )
        return to_response(result)

    return handle


def _page_route(body: bytes) -> Any:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    return handle


@dataclass
class Running:
    """A started server; `port` is the bound one (useful with port 0)."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Listen on `host:port`; port 0 lets the kernel pick a free one (no race to bind it)."""
    runner = web.AppRunner(app, access_log_class=PathAccessLogger, shutdown_timeout=5.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return Running(runner, host, int(runner.addresses[0][1]))
