"""A local Functions host serving the sample app on a free loopback port, and a fake service."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from devstack.funchost.app import build_app
from devstack.funchost.loader import FunctionSpec, find_function_app, import_app_module, index
from devstack.serve import serve

ROOT = Path(__file__).resolve().parents[3]

SAMPLE = Path(__file__).with_name("funchost_sample_app.py")
ACCESS_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"
CONNECTION_SETTING = "WebPubSubConnectionString"
HUB_SETTING = "WebPubSubHub"


@dataclass
class FakeService:
    """Records the Web PubSub REST calls the output binding makes."""

    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Host:
    url: str
    app_module: ModuleType
    service: FakeService
    session: aiohttp.ClientSession
    specs: list[FunctionSpec]

    @property
    def webhook(self) -> str:
        return f"{self.url}/runtime/webhooks/webpubsub"


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    served = await serve(app)
    return served.runner, served.url


@pytest.fixture(scope="module")
def sample_module() -> ModuleType:
    return import_app_module(str(SAMPLE), ROOT)


@pytest.fixture(scope="module")
def env_settings() -> Iterator[dict[str, str]]:
    """App settings for the host; restored afterwards so other tests never see them."""
    values: dict[str, str] = {}
    saved = {k: os.environ.get(k) for k in (CONNECTION_SETTING, HUB_SETTING)}
    yield values
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
async def host(sample_module: ModuleType, env_settings: dict[str, str]) -> AsyncIterator[Host]:
    service = FakeService()

    async def record(request: web.Request) -> web.Response:
        service.calls.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "content_type": request.headers.get("Content-Type"),
                "authorization": request.headers.get("Authorization", ""),
                "body": await request.read(),
            }
        )
        # The status codes the SDK expects from the service.
        if request.path.endswith(":send"):
            return web.Response(status=202)
        return web.Response(status=204 if request.method == "DELETE" else 200)

    fake = web.Application()
    fake.router.add_route("*", "/{tail:.*}", record)
    fake_runner, service.url = await _start(fake)
    os.environ[CONNECTION_SETTING] = (
        f"Endpoint={service.url.replace('127.0.0.1', 'localhost')};"
        f"AccessKey={ACCESS_KEY};Version=1.0;"
    )
    os.environ.pop(HUB_SETTING, None)
    specs = index(find_function_app(sample_module))
    runner, url = await _start(build_app(specs, ROOT))
    async with aiohttp.ClientSession() as session:
        yield Host(url=url, app_module=sample_module, service=service, session=session, specs=specs)
    await runner.cleanup()
    await fake_runner.cleanup()
