"""What `shared.local` takes from an app module, and the HTTP routes it serves from it."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import channels
from shared.core.errors import WiringError
from shared.core.functions import channel_func
from shared.core.http import HttpRoute
from shared.core.services import ChannelServices
from shared.local import AppModuleError, load_app
from tests.local.conftest import Served


@channel_func(auth=False)
async def a_channel_action(services: ChannelServices[Any], data: dict[str, Any]) -> None:
    return None


def test_a_channel_function_cannot_be_an_http_route() -> None:
    with pytest.raises(
        WiringError,
        match=r"HttpRoute\('POST', 'x'\): a_channel_action .* is a message function; "
        r"only a plain @func can be served over HTTP",
    ):
        HttpRoute("POST", "x", a_channel_action)


def test_the_reference_app_hands_over_its_services_routes_and_pages() -> None:
    app = load_app("channels")
    assert app.services is channels.services
    assert [(r.method, r.route, r.fn.name) for r in app.http_routes] == [
        ("POST", "token", "guest_token"),
        ("POST", "broadcast", "broadcast_to_room"),
    ]
    assert set(app.pages) == {"chat"}
    assert {"chat", "echo", "rooms"} <= set(app.registry.channels)


@pytest.fixture
def fake_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("fake_local_app")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("services", {"guests": True}, "fake_local_app.services must be an AppServices"),
        ("http_routes", [("POST", "token", None)], "fake_local_app.http_routes holds"),
        ("pages", {"chat": Path("/no/such/page.html")}, "fake_local_app.pages['chat'] must be"),
    ],
)
def test_an_app_module_exposing_the_wrong_thing_is_named(
    fake_module: types.ModuleType, attribute: str, value: object, message: str
) -> None:
    setattr(fake_module, attribute, value)
    with pytest.raises(AppModuleError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_app(fake_module.__name__)


async def test_only_the_app_s_routes_are_served_with_their_methods(
    server: Served, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{server.url}/api/token", json={"name": "ada"}) as response:
        assert response.status == 200
        assert (await response.json())["userId"] == "ada"
    async with http.post(f"{server.url}/api/token", data=b"{nope") as response:
        assert response.status == 400
        assert (await response.json())["error"].startswith("request body is not valid JSON")
    async with http.get(f"{server.url}/api/token") as response:
        assert response.status == 405
    async with http.post(f"{server.url}/api/broadcast", json={"room": "r", "message": "m"}) as r:
        assert r.status == 401  # the function requires a session
    async with http.get(f"{server.url}/api/nothing") as response:
        assert response.status == 404
    async with http.post(f"{server.url}/api/token", data=b"x" * (1024 * 1024 + 1)) as response:
        assert response.status == 413  # bodies over 1 MiB are refused unread
    async with http.get(f"{server.url}/client") as response:
        assert response.status == 400
        assert await response.text() == "expected a WebSocket upgrade request"
    async with http.get(f"{server.url}/api/channels") as response:
        names = [c["name"] for c in (await response.json())["channels"]]
        assert {"chat", "echo", "rooms"} <= set(names)
    async with http.get(f"{server.url}/api/chat") as response:
        assert response.content_type == "text/html"
        assert "<title>Channels chat</title>" in await response.text()
