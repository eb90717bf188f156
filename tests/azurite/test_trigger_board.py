"""The board channel's features through function_app.py's real trigger functions.

Payloads as the Web PubSub extension delivers them; Table Storage is Azurite; the REST calls
the app makes to Web PubSub are recorded.
"""

from __future__ import annotations

import json
from typing import Any

from azure.data.tables.aio import TableServiceClient

from devstack.rest_recorder import RestRecorder
from tests.azurite.test_trigger_flow import connection_entity, frame, new_id, token
from tests.support import payloads


async def open_board(triggers: dict[str, Any], cid: str, room: str) -> dict[str, Any]:
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "board", "room": room})
    )
    assert accepted is not None and "code" not in accepted, accepted
    states: dict[str, Any] = accepted["states"]
    await triggers["webpubsub_connected"](request=payloads.connected(cid, states))
    return states


async def say(triggers: dict[str, Any], cid: str, data: Any, states: dict[str, Any]) -> Any:
    reply = await triggers["webpubsub_message"](request=payloads.message(cid, data, states))
    assert reply is not None and "code" not in reply  # an error code would close the client
    states.update(reply.get("states", {}))
    return frame(reply)


async def test_on_connect_raising_forbidden_refuses_the_connect_and_stores_nothing(
    triggers: dict[str, Any], recorder: RestRecorder, tables: TableServiceClient
) -> None:
    cid = new_id()
    refused = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "board", "room": "private-talks"})
    )
    # Web PubSub has three refusal codes (WebPubSubErrorCode in Azure/azure-sdk-for-net:
    # Unauthorized, UserError, ServerError): a 403 is the client's doing, so userError.
    assert refused == {"code": "userError", "errorMessage": "this board is private"}
    assert await connection_entity(tables, cid) is None
    assert recorder.kinds() == []


async def test_the_board_topic_rides_in_the_connect_response_and_the_welcome_follows(
    triggers: dict[str, Any], recorder: RestRecorder
) -> None:
    cid = new_id()
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "board", "room": "lobby"})
    )
    assert accepted is not None and accepted["groups"] == ["board:lobby"]
    assert recorder.kinds() == []
    await triggers["webpubsub_connected"](request=payloads.connected(cid, accepted["states"]))
    assert [(c.kind, c.body) for c in recorder.calls] == [
        ("send_to_connection", {"welcome": "Welcome to the lobby board"})
    ]


async def test_an_unknown_action_reaches_on_message(triggers: dict[str, Any]) -> None:
    cid = new_id()
    states = await open_board(triggers, cid, "lobby")
    assert await say(triggers, cid, {"action": "dance"}, states) == {
        "unrouted": '{"action": "dance"}'
    }
    assert await say(triggers, cid, "plain words", states) == {"unrouted": "plain words"}


async def test_frame_middleware_masks_words_and_drops_drafts(
    triggers: dict[str, Any], recorder: RestRecorder
) -> None:
    cid = new_id()
    states = await open_board(triggers, cid, "lobby")
    recorder.calls.clear()
    reply = await say(triggers, cid, {"action": "post", "text": "darn it"}, states)
    assert reply == {"action": "post", "text": "**** it", "posts": 1}
    assert [(c.kind, c.path, c.body) for c in recorder.calls] == [
        (
            "send_to_group",
            "/groups/board:lobby/:send",
            {"type": "notice", "text": "**** it", "draft": False},
        )
    ]
    recorder.calls.clear()
    reply = await say(triggers, cid, {"action": "post", "text": "not yet", "draft": True}, states)
    assert reply == {"action": "post", "text": "not yet", "posts": 2}
    assert recorder.kinds() == []  # the draft notice was dropped: nothing published


async def test_a_failed_permission_is_a_403_frame_and_the_connection_stays_open(
    triggers: dict[str, Any], recorder: RestRecorder
) -> None:
    cid = new_id()
    states = await open_board(triggers, cid, "lobby")
    await say(triggers, cid, {"action": "authenticate", "token": token(userId="eve")}, states)
    recorder.calls.clear()
    assert await say(triggers, cid, {"action": "clear"}, states) == {
        "action": "clear",
        "error": "'clear' is not permitted",
        "errorName": "ForbiddenError",
        "status": 403,
    }
    assert recorder.kinds() == []
    moderator = token(userId="mo", role="moderator")
    await say(triggers, cid, {"action": "authenticate", "token": moderator}, states)
    assert await say(triggers, cid, {"action": "clear"}, states) == {"action": "clear"}
    assert recorder.kinds() == ["send_to_group"]


async def test_state_is_in_the_states_copy_and_the_table(
    triggers: dict[str, Any], tables: TableServiceClient
) -> None:
    cid = new_id()
    states = await open_board(triggers, cid, "lobby")
    assert states["channel"]["state"] == {"posts": 0}  # set by on_connect
    await say(triggers, cid, {"action": "post", "text": "one"}, states)
    assert states["channel"]["state"] == {"posts": 1}
    stored = await connection_entity(tables, cid)
    assert stored is not None and json.loads(stored["State"]) == {"posts": 1}
