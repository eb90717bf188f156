"""The AsyncAPI document says what the wiring says, and the committed clients are fresh."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import function_app
from shared.core.asyncapi import asyncapi_document, document_json
from shared.core.codegen import generate, stale, write
from shared.core.functions import Docs, channel_func
from shared.core.services import ChannelServices
from shared.core.wiring import ChannelRegistry, wire_channel

ROOT = Path(__file__).resolve().parents[2]
DOC: dict[str, Any] = function_app.asyncapi()


def deref(ref: dict[str, str]) -> Any:
    node: Any = DOC
    for part in ref["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_chat_action_is_a_request_reply_operation_with_the_error_frame() -> None:
    actions = {"authenticate", "sendMessage", "history", "broadcastToRoom", "processJob"}
    for action in actions:
        op = DOC["operations"][f"chat-{action}"]
        assert op["action"] == "send"
        assert op["x-routing"] == {"key": "action", "value": action}
        request = deref(op["messages"][0])["payload"]
        assert request["allOf"][1]["properties"]["action"]["const"] == action
        assert "id" in request["allOf"][1]["properties"]
        replies = [deref(m) for m in op["reply"]["messages"]]
        assert [r["name"] for r in replies] == [f"{action}-reply", "error"]


def test_input_and_output_schemas_come_from_the_models() -> None:
    op = DOC["operations"]["chat-sendMessage"]
    assert deref(op["messages"][0])["payload"]["allOf"][0] == {
        "$ref": "#/components/schemas/ChatMessage"
    }
    schemas = DOC["components"]["schemas"]
    assert schemas["ChatMessage"]["properties"]["message"]["maxLength"] == 2000
    assert schemas["RoomMessage"]["properties"]["userId"]["type"] == "string"  # by alias
    assert schemas["ErrorFrame"]["required"] == ["error", "errorName", "status"]


def test_auth_is_stated_per_action() -> None:
    ops = DOC["operations"]
    assert ops["chat-authenticate"]["x-auth"] is False
    assert "security" not in ops["chat-authenticate"]
    assert ops["chat-sendMessage"]["x-auth"] is True
    assert ops["chat-sendMessage"]["security"] == [{"$ref": "#/components/securitySchemes/session"}]
    assert ops["http-token"]["x-auth"] is False
    assert ops["http-broadcast"]["x-auth"] is True


def test_pushed_frames_are_receive_operations() -> None:
    pushes = {
        op["x-push"]: deref(op["messages"][0])["payload"]
        for op in DOC["operations"].values()
        if op["channel"]["$ref"] == "#/channels/chat"
        and op["action"] == "receive"
        and "x-push" in op
    }
    assert pushes == {
        "welcome": {"$ref": "#/components/schemas/Welcome"},  # on_connect's result
        "message": {"$ref": "#/components/schemas/RoomMessage"},  # Docs.pushes, by topic
        "processing": {"$ref": "#/components/schemas/JobProcessing"},  # a union output's
        "complete": {"$ref": "#/components/schemas/JobComplete"},  # members: channel.send
        "direct": {"$ref": "#/components/schemas/Direct"},  # Docs.pushes, to a user
    }


def test_the_channel_address_is_negotiate_with_its_opening_data() -> None:
    chat = DOC["channels"]["chat"]
    assert chat["address"] == "/api/negotiate"
    query = chat["bindings"]["ws"]["query"]
    assert query["required"] == ["channel", "room"]
    assert query["properties"]["channel"]["const"] == "chat"
    assert query["properties"]["room"]["pattern"] == "^[A-Za-z0-9_-]+$"


def test_http_routes_of_plain_functions_are_operations_with_their_method() -> None:
    op = DOC["operations"]["http-token"]
    assert DOC["channels"]["http-token"]["address"] == "/api/token"
    assert op["bindings"]["http"]["method"] == "POST"
    assert deref(op["messages"][0])["payload"] == {"$ref": "#/components/schemas/GuestLogin"}


class Nothing(BaseModel):
    pass


class Tick(BaseModel):
    n: int


@channel_func(auth=False, docs=Docs(pushes=[Tick]))
async def count(services: ChannelServices[Any], data: Nothing) -> int:
    return 1


def test_a_non_object_result_is_under_result_and_declared_pushes_appear() -> None:
    registry = ChannelRegistry()
    wire_channel(
        name="c",
        route="/c",
        auth=False,
        on_message_wiring={"op": {"count": count}},
        registry=registry,
    )
    doc = asyncapi_document(registry, title="t", version="1")
    reply = doc["channels"]["c"]["messages"]["count-reply"]
    assert reply["x-shape"] == "result"
    assert reply["payload"]["allOf"][0]["properties"]["result"] == {"type": "integer"}
    assert doc["operations"]["c-push-tick"]["x-push"] == "tick"  # no `type`: the model's name
    assert doc["operations"]["c-count"]["x-routing"]["key"] == "op"


def asyncapi_document_again() -> dict[str, Any]:
    function_app.asyncapi.cache_clear()
    return function_app.asyncapi()


def test_generation_is_deterministic_with_sorted_keys() -> None:
    assert generate(DOC) == generate(asyncapi_document_again())
    text = document_json(DOC)
    assert text.index('"asyncapi"') < text.index('"channels"') < text.index('"info"')


def test_the_committed_document_and_clients_are_fresh() -> None:
    assert stale(DOC, ROOT / "clients") == [], "run `make clients` and commit"


def test_a_hand_edited_client_is_reported_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "clients", tmp_path / "clients")
    api = tmp_path / "clients" / "typescript" / "api.ts"
    api.write_text(api.read_text() + "// edited\n")
    assert stale(DOC, tmp_path / "clients") == ["typescript/api.ts"]
    assert write(DOC, tmp_path / "clients") == ["typescript/api.ts"]
    assert stale(DOC, tmp_path / "clients") == []
