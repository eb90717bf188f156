"""function_app.py's HTTP functions: negotiate, the broadcast route, guest tokens."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import azure.functions as func
import jwt as pyjwt
import pytest

from devstack.rest_recorder import ACCESS_KEY, RestRecorder
from tests.azurite.test_trigger_flow import token


def request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> func.HttpRequest:
    parsed = urllib.parse.urlsplit(url)
    return func.HttpRequest(
        method=method,
        url=url,
        headers=headers or {},
        params=dict(urllib.parse.parse_qsl(parsed.query)),
        body=json.dumps(body).encode()
        if body is not None and not isinstance(body, bytes)
        else body or b"",
    )


def http_url(ws_url: str) -> str:
    """The token's audience: the client URL with http(s) for ws(s)."""
    return "http" + ws_url.removeprefix("ws")


def body(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


async def test_negotiate_returns_a_client_url_carrying_channel_and_opening_data(
    triggers: dict[str, Any],
) -> None:
    response = await triggers["negotiate"](
        req=request("GET", "http://localhost/api/negotiate?channel=chat&room=general")
    )
    assert response.status_code == 200
    out = body(response)
    assert set(out) == {"url", "baseUrl", "accessToken"}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(out["url"]).query)
    assert query["channel"] == ["chat"] and query["room"] == ["general"]
    assert query["access_token"] == [out["accessToken"]]
    claims = pyjwt.decode(
        out["accessToken"], ACCESS_KEY, algorithms=["HS256"], audience=http_url(out["baseUrl"])
    )
    assert "role" not in claims and "webpubsub.group" not in claims  # no group permissions
    assert "sub" not in claims  # anonymous: no user id


async def test_negotiate_by_route_gives_the_route_parameters_as_opening_data(
    triggers: dict[str, Any],
) -> None:
    req = request("GET", "http://localhost/api/negotiate/chat/general")
    req = func.HttpRequest(
        method="GET",
        url=req.url,
        headers={},
        params={},
        route_params={"path": "chat/general"},
        body=b"",
    )
    response = await triggers["negotiate_route"](req=req)
    assert response.status_code == 200, response.get_body()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body(response)["url"]).query)
    assert query["channel"] == ["chat"] and query["room"] == ["general"]


@pytest.mark.parametrize(
    ("path", "params", "status", "text"),
    [
        ("chat", {}, 404, "no channel has the route /chat"),
        ("nowhere/general", {}, 404, "no channel has the route /nowhere/general"),
        ("chat/no spaces", {}, 422, "invalid opening data: room"),
        ("chat/general", {"channel": "echo"}, 400, "/chat/general is channel 'chat', not 'echo'"),
    ],
)
async def test_negotiate_by_route_refuses_clearly(
    triggers: dict[str, Any], path: str, params: dict[str, str], status: int, text: str
) -> None:
    req = func.HttpRequest(
        method="GET",
        url=f"http://localhost/api/negotiate/{path}",
        headers={},
        params=params,
        route_params={"path": path},
        body=b"",
    )
    response = await triggers["negotiate_route"](req=req)
    assert response.status_code == status
    assert text in body(response)["error"]


async def test_negotiate_with_a_bearer_token_sets_the_user_id(triggers: dict[str, Any]) -> None:
    response = await triggers["negotiate"](
        req=request(
            "GET",
            "http://localhost/api/negotiate?channel=chat&room=general",
            headers={"Authorization": f"Bearer {token(userId='frank')}"},
        )
    )
    out = body(response)
    claims = pyjwt.decode(
        out["accessToken"], ACCESS_KEY, algorithms=["HS256"], audience=http_url(out["baseUrl"])
    )
    assert claims["sub"] == "frank"


@pytest.mark.parametrize(
    ("query", "headers", "status", "text"),
    [
        ("channel=nope", {}, 404, "unknown channel 'nope'"),
        ("room=general", {}, 404, "name a channel: /api/negotiate/<route> or ?channel=<name>"),
        ("channel=chat", {}, 422, "invalid opening data: room: Field required"),
        (
            "channel=chat&room=general",
            {"Authorization": "Bearer forged.token.here"},
            401,
            "token is not valid",
        ),
        ("channel=chat&room=general", {"Authorization": "Basic abc"}, 401, "Bearer"),
    ],
)
async def test_negotiate_refuses_clearly(
    triggers: dict[str, Any], query: str, headers: dict[str, str], status: int, text: str
) -> None:
    response = await triggers["negotiate"](
        req=request("GET", f"http://localhost/api/negotiate?{query}", headers=headers)
    )
    assert response.status_code == status
    assert text in body(response)["error"]


async def test_broadcast_route_publishes_once_to_the_room_for_everyone(
    triggers: dict[str, Any], recorder: RestRecorder
) -> None:
    response = await triggers["http_broadcast_to_room"](
        req=request(
            "POST",
            "http://localhost/api/broadcast",
            {"room": "general", "message": "maintenance at noon"},
            {"Authorization": f"Bearer {token(userId='ops', role='admin')}"},
        )
    )
    assert response.status_code == 204
    assert recorder.kinds() == ["send_to_group"]
    call = recorder.calls[0]
    assert call.path == "/groups/room:general/:send" and "excluded" not in call.query
    assert call.body["message"] == "maintenance at noon" and call.body["userId"] == "ops"


@pytest.mark.parametrize(
    ("payload", "headers", "status", "name"),
    [
        ({"room": "general", "message": "hi"}, {}, 401, "UnauthorizedError"),
        ({"room": "general"}, "auth", 422, "ValidationError"),
        (b"{not json", "auth", 400, "BadRequestError"),
    ],
)
async def test_broadcast_route_refuses_clearly(
    triggers: dict[str, Any],
    recorder: RestRecorder,
    payload: Any,
    headers: Any,
    status: int,
    name: str,
) -> None:
    auth = {"Authorization": f"Bearer {token(userId='ops')}"} if headers == "auth" else headers
    response = await triggers["http_broadcast_to_room"](
        req=request("POST", "http://localhost/api/broadcast", payload, auth)
    )
    assert response.status_code == status
    assert body(response)["errorName"] == name
    assert recorder.calls == []


async def test_guest_token_is_a_short_lived_hs256_token_for_the_name(
    triggers: dict[str, Any],
) -> None:
    response = await triggers["http_guest_token"](
        req=request("POST", "http://localhost/api/token", {"name": "Grace"})
    )
    assert response.status_code == 200
    out = body(response)
    from tests.conftest import JWT_SECRET

    claims = pyjwt.decode(out["token"], JWT_SECRET, algorithms=["HS256"])
    # a user id of its own; the name is for display
    assert re.fullmatch(r"guest-[0-9a-f]{16}", claims["userId"])
    assert (claims["name"], claims["role"]) == ("Grace", "guest")
    assert (out["userId"], out["name"]) == (claims["userId"], "Grace")
    assert claims["exp"] - claims["iat"] == out["expiresIn"] == 3600


async def test_guest_token_is_refused_when_guest_login_is_off() -> None:
    from channels.auth import guest_token
    from channels.services import GuestPolicy, services
    from shared.core.http import call_function
    from shared.core.testing import ChannelTestEnvironment

    # The app's own service, substituted by the harness: no edit of shared/ needed.
    env = ChannelTestEnvironment(services=services, overrides={"guests": GuestPolicy(False)})
    result = await call_function(
        env, guest_token, route="/api/token", body=b'{"name": "Grace"}', authorization=None
    )
    assert result.status == 403
    assert result.body["errorName"] == "ForbiddenError"
    assert "GUEST_LOGIN" in result.body["error"]


async def test_channel_docs_describe_actions_auth_and_schemas(triggers: dict[str, Any]) -> None:
    response = triggers["channel_docs"](req=request("GET", "http://localhost/api/channels"))
    assert response.status_code == 200
    chat = next(c for c in body(response)["channels"] if c["name"] == "chat")
    assert chat["openingData"]["required"] == ["room"]
    actions = chat["routing"]["action"]
    assert {name: a["auth"] for name, a in actions.items()} == {
        "authenticate": False,
        "sendMessage": True,
        "history": True,
        "broadcastToRoom": True,
        "processJob": True,
        "members": True,
        "sendDirect": True,
    }
    assert actions["authenticate"]["errors"] == ["UnauthorizedError"]
    assert actions["sendMessage"]["input"]["required"] == ["message"]
    # what a client sees: camelCase names
    room_message = actions["history"]["output"]["$defs"]["RoomMessage"]
    assert set(room_message["required"]) == {"id", "message", "userId", "timestamp"}
    assert actions["processJob"]["input"]["required"] == ["jobId"]


@pytest.mark.parametrize(
    ("setting", "value", "text"),
    [
        ("JWT_SECRET", "", "app setting JWT_SECRET is not set: tokens cannot be used"),
        ("JWT_SECRET", "too-short", "app setting JWT_SECRET must be at least 32 characters"),
    ],
)
async def test_a_missing_or_weak_setting_is_named_in_the_error(
    triggers: dict[str, Any], app_settings: dict[str, str], setting: str, value: str, text: str
) -> None:
    import function_app
    from shared.azure.settings import Settings

    await function_app.runtime.reconfigure(Settings.from_env({**app_settings, setting: value}))
    response = await triggers["http_guest_token"](
        req=request("POST", "http://localhost/api/token", {"name": "Grace"})
    )
    assert response.status_code == 500
    assert body(response) == {"error": text, "errorName": "SettingsError", "status": 500}


async def test_a_missing_realtime_setting_is_named_at_negotiate_and_at_connect(
    triggers: dict[str, Any], app_settings: dict[str, str]
) -> None:
    import function_app
    from shared.azure.settings import Settings
    from tests.support import payloads

    unset = {k: v for k, v in app_settings.items() if k != "WebPubSubConnectionString"}
    await function_app.runtime.reconfigure(Settings.from_env(unset))
    response = await triggers["negotiate"](
        req=request("GET", "http://localhost/api/negotiate?channel=chat&room=general")
    )
    assert response.status_code == 500
    assert body(response)["error"] == "app setting WebPubSubConnectionString is not set"
    rejected = await triggers["webpubsub_connect"](
        request=payloads.connect("c-unset", {"channel": "chat", "room": "general"})
    )
    assert rejected == {
        "code": "serverError",
        "errorMessage": "app setting WebPubSubConnectionString is not set",
    }


# FunctionApp.get_functions() indexes once per process: list the routes in a fresh one.
LIST_HTTP_ROUTES = """
import json, function_app
print(json.dumps(sorted(
    [t.route, [m.value for m in t.methods]]
    for t in (f.get_trigger() for f in function_app.app.get_functions())
    if t is not None and t.type == "httpTrigger"
)))
"""


def test_function_app_serves_the_app_s_one_list_of_routes_and_pages() -> None:
    """channels.http_routes and channels.pages are what Azure serves (and shared.local too)."""
    import channels

    out = subprocess.run(
        [sys.executable, "-c", LIST_HTTP_ROUTES],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    served = {(route, tuple(methods)) for route, methods in json.loads(out.stdout)}
    listed = {(r.route, (r.method,)) for r in channels.http_routes}
    listed |= {(name, ("GET",)) for name in channels.pages}
    assert listed <= served
    assert served - listed == {
        ("negotiate", ("GET",)),
        ("negotiate/{*path}", ("GET",)),
        ("channels", ("GET",)),
        ("asyncapi.json", ("GET",)),  # the AsyncAPI document
        ("client/{name}", ("GET",)),  # the generated TypeScript client's ES modules
    }
