"""The seed's client flow through function_app.py's real trigger functions.

Payloads are shaped exactly as the Web PubSub extension delivers them; Table Storage is
Azurite; the REST calls the app makes to Web PubSub are recorded.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables.aio import TableServiceClient

from channels.chat import id_key
from devstack.rest_recorder import RestRecorder
from shared.core.jwt_service import JwtService
from tests.conftest import JWT_SECRET
from tests.support import payloads


def new_id() -> str:
    return f"conn-{uuid.uuid4().hex[:12]}"


def token(**claims: Any) -> str:
    return JwtService(JWT_SECRET).sign(claims)


def frame(result: dict[str, Any] | None) -> Any:
    assert result is not None and result["dataType"] == "json"
    assert isinstance(result["data"], str)  # the extension needs a string
    return json.loads(result["data"])


async def connection_entity(tables: TableServiceClient, cid: str) -> dict[str, Any] | None:
    try:
        return dict(await tables.get_table_client("connections").get_entity(cid, "connection"))
    except ResourceNotFoundError:
        return None


async def open_connection(
    triggers: dict[str, Any], cid: str, room: str = "general"
) -> dict[str, Any]:
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": room})
    )
    assert accepted is not None and "code" not in accepted
    states: dict[str, Any] = accepted["states"]
    await triggers["webpubsub_connected"](request=payloads.connected(cid, states))
    return states


async def test_seed_client_flow(
    triggers: dict[str, Any], recorder: RestRecorder, tables: TableServiceClient
) -> None:
    cid = new_id()
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": "general"})
    )
    assert accepted is not None and "code" not in accepted
    stored = await connection_entity(tables, cid)
    assert stored is not None and stored["Channel"] == "chat"
    assert json.loads(stored["OpeningData"]) == {"room": "general"}
    states = accepted["states"]
    # on_connect ran at connect: chat joins the room only on authenticate, so no group yet,
    # and no REST call
    assert "groups" not in accepted
    assert recorder.kinds() == []

    # connected: the welcome is sent; the room is joined on authenticate, not before
    assert await triggers["webpubsub_connected"](request=payloads.connected(cid, states)) is None
    assert recorder.kinds() == ["send_to_connection"]
    assert recorder.calls[0].body == {"welcome": "Welcome to general!"}
    recorder.calls.clear()

    # sendMessage before authenticating: an error frame, the connection stays open
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "sendMessage", "message": "Hello"}, states)
    )
    error = frame(reply)
    assert error["action"] == "sendMessage"
    assert (error["errorName"], error["status"]) == ("UnauthorizedError", 401)
    assert "code" not in reply  # an error code would close the client
    states.update(reply.get("states", {}))

    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "authenticate", "token": token(userId="alice", role="user")}, states
        )
    )
    assert frame(reply) == {"action": "authenticate", "authenticated": True}
    states.update(reply["states"])
    stored = await connection_entity(tables, cid)
    assert stored is not None
    session = json.loads(stored["Session"])
    assert session.pop("expiresAt") > time.time()
    assert session == {"userId": "alice", "role": "user", "joined": "general"}
    # authenticating joins the user's topic and the room, and tells the room
    assert [(c.kind, c.path) for c in recorder.calls] == [
        ("add_to_group", f"/groups/user:alice/connections/{cid}"),
        ("add_to_group", f"/groups/room:general/connections/{cid}"),
        ("send_to_group", "/groups/room:general/:send"),
    ]
    assert recorder.calls[2].body == {
        "type": "presence",
        "event": "join",
        "userId": "alice",
        "room": "general",
    }
    assert recorder.calls[2].query["excluded"] == [cid]

    recorder.calls.clear()
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "sendMessage", "message": "Hello"}, states)
    )
    sent = frame(reply)
    assert sent["action"] == "sendMessage" and sent["message"] == "Hello"
    assert isinstance(sent["timestamp"], int)
    # exactly one group send for room:general, excluding the sender
    assert recorder.kinds() == ["send_to_group"]
    call = recorder.calls[0]
    assert call.path == "/groups/room:general/:send"
    assert call.query["excluded"] == [cid]
    assert call.body == {
        "type": "message",
        "id": sent["id"],
        "message": "Hello",
        "userId": "alice",
        "timestamp": sent["timestamp"],
    }
    messages = tables.get_table_client("messages")
    rows = [
        r async for r in messages.query_entities("PartitionKey eq @p", parameters={"p": "general"})
    ]
    # the message row and its id row, in the room's partition (Int64 comes back from the SDK
    # as an EntityProperty)
    stored = {r["RowKey"]: r for r in rows}
    id_row = stored[id_key(sent["id"])]
    row = stored[id_row["key"]]
    assert (row["message"], row["userId"], row["timestamp"].value) == (
        "Hello",
        "alice",
        sent["timestamp"],
    )
    assert id_row["userId"] == "alice"

    # disconnect removes the record, and a repeated disconnected event is harmless
    assert (
        await triggers["webpubsub_disconnected"](request=payloads.disconnected(cid, states)) is None
    )
    assert await connection_entity(tables, cid) is None
    assert (
        await triggers["webpubsub_disconnected"](request=payloads.disconnected(cid, states)) is None
    )


async def test_hot_path_reads_no_table_once_states_carry_the_session(
    triggers: dict[str, Any], recorder: RestRecorder, tables: TableServiceClient
) -> None:
    cid = new_id()
    states = await open_connection(triggers, cid)
    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "authenticate", "token": token(userId="bob")}, states
        )
    )
    states.update(reply["states"])
    # Remove the record behind the runtime's back: a message that still works read nothing.
    await tables.get_table_client("connections").delete_entity(cid, "connection")
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "history", "limit": 1}, states)
    )
    assert frame(reply)["action"] == "history"
    # the session and record are unchanged: only the rate limit's one timestamp is merged
    assert list(reply["states"]) == ["rate"]


async def test_connect_with_invalid_opening_data_is_rejected_naming_the_field(
    triggers: dict[str, Any],
) -> None:
    missing = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {"channel": "chat"})
    )
    assert missing == {
        "code": "userError",
        "errorMessage": "invalid opening data: room: Field required",
    }
    bad = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {"channel": "chat", "room": "no spaces"})
    )
    assert (
        bad is not None
        and bad["code"] == "userError"
        and bad["errorMessage"].startswith(
            "invalid opening data: room: String should match pattern"
        )
    )


async def test_connect_names_a_known_channel(triggers: dict[str, Any]) -> None:
    unknown = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {"channel": "nope"})
    )
    assert unknown == {"code": "userError", "errorMessage": "unknown channel 'nope'"}
    none = await triggers["webpubsub_connect"](request=payloads.connect(new_id(), {"room": "x"}))
    assert none is not None and none["code"] == "userError" and "?channel=" in none["errorMessage"]


async def test_connect_with_user_id_starts_authenticated(triggers: dict[str, Any]) -> None:
    cid = new_id()
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": "general"}, user_id="carol")
    )
    assert accepted is not None and accepted["userId"] == "carol"
    states = accepted["states"]
    await triggers["webpubsub_connected"](request=payloads.connected(cid, states, user_id="carol"))
    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "sendMessage", "message": "hi"}, states, user_id="carol"
        )
    )
    assert frame(reply)["action"] == "sendMessage" and "error" not in frame(reply)


async def test_event_type_and_data_type_casing_variants_are_accepted(
    triggers: dict[str, Any],
) -> None:
    cid = new_id()
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(
            cid, {"channel": "chat", "room": "general"}, event_type="system", event_name="Connect"
        )
    )
    assert accepted is not None and "code" not in accepted
    for data_type, event_type in (("Text", "user"), ("json", "USER"), ("TEXT", "User")):
        reply = await triggers["webpubsub_message"](
            request=payloads.message(
                cid,
                {"action": "history"},
                accepted["states"],
                data_type=data_type,
                event_type=event_type,
            )
        )
        assert frame(reply)["errorName"] == "UnauthorizedError"


async def test_a_publish_costs_one_rest_call_for_1_or_1000_subscribers(
    triggers: dict[str, Any], recorder: RestRecorder
) -> None:
    import function_app

    hub = function_app.runtime.parts.services.event_hub
    costs, members, targets = {}, {}, {}
    for size in (1, 1000):
        topic = f"room:size{size}"
        recorder.calls.clear()
        for i in range(size):
            await hub.subscribe(topic, f"sub-{size}-{i}")
        # The two cases differ where they should: 1 vs 1000 distinct members of the group...
        members[size] = len({c.path for c in recorder.calls if c.kind == "add_to_group"})
        recorder.calls.clear()
        await hub.publish(topic, None, {"type": "message", "message": "to all"})
        # ...and cost the same: one call, to that group.
        costs[size] = recorder.kinds()
        targets[size] = [c.path for c in recorder.calls]
    assert members == {1: 1, 1000: 1000}
    assert costs == {1: ["send_to_group"], 1000: ["send_to_group"]}
    assert targets == {size: [f"/groups/room:size{size}/:send"] for size in (1, 1000)}
