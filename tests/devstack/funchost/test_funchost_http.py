"""HTTP triggers under /api, and the Web PubSub input and output bindings."""

from __future__ import annotations

import json

import jwt
import pytest

from devstack.funchost.http_trigger import compile_template

from .conftest import ACCESS_KEY, Host


async def test_async_route_with_route_param_and_query(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/hello/ada?greeting=hi") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await response.text() == "hello ada hi"


async def test_sync_route_gets_body_headers_and_sets_status_and_headers(host: Host) -> None:
    async with host.session.post(
        f"{host.url}/api/echo?code=anything", json={"n": 1}, headers={"x-probe": "p"}
    ) as response:
        assert response.status == 201
        assert response.headers["x-sync"] == "yes"
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == {"method": "POST", "json": {"n": 1}, "header": "p"}


async def test_methods_are_honoured(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/echo") as response:
        assert response.status == 404
    async with host.session.post(f"{host.url}/api/hello/ada") as response:
        assert response.status == 404


async def test_unknown_route_is_404(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/nothing-here") as response:
        assert response.status == 404


async def test_str_return_becomes_a_text_response(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/text") as response:
        assert response.status == 200
        assert await response.text() == "plain result"


async def test_exception_in_function_is_500(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/boom") as response:
        assert response.status == 500


async def test_host_status_lists_the_functions(host: Host) -> None:
    async with host.session.get(f"{host.url}/admin/host/status") as response:
        body = await response.json()
    assert body["state"] == "Running"
    assert {"hello", "echo", "negotiate", "on_connect", "on_message"} <= set(body["functions"])


async def test_input_binding_gives_connection_info_signed_with_the_key(host: Host) -> None:
    async with host.session.get(f"{host.url}/api/negotiate?userId=ada") as response:
        assert response.status == 200
        text = await response.text()
    info = json.loads(text)
    assert list(info) == ["baseUrl", "url", "accessToken"]
    port = host.service.url.rsplit(":", 1)[1]
    assert info["baseUrl"] == f"ws://localhost:{port}/client/hubs/sample"
    assert info["url"] == f"{info['baseUrl']}?access_token={info['accessToken']}"
    claims = jwt.decode(
        info["accessToken"],
        ACCESS_KEY,
        algorithms=["HS256"],
        audience=f"http://localhost:{port}/client/hubs/sample",
    )
    assert claims["sub"] == "ada"


async def test_output_binding_forwards_actions_to_the_service(host: Host) -> None:
    host.service.calls.clear()
    actions = [
        {"actionName": "sendToAll", "data": "hi all", "dataType": "text", "excluded": ["c9"]},
        {"actionName": "sendToGroup", "group": "room", "data": '{"a":1}', "dataType": "json"},
        {"actionName": "addConnectionToGroup", "group": "room", "connectionId": "c1"},
        {"actionName": "closeClientConnection", "connectionId": "c2", "reason": "bye"},
    ]
    async with host.session.post(f"{host.url}/api/broadcast", json=actions) as response:
        assert response.status == 202
    calls = host.service.calls
    assert [(c["method"], c["path"]) for c in calls] == [
        ("POST", "/api/hubs/sample/:send"),
        ("POST", "/api/hubs/sample/groups/room/:send"),
        ("PUT", "/api/hubs/sample/groups/room/connections/c1"),
        ("DELETE", "/api/hubs/sample/connections/c2"),
    ]
    assert calls[0]["body"] == b"hi all"
    assert calls[0]["content_type"].startswith("text/plain")
    assert calls[0]["query"]["excluded"] == "c9"
    assert json.loads(calls[1]["body"]) == {"a": 1}
    assert calls[3]["query"]["reason"] == "bye"
    assert all(c["authorization"].startswith("Bearer ") for c in calls)


async def test_output_binding_rejects_an_unknown_action(host: Host) -> None:
    payload = {"actionName": "explode"}
    async with host.session.post(f"{host.url}/api/broadcast", json=payload) as response:
        assert response.status == 500


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("users/{id:int}", "/users/42", {"id": "42"}),
        ("users/{id:int}", "/users/x", None),
        ("items/{name?}", "/items", {}),
        ("items/{name?}", "/ITEMS/pen", {"name": "pen"}),
        ("files/{*rest}", "/files/a/b.txt", {"rest": "a/b.txt"}),
    ],
)
def test_route_templates(template: str, path: str, params: dict[str, str] | None) -> None:
    pattern, _ = compile_template(template)
    match = pattern.fullmatch(path)
    if params is None:
        assert match is None
    else:
        assert match is not None
        assert {k: v for k, v in match.groupdict().items() if v is not None} == params
