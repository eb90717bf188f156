"""User ids a connection cannot carry are refused with a 4xx; log lines cannot be forged; a
session is the same whichever way its token arrives (issue 10, row 9).

Through function_app.py's real negotiate and trigger functions, Table Storage on Azurite.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.parse
import uuid
from typing import Any

import jwt as pyjwt
import pytest
from azure.data.tables.aio import TableServiceClient
from pydantic import BaseModel

from devstack.rest_recorder import ACCESS_KEY
from shared.core.functions import channel_func
from shared.core.logs import channel_logger
from shared.core.services import ChannelServices
from shared.core.session import SESSION_KEY
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel
from tests.azurite.test_http_routes import body, http_url, request
from tests.azurite.test_trigger_flow import connection_entity, frame, open_connection, token
from tests.support import payloads

BAD_IDS = ["a\nb", "a\x01b", "a\rb", "a\u2028b", "a\x85b", ""]


def new_id() -> str:
    return f"conn-{uuid.uuid4().hex[:12]}"


async def negotiate(triggers: dict[str, Any], bearer: str, query: str = "room=general") -> Any:
    return await triggers["negotiate"](
        req=request(
            "GET",
            f"http://localhost/api/negotiate?channel=chat&{query}",
            headers={"Authorization": f"Bearer {bearer}"},
        )
    )


async def connect_with(triggers: dict[str, Any], out: dict[str, Any], cid: str) -> Any:
    """The connect event the service sends for negotiate's URL: its query, the token's sub."""
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(out["url"]).query))
    claims = pyjwt.decode(
        out["accessToken"], ACCESS_KEY, algorithms=["HS256"], audience=http_url(out["baseUrl"])
    )
    query.pop("access_token")  # payloads.connect adds the service's own
    return await triggers["webpubsub_connect"](
        request=payloads.connect(cid, query, user_id=claims.get("sub"))
    )


@pytest.mark.parametrize("user_id", [i for i in BAD_IDS if i])
async def test_negotiate_refuses_a_user_id_no_connection_can_carry(
    triggers: dict[str, Any], user_id: str
) -> None:
    response = await negotiate(triggers, token(userId=user_id))
    assert response.status_code == 400
    assert "userId has a control character" in body(response)["error"]


@pytest.mark.parametrize("user_id", [i for i in BAD_IDS if i])
async def test_authenticate_refuses_a_user_id_no_connection_can_carry(
    triggers: dict[str, Any], tables: TableServiceClient, user_id: str
) -> None:
    cid = new_id()
    states = await open_connection(triggers, cid)
    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "authenticate", "token": token(userId=user_id)}, states
        )
    )
    error = frame(reply)
    assert (error["status"], error["errorName"]) == (400, "BadRequestError")
    assert "control character" in error["error"]
    stored = await connection_entity(tables, cid)
    assert stored is not None and not stored.get("Session")


@pytest.mark.parametrize("user_id", [i for i in BAD_IDS if i])
async def test_a_connect_event_with_such_a_user_id_is_rejected_400_not_500(
    triggers: dict[str, Any], user_id: str
) -> None:
    rejected = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {"channel": "chat", "room": "r"}, user_id=user_id)
    )
    assert rejected is not None and rejected["code"] == "userError"
    assert "control character" in rejected["errorMessage"]


async def test_a_guest_token_given_to_negotiate_keeps_its_role_on_the_connection(
    triggers: dict[str, Any], tables: TableServiceClient
) -> None:
    signed = token(userId="gina", role="guest")  # one token: its `exp` is the session's
    response = await negotiate(triggers, signed)
    assert response.status_code == 200
    cid = new_id()
    accepted = await connect_with(triggers, body(response), cid)
    assert accepted is not None and accepted["userId"] == "gina"
    stored = await connection_entity(tables, cid)
    assert stored is not None
    session = json.loads(stored["Session"])
    assert session == {
        "userId": "gina",
        "role": "guest",
        "expiresAt": session["expiresAt"],
        "joined": "general",  # a signed-in connection joins its room at connect
    }
    assert isinstance(session["expiresAt"], int)  # it ends with the Bearer token
    assert json.loads(stored["OpeningData"]) == {"room": "general"}  # the key is not data
    # the same session `authenticate` gives for the same token
    states = accepted["states"]
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "authenticate", "token": signed}, states)
    )
    assert frame(reply)["authenticated"] is True
    again = await connection_entity(tables, cid)
    assert again is not None and json.loads(again["Session"]) == json.loads(stored["Session"])


async def test_the_url_session_expires_with_the_bearer_token_and_serves_nothing_else(
    triggers: dict[str, Any],
) -> None:
    bearer = token(userId="hal", role="user")
    out = body(await negotiate(triggers, bearer))
    carried = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(out["url"]).query))[SESSION_KEY]
    assert (
        pyjwt.decode(carried, options={"verify_signature": False})["exp"]
        == pyjwt.decode(bearer, options={"verify_signature": False})["exp"]
    )
    # not a Bearer token: the HTTP routes and negotiate refuse it
    refused = await negotiate(triggers, carried)
    assert refused.status_code == 401 and "connecting only" in body(refused)["error"]
    # nor an authenticate token
    cid = new_id()
    states = await open_connection(triggers, cid)
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "authenticate", "token": carried}, states)
    )
    assert frame(reply)["status"] == 401


async def test_a_url_session_of_another_user_or_forged_is_rejected(
    triggers: dict[str, Any],
) -> None:
    out = body(await negotiate(triggers, token(userId="ivy", role="admin")))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(out["url"]).query))
    query.pop("access_token")
    stolen = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), query, user_id="mallory")
    )
    assert stolen == {
        "code": "unauthorized",
        "errorMessage": "the connection URL's session is another user's",
    }
    forged = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {**query, SESSION_KEY: "forged.token.x"}, user_id="ivy")
    )
    assert forged is not None and forged["code"] == "unauthorized"


def test_log_lines_cannot_be_forged_through_arguments_or_extra_fields() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s room=%(room)s"))
    logger = channel_logger("channels")
    logger.addHandler(handler)
    try:
        logger.warning(
            "user %s said %s", "a\nINFO admin logged in", "\x1b[31m", extra={"room": "r\nx"}
        )
        logging.LoggerAdapter(logger, {"room": "r2\r\n"}).warning("hi %(who)s", {"who": "b\n"})
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines == [
        "user a\\nINFO admin logged in said \\x1b[31m room=r\\nx",
        "hi b\\n room=r2\\r\\n",
    ]


class Say(BaseModel):
    text: str


@channel_func(auth=False)
async def say(services: ChannelServices[Any], data: Say) -> None:
    services.logger.info("said %s", data.text)


async def test_a_handler_logging_client_text_writes_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ChannelRegistry()
    wire_channel(
        name="s", route="/s", on_message_wiring={"action": {"say": say}}, registry=registry
    )
    client = ChannelTestEnvironment(registry).communicator("s")
    assert (await client.connect()).accepted
    with caplog.at_level(logging.INFO, logger="channels"):
        await client.send_json({"action": "say", "text": "x\nERROR forged"})
    said = [r for r in caplog.records if r.getMessage().startswith("said")]
    assert [r.getMessage() for r in said] == ["said x\\nERROR forged"]
