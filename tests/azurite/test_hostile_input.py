"""Undecodable input is a 400 that says why, wherever it arrives (issue 10, row 6).

Frames, HTTP bodies and trigger payloads all go through one decode (shared/core/decoding.py);
an anonymous caller of a route that needs a session is refused before its body is read; and
the trigger entry point answers every payload instead of raising (a raise hangs the service).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels import chat
from channels.services import services
from shared.azure.runtime import ChannelRuntime
from shared.core.decoding import MAX_DEPTH, decode_json, depth
from shared.core.errors import BadRequestError
from shared.core.http import call_function
from shared.core.testing import ChannelTestEnvironment
from tests.support import payloads

HUGE_INT = "9" * 5000  # over CPython's 4,300-digit int conversion limit
DEEP = "[" * 2000 + "]" * 2000  # deeper than the interpreter's recursion limit
JUST_TOO_DEEP = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)


@pytest.fixture
def env() -> ChannelTestEnvironment:
    return ChannelTestEnvironment(services=services)


async def authenticated(env: ChannelTestEnvironment) -> Any:
    client = env.communicator("chat", room="general")
    assert (await client.connect()).accepted
    await client.receive_json()  # the welcome
    await client.send_json({"action": "authenticate", "token": env.token(userId="ann")})
    assert (await client.receive_json())["authenticated"] is True
    return client


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"action": "sendMessage", "message": "x", "n": ' + HUGE_INT + "}", "number too long"),
        ('{"action": "sendMessage", "x": ' + DEEP + "}", f"deeper than {MAX_DEPTH} levels"),
        ('{"action": "sendMessage", "x": ' + JUST_TOO_DEEP + "}", "deeper than"),
    ],
    ids=["huge-int", "deep", "just-too-deep"],
)
async def test_an_undecodable_frame_is_a_400_and_the_connection_keeps_working(
    env: ChannelTestEnvironment, text: str, says: str
) -> None:
    client = await authenticated(env)
    await client.send_text(text)
    error = await client.receive_json()
    assert (error["status"], error["errorName"]) == (400, "BadRequestError")
    assert error["error"].startswith("frame ") and says in error["error"]
    await client.send_json({"action": "sendMessage", "message": "still here"})
    assert (await client.receive_json())["message"] == "still here"


@pytest.mark.parametrize("body", [HUGE_INT.encode(), DEEP.encode(), b"\xff\xfe{"])
async def test_an_anonymous_broadcast_is_refused_before_its_body_is_read(
    env: ChannelTestEnvironment, body: bytes
) -> None:
    result = await call_function(
        env, chat.broadcast_to_room, route="/api/broadcast", body=body, authorization=None
    )
    assert result.status == 401
    assert result.body["errorName"] == "UnauthorizedError"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"room": "general", "message": ' + HUGE_INT.encode() + b"}", "number too long"),
        (b'{"room": ' + DEEP.encode() + b"}", "deeper than"),
        (b"\xff\xfe\x00{", "not UTF-8"),
        (b"{nope", "not valid JSON"),
    ],
)
async def test_an_undecodable_http_body_is_a_400_naming_the_problem(
    env: ChannelTestEnvironment, body: bytes, says: str
) -> None:
    bearer = f"Bearer {env.token(userId='ops', role='admin')}"
    result = await call_function(
        env, chat.broadcast_to_room, route="/api/broadcast", body=body, authorization=bearer
    )
    assert result.status == 400, result
    assert result.body["errorName"] == "BadRequestError"
    assert result.body["error"].startswith("request body ") and says in result.body["error"]


def _payload(connect: bool = True, **fields: Any) -> dict[str, Any]:
    text = payloads.connect("c1", {"channel": "chat", "room": "r"}) if connect else ""
    base: dict[str, Any] = json.loads(text) if text else {}
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        (json.dumps(_payload(query={"channel": "chat"})), "query value of 'channel'"),
        (json.dumps(_payload(query={"channel": [1]})), "query value of 'channel'"),
        (json.dumps(_payload(query=["channel"])), "query is not an object"),
        (json.dumps(_payload(query="channel=chat")), "query is not an object"),
        (payloads.connect("c1", {"channel": "chat"}).encode("utf-16"), "not UTF-8"),
        (b"\xff" + payloads.connect("c1", {"channel": "chat"}).encode(), "not"),
        ('{"connectionContext": ' + DEEP + "}", "deeper than"),
        ('{"n": ' + HUGE_INT + "}", "number too long"),
        (
            json.dumps({**json.loads(payloads.message("c1", {"a": 1})), "data": {"action": "x"}}),
            "data is not a string",
        ),
    ],
)
async def test_a_malformed_trigger_payload_is_answered_400_never_raised(
    env: ChannelTestEnvironment, request_: str | bytes, says: str
) -> None:
    runtime = ChannelRuntime(env.registry, parts=env.parts)
    result = await runtime.handle_trigger(request_)
    assert result is not None and result["code"] == "userError"
    assert says in result["errorMessage"]


def test_decode_json_bounds_nesting_without_recursing() -> None:
    nested: Any = 0
    for _ in range(100_000):  # far past the recursion limit: the walk is iterative
        nested = [nested]
    assert depth(nested) == MAX_DEPTH + 1  # stops counting once over the bound
    assert decode_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "x") is not None
    with pytest.raises(BadRequestError, match="nests deeper"):
        decode_json(b"{" + b'"a":{' * MAX_DEPTH + b"}" * (MAX_DEPTH + 1), "x")
