"""`/runtime/webhooks/webpubsub` answers the service's CloudEvents as the extension does."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.support.payloads import signature as sign

from .conftest import ACCESS_KEY, CONNECTION_SETTING, Host

HUB = "sample"
NO_AUTO = ("User-Agent", "Accept", "Accept-Encoding")


def cloud_event(
    event: str,
    *,
    user: bool = False,
    connection_id: str = "conn-1",
    user_id: str | None = None,
    state: str | None = None,
    signature: str | None = None,
    hub: str = HUB,
) -> dict[str, str]:
    """The headers the service sends upstream, in its order."""
    kind = "user" if user else "sys"
    headers = {
        "WebHook-Request-Origin": "localhost",
        "ce-specversion": "1.0",
        "ce-type": f"azure.webpubsub.{kind}.{event}",
        "ce-source": f"/hubs/{hub}/client/{connection_id}",
        "ce-id": "7",
        "ce-time": "2025-01-01T00:00:00.000Z",
        "ce-awpsversion": "1.0",
        "ce-hub": hub,
        "ce-connectionId": connection_id,
        "ce-eventName": event,
        "ce-signature": signature or f"sha256=00,{sign(connection_id, ACCESS_KEY)}",
    }
    if user_id is not None:
        headers["ce-userId"] = user_id
    if state is not None:
        headers["ce-connectionState"] = state
    return headers


def encode_states(states: dict[str, Any]) -> str:
    inner = {
        k: base64.b64encode(json.dumps(v, separators=(",", ":")).encode()).decode()
        for k, v in states.items()
    }
    return base64.b64encode(json.dumps(inner).encode()).decode()


def decode_states(header: str) -> dict[str, Any]:
    inner = json.loads(base64.b64decode(header))
    return {k: json.loads(base64.b64decode(v)) for k, v in inner.items()}


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    async def read(self) -> bytes:
        return self.body

    async def text(self) -> str:
        return self.body.decode()


async def post(
    host: Host, headers: dict[str, str], body: bytes, content_type: str = "application/json"
) -> Reply:
    async with (
        aiohttp.ClientSession(skip_auto_headers=NO_AUTO) as session,
        session.post(
            host.webhook, data=body, headers={**headers, "Content-Type": content_type}
        ) as response,
    ):
        return Reply(response.status, response.headers, await response.read())


def seen(host: Host) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = host.app_module.SEEN
    return items


@pytest.fixture(autouse=True)
def _clear(host: Host) -> None:
    host.app_module.SEEN.clear()
    host.app_module.REPLIES.clear()


async def test_handshake_allows_the_configured_service_host(host: Host) -> None:
    headers = {"WebHook-Request-Origin": "localhost"}
    async with host.session.options(host.webhook, headers=headers) as response:
        assert response.status == 200
        # Extensions from 1.10 answer "*" once the origin matches (1.9 echoed it).
        assert response.headers["WebHook-Allowed-Origin"] == "*"
    async with host.session.get(host.webhook, headers=headers) as response:
        assert response.status == 200


async def test_handshake_refuses_another_origin(host: Host) -> None:
    headers = {"WebHook-Request-Origin": "evil.example.com"}
    async with host.session.options(host.webhook, headers=headers) as response:
        assert response.status == 400
        assert "WebHook-Allowed-Origin" not in response.headers


async def test_connect_payload_is_the_extensions_indented_json(host: Host) -> None:
    body = {
        "claims": {"sub": ["u1"], "role": ["webpubsub.joinLeaveGroup"]},
        "query": {"access_token": ["tok"], "room": ["lobby"]},
        "headers": {"Origin": ["http://localhost"]},
        "subprotocols": ["json.webpubsub.azure.v1"],
        "clientCertificates": [{"thumbprint": "ab12", "content": None}],
    }
    headers = cloud_event("connect", signature=sign("conn-1", ACCESS_KEY))
    response = await post(host, headers, json.dumps(body).encode())
    assert response.status == 200
    port = host.url.rsplit(":", 1)[1]
    expected = (
        "{\n"
        '  "claims": {\n'
        '    "sub": [\n'
        '      "u1"\n'
        "    ],\n"
        '    "role": [\n'
        '      "webpubsub.joinLeaveGroup"\n'
        "    ]\n"
        "  },\n"
        '  "query": {\n'
        '    "access_token": [\n'
        '      "tok"\n'
        "    ],\n"
        '    "room": [\n'
        '      "lobby"\n'
        "    ]\n"
        "  },\n"
        '  "headers": {\n'
        '    "Origin": [\n'
        '      "http://localhost"\n'
        "    ]\n"
        "  },\n"
        '  "subprotocols": [\n'
        '    "json.webpubsub.azure.v1"\n'
        "  ],\n"
        '  "clientCertificates": [\n'
        "    {\n"
        '      "Thumbprint": "ab12",\n'
        '      "content": null\n'
        "    }\n"
        "  ],\n"
        '  "connectionContext": {\n'
        '    "eventType": "System",\n'
        '    "eventName": "connect",\n'
        '    "hub": "sample",\n'
        '    "connectionId": "conn-1",\n'
        '    "userId": null,\n'
        f'    "signature": "{sign("conn-1", ACCESS_KEY)}",\n'
        '    "origin": "localhost",\n'
        '    "states": {},\n'
        '    "headers": {\n'
        '      "Host": [\n'
        f'        "127.0.0.1:{port}"\n'
        "      ],\n"
    )
    for name, value in headers.items():
        expected += f'      "{name}": [\n        "{value}"\n      ],\n'
    expected = expected[: -len(",\n")] + "\n    }\n  }\n}"
    assert seen(host) == [("connect", expected)]


async def test_connect_accept_returns_the_response_and_encoded_states(host: Host) -> None:
    host.app_module.REPLIES["connect"] = {
        "userId": "u1",
        "groups": ["room:lobby"],
        "states": {"session": {"user": "u1", "n": 1}, "flag": None},
    }
    incoming = encode_states({"kept": "yes", "flag": True})
    response = await post(host, cloud_event("connect", state=incoming), b"{}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert await response.text() == (
        '{"userId":"u1","groups":["room:lobby"],"subprotocol":null,"roles":null}'
    )
    assert decode_states(response.headers["ce-connectionState"]) == {
        "kept": "yes",
        "flag": None,
        "session": {"user": "u1", "n": 1},
    }
    payload = json.loads(seen(host)[0][1])
    assert payload["claims"] is None
    assert payload["connectionContext"]["states"] == {"kept": "yes", "flag": True}


async def test_connect_rejection_maps_code_to_status_and_message(host: Host) -> None:
    for code, status in (("unauthorized", 401), ("userError", 400), ("serverError", 500)):
        host.app_module.REPLIES["connect"] = {"code": code, "errorMessage": f"no: {code}"}
        response = await post(host, cloud_event("connect"), b"{}")
        assert response.status == status
        assert await response.text() == f"no: {code}"
        assert "ce-connectionState" not in response.headers


async def test_connect_without_return_is_an_empty_200(host: Host) -> None:
    response = await post(host, cloud_event("connect"), b"{}")
    assert response.status == 200
    assert await response.read() == b""


async def test_user_text_event_payload_and_text_reply(host: Host) -> None:
    host.app_module.REPLIES["message"] = {"data": "pong", "dataType": "text"}
    state = encode_states({"session": {"user": "u1"}})
    headers = cloud_event("message", user=True, user_id="u1", state=state)
    response = await post(host, headers, "ping ✓".encode(), "text/plain; charset=utf-8")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain"
    assert await response.text() == "pong"
    # States the function did not touch are sent back unchanged.
    assert decode_states(response.headers["ce-connectionState"]) == {"session": {"user": "u1"}}
    text = seen(host)[0][1]
    assert text.startswith('{\n  "data": "ping ✓",\n  "dataType": "Text",\n  "connectionContext"')
    assert '    "eventType": "User",\n    "eventName": "message",' in text
    assert '    "userId": "u1",' in text
    # A state value is written as raw JSON, exactly as it was stored.
    assert '    "states": {\n      "session": {"user":"u1"}\n    },' in text


async def test_user_json_event_and_json_reply_with_new_state(host: Host) -> None:
    host.app_module.REPLIES["message"] = {
        "data": json.dumps({"ok": True}),
        "dataType": "json",
        "states": {"count": 2},
    }
    frame = json.dumps({"action": "send", "text": "hi"}).encode()
    response = await post(host, cloud_event("message", user=True), frame, "application/json")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(await response.text()) == {"ok": True}
    assert decode_states(response.headers["ce-connectionState"]) == {"count": 2}
    payload = json.loads(seen(host)[0][1])
    assert payload["data"] == frame.decode()
    assert payload["dataType"] == "Json"


async def test_binary_event_is_a_lossy_string_and_reply_defaults_to_binary(host: Host) -> None:
    host.app_module.REPLIES["message"] = {"data": "raw"}
    headers = cloud_event("message", user=True)
    response = await post(host, headers, b"\xff\x00ab", "application/octet-stream")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert "ce-connectionState" not in response.headers
    payload = json.loads(seen(host)[0][1])
    assert payload["data"] == "\ufffd\x00ab"
    assert payload["dataType"] == "Binary"


async def test_str_return_is_ignored(host: Host) -> None:
    host.app_module.REPLIES["message"] = '{"data": "not read"}'
    response = await post(host, cloud_event("message", user=True), b"x", "text/plain")
    assert response.status == 200
    assert await response.read() == b""


async def test_invalid_data_type_in_reply_is_500(host: Host) -> None:
    host.app_module.REPLIES["message"] = {"data": "x", "dataType": "hello"}
    response = await post(host, cloud_event("message", user=True), b"x", "text/plain")
    assert response.status == 500


async def test_connected_and_disconnected_answer_200(host: Host) -> None:
    host.app_module.REPLIES["connected"] = {"data": "ignored"}
    response = await post(host, cloud_event("connected"), b"{}")
    assert response.status == 200
    assert await response.read() == b""
    response = await post(host, cloud_event("disconnected"), b'{"reason": "bye"}')
    assert response.status == 200
    (_, connected), (_, disconnected) = seen(host)
    assert connected.startswith('{\n  "connectionContext": {\n    "eventType": "System",')
    assert disconnected.startswith('{\n  "reason": "bye",\n  "connectionContext": {')


async def test_lookup_ignores_case_of_hub_and_event(host: Host) -> None:
    headers = cloud_event("CONNECTED", hub="SAMPLE")
    response = await post(host, headers, b"{}")
    assert response.status == 200
    assert [name for name, _ in seen(host)] == ["connected"]


async def test_trigger_parameter_not_named_request_gets_that_part(host: Host) -> None:
    response = await post(host, cloud_event("raw", user=True), b"hello", "text/plain")
    assert response.status == 200
    assert seen(host) == [("raw", "hello")]


async def test_forged_signature_is_401(host: Host) -> None:
    forged = sign("conn-1", "not-the-key")
    response = await post(host, cloud_event("connect", signature=forged), b"{}")
    assert response.status == 401
    assert seen(host) == []


async def test_missing_signature_is_401(host: Host) -> None:
    headers = cloud_event("connect")
    del headers["ce-signature"]
    response = await post(host, headers, b"{}")
    assert response.status == 401


@pytest.mark.parametrize("header", ["ce-connectionId", "ce-hub", "ce-type", "ce-eventName"])
async def test_missing_required_header_is_400(host: Host, header: str) -> None:
    headers = cloud_event("connect")
    del headers[header]
    response = await post(host, headers, b"{}")
    assert response.status == 400
    assert seen(host) == []


async def test_missing_origin_header_is_400(host: Host) -> None:
    headers = cloud_event("connect")
    del headers["WebHook-Request-Origin"]
    response = await post(host, headers, b"{}")
    assert response.status == 400


async def test_unknown_event_is_404_with_empty_body(host: Host) -> None:
    response = await post(host, cloud_event("typing", user=True), b"x", "text/plain")
    assert response.status == 404
    assert await response.read() == b""


async def test_malformed_connection_state_is_400(host: Host) -> None:
    headers = cloud_event("message", user=True, state="not base64!")
    response = await post(host, headers, b"x", "text/plain")
    assert response.status == 400
    assert seen(host) == []


async def test_user_event_with_unsupported_content_type_is_400(host: Host) -> None:
    response = await post(host, cloud_event("message", user=True), b"<a/>", "application/xml")
    assert response.status == 400
    assert await response.text() == (
        "Message data only supports text, binary, json. Current value is: application/xml"
    )


async def test_non_post_event_is_400(host: Host) -> None:
    async with host.session.put(host.webhook, headers=cloud_event("connect"), data=b"{}") as r:
        assert r.status == 400


async def test_states_round_trip_through_two_events(host: Host) -> None:
    host.app_module.REPLIES["connect"] = {"states": {"who": {"id": "u1", "tags": ["a"]}}}
    first = await post(host, cloud_event("connect"), b"{}")
    state = first.headers["ce-connectionState"]
    host.app_module.REPLIES["message"] = {"data": "ok", "dataType": "text", "states": {"n": 1}}
    second = await post(host, cloud_event("message", user=True, state=state), b"x", "text/plain")
    assert decode_states(second.headers["ce-connectionState"]) == {
        "who": {"id": "u1", "tags": ["a"]},
        "n": 1,
    }
    payload = json.loads(seen(host)[1][1])
    assert payload["connectionContext"]["states"] == {"who": {"id": "u1", "tags": ["a"]}}


async def test_without_a_connection_string_every_origin_is_allowed_unsigned(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONNECTION_SETTING)
    headers = {"WebHook-Request-Origin": "anywhere.example.com"}
    async with host.session.options(host.webhook, headers=headers) as response:
        assert response.status == 200
        assert response.headers["WebHook-Allowed-Origin"] == "*"
    forged = sign("conn-1", "not-the-key")
    reply = await post(host, cloud_event("connect", signature=forged), b"{}")
    assert reply.status == 200
