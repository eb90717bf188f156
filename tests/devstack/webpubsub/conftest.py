"""Fixtures: an in-process emulator, a recording CloudEvents handler, WebSocket clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from devstack.serve import serve
from devstack.webpubsub import Emulator, UpstreamConfig
from tests.devstack.webpubsub.wps_support import HUB, Client, ClientUrl, Connect, Upstream


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    handler = Upstream()
    app = web.Application()
    app.router.add_route("*", "/events", handler.handle)
    served = await serve(app)
    handler.url = f"{served.url}/events?code=secret"
    yield handler
    await served.stop()


EmulatorFactory = Callable[..., Awaitable[Emulator]]


@pytest.fixture
async def start_emulator() -> AsyncIterator[EmulatorFactory]:
    """`await start_emulator(upstream=..., **config)`; stopped after the test."""
    started: list[Emulator] = []

    async def start(upstream: Upstream | None = None, **overrides: Any) -> Emulator:
        default = UpstreamConfig(upstream.url) if upstream is not None else None
        overrides.setdefault("default_upstream", default)
        emulator = Emulator(port=0, **overrides)
        await emulator.start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        await emulator.stop()


@pytest.fixture
async def emulator(start_emulator: EmulatorFactory) -> Emulator:
    """An emulator with no event handler."""
    return await start_emulator()


@pytest.fixture
async def service(emulator: Emulator) -> AsyncIterator[WebPubSubServiceClient]:
    async with WebPubSubServiceClient.from_connection_string(
        emulator.connection_string, hub=HUB
    ) as client:
        yield client


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """`await connect(url, protocol=None, headers=None)` -> Client; closed after the test."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))  # many sockets

    async def open_client(
        url: str, protocol: str | None = None, headers: dict[str, str] | None = None
    ) -> Client:
        ws = await session.ws_connect(
            url, protocols=(protocol,) if protocol else (), headers=headers, max_msg_size=0
        )
        return Client(ws)

    yield open_client
    await session.close()


@pytest.fixture
def client_url() -> ClientUrl:
    """`await client_url(emulator, user_id=..., roles=..., groups=...)`, via the service SDK."""

    async def make(emulator: Emulator, hub: str = HUB, **kwargs: Any) -> str:
        async with WebPubSubServiceClient.from_connection_string(
            emulator.connection_string, hub=hub
        ) as client:
            token = await client.get_client_access_token(**kwargs)
        return str(token["url"])

    return make
