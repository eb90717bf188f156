"""Every bad input gets one clear error frame, loses nothing, and the connection stays usable."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt as pyjwt
import pytest

import function_app
from devstack.azurite import connection_string, free_port
from devstack.rest_recorder import RestRecorder
from shared.azure.settings import Settings
from tests.azurite.test_trigger_flow import frame, open_connection, token
from tests.conftest import JWT_SECRET
from tests.support import payloads


@pytest.fixture
async def conn(triggers: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    return cid, await open_connection(triggers, cid)


async def send(
    triggers: dict[str, Any], conn: tuple[str, dict[str, Any]], data: Any, **kw: Any
) -> Any:
    cid, states = conn
    reply = await triggers["webpubsub_message"](request=payloads.message(cid, data, states, **kw))
    assert reply is not None and "code" not in reply  # a code would close the client
    states.update(reply.get("states", {}))
    return frame(reply)


async def still_open(triggers: dict[str, Any], conn: tuple[str, dict[str, Any]]) -> None:
    assert await send(
        triggers, conn, {"action": "authenticate", "token": token(userId="dora")}
    ) == {
        "action": "authenticate",
        "authenticated": True,
    }


@pytest.mark.parametrize(
    ("data", "data_type", "status", "name", "text"),
    [
        ("{not json", "Text", 400, "BadRequestError", "frame is not valid JSON"),
        ("[1, 2]", "Json", 400, "BadRequestError", "frame must be a JSON object with 'action'"),
        ('"just a string"', "Json", 400, "BadRequestError", "with 'action'"),
        (
            "\x00\x01\ufffd",
            "Binary",
            415,
            "UnsupportedMediaTypeError",
            "binary frames are not supported",
        ),
        (
            '{"action": "dance"}',
            "Json",
            404,
            "NotFoundError",
            'unknown action "dance"; this channel has: authenticate',
        ),
        ('{"action": 7}', "Json", 404, "NotFoundError", "unknown action 7"),
        (
            '{"action": "authenticate"}',
            "Json",
            422,
            "ValidationError",
            "invalid input: token: Field required",
        ),
        (
            '{"action": "authenticate", "token": 5}',
            "Json",
            422,
            "ValidationError",
            "token: Input should be a valid string",
        ),
    ],
)
async def test_bad_frames_get_one_clear_error(
    triggers: dict[str, Any],
    conn: tuple[str, dict[str, Any]],
    data: str,
    data_type: str,
    status: int,
    name: str,
    text: str,
) -> None:
    error = await send(triggers, conn, data, data_type=data_type)
    assert (error["status"], error["errorName"]) == (status, name)
    assert text in error["error"]
    await still_open(triggers, conn)


async def test_an_oversize_frame_is_refused(
    triggers: dict[str, Any], conn: tuple[str, dict[str, Any]]
) -> None:
    error = await send(triggers, conn, {"action": "sendMessage", "message": "x" * 300_000})
    assert (error["status"], error["errorName"]) == (413, "PayloadTooLargeError")
    await still_open(triggers, conn)


def _forged(**claims: Any) -> str:
    return pyjwt.encode(
        {"exp": int(time.time()) + 60, **claims},
        "another-secret-entirely-0123456789abcdef",
        "HS256",
    )


@pytest.mark.parametrize(
    ("make_token", "text"),
    [
        (lambda: _forged(userId="mallory"), "token signature is not valid"),
        (
            lambda: pyjwt.encode(
                {"userId": "m", "exp": int(time.time()) - 60}, JWT_SECRET, "HS256"
            ),
            "token has expired",
        ),
        (
            lambda: pyjwt.encode({"userId": "m"}, JWT_SECRET, "HS256"),
            "token is missing the 'exp' claim",
        ),
        (
            lambda: pyjwt.encode(
                {"userId": "m", "exp": int(time.time()) + 60}, JWT_SECRET, "HS512"
            ),
            "must be signed with HS256",
        ),
        (
            lambda: pyjwt.encode({"userId": "m", "exp": int(time.time()) + 60}, "", "none"),
            "HS256",
        ),
        (lambda: "not-a-token", "token is not valid"),
    ],
)
async def test_bad_tokens_are_unauthorized_and_set_no_session(
    triggers: dict[str, Any], conn: tuple[str, dict[str, Any]], make_token: Any, text: str
) -> None:
    error = await send(triggers, conn, {"action": "authenticate", "token": make_token()})
    assert (error["status"], error["errorName"], error["action"]) == (
        401,
        "UnauthorizedError",
        "authenticate",
    )
    assert text in error["error"]
    after = await send(triggers, conn, {"action": "sendMessage", "message": "sneaky"})
    assert after["errorName"] == "UnauthorizedError"


async def test_a_malformed_trigger_payload_is_answered_not_raised(triggers: dict[str, Any]) -> None:
    result = await triggers["webpubsub_message"](request="{oops")
    assert result is not None and result["code"] == "userError"
    assert result["errorMessage"].startswith(
        "trigger payload is not valid JSON: Expecting property name"
    )
    result = await triggers["webpubsub_message"](request='{"data": "x"}')
    assert result == {
        "code": "userError",
        "errorMessage": "trigger payload has no connectionContext",
    }


async def test_a_storage_outage_rejects_connect_and_errors_messages_cleanly(
    triggers: dict[str, Any], app_settings: dict[str, str]
) -> None:
    dead = Settings.from_env(
        {**app_settings, "AzureWebJobsStorage": connection_string(port=free_port())}
    )
    await function_app.runtime.reconfigure(dead)
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    rejected = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": "general"})
    )
    assert rejected == {
        "code": "serverError",
        "errorMessage": "table storage is unavailable (connections)",
    }
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "history"})
    )
    error = frame(reply)
    assert (error["status"], error["errorName"]) == (503, "ServiceUnavailableError")
    # the outage ends: the same process serves again
    await function_app.runtime.reconfigure()
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": "general"})
    )
    assert accepted is not None and "code" not in accepted


async def test_a_realtime_service_outage_gives_an_error_frame_and_keeps_the_message(
    triggers: dict[str, Any], conn: tuple[str, dict[str, Any]], recorder: RestRecorder
) -> None:
    await still_open(triggers, conn)
    recorder.fail_with = 400
    error = await send(triggers, conn, {"action": "sendMessage", "message": "during outage"})
    assert (error["status"], error["errorName"]) == (503, "ServiceUnavailableError")
    assert error["error"] == "realtime service failed to publish"
    recorder.fail_with = None
    history = await send(triggers, conn, {"action": "history", "limit": 200})
    assert "during outage" in [m["message"] for m in history["messages"]]


async def test_a_token_without_a_user_is_unauthorized_and_an_odd_role_is_dropped(
    triggers: dict[str, Any], conn: tuple[str, dict[str, Any]]
) -> None:
    error = await send(triggers, conn, {"action": "authenticate", "token": token(role="admin")})
    assert (error["status"], error["error"]) == (401, "token has no userId")
    ok = await send(triggers, conn, {"action": "authenticate", "token": token(sub="sam", role=5)})
    assert ok == {"action": "authenticate", "authenticated": True}
    states = conn[1]
    assert states["channel"]["session"] == {"userId": "sam", "role": None}
