"""A `shared.local` server per test, on a free loopback port, serving the reference app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from shared.local import LocalApp, LocalRuntime, Running, create_app, load_app, start

JWT_SECRET = "local-adapter-tests-only-" + "0123456789abcdef" * 2


@dataclass
class Served:
    runtime: LocalRuntime
    running: Running

    @property
    def url(self) -> str:
        return self.running.url


async def serve(app: LocalApp, *, jwt_secret_previous: str | None = None) -> Served:
    runtime = LocalRuntime(app, jwt_secret=JWT_SECRET, jwt_secret_previous=jwt_secret_previous)
    return Served(runtime, await start(create_app(runtime)))


@pytest.fixture
def guest_login() -> Iterator[None]:
    """The reference app's guest login on (its GUEST_LOGIN app setting), as `make local` runs."""
    saved = os.environ.get("GUEST_LOGIN")
    os.environ["GUEST_LOGIN"] = "true"
    yield
    if saved is None:
        os.environ.pop("GUEST_LOGIN", None)
    else:
        os.environ["GUEST_LOGIN"] = saved


@pytest.fixture
async def server(guest_login: None) -> AsyncIterator[Served]:
    served = await serve(load_app("channels"))
    yield served
    await served.running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
