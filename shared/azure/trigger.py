"""The protocol adapter: Web PubSub trigger payloads in, trigger return values out.

The only module that knows the payload's shape (see DESIGN "The trigger payload, exactly"):
a JSON string, `connectionContext` holding eventType ("System"/"User"), eventName,
connectionId, userId and states; connect adds `query`; a user event adds `data` (always a
string) and `dataType` ("Text"/"Json"/"Binary"); disconnected adds `reason`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_json

from shared.core.decoding import decode_json
from shared.core.errors import BadRequestError
from shared.core.events import (
    Accept,
    ConnectedEvent,
    ConnectEvent,
    DataType,
    DisconnectedEvent,
    Event,
    MessageEvent,
    Reject,
    Reply,
    Result,
    refused_status,
)

# The extension serializes the enum by name; accept its numeric form too.
_DATA_TYPES = {
    "text": DataType.TEXT,
    "json": DataType.JSON,
    "binary": DataType.BINARY,
    "2": DataType.TEXT,
    "1": DataType.JSON,
    "0": DataType.BINARY,
}


class TriggerPayloadError(ValueError):
    """The trigger payload is not one the Web PubSub extension sends."""


def parse(request: str | bytes | Mapping[str, Any]) -> Event:
    """The event a trigger payload carries; `TriggerPayloadError` saying what is wrong."""
    try:
        payload = (
            decode_json(request, "trigger payload")
            if isinstance(request, str | bytes)
            else dict(request)
        )
    except BadRequestError as exc:
        raise TriggerPayloadError(exc.message) from exc
    context = payload.get("connectionContext") if isinstance(payload, dict) else None
    if not isinstance(context, dict):
        raise TriggerPayloadError("trigger payload has no connectionContext")
    channel_id = context.get("connectionId")
    if not isinstance(channel_id, str) or not channel_id:
        raise TriggerPayloadError("trigger payload has no connectionId")
    kind = str(context.get("eventType", "")).lower()
    name = str(context.get("eventName", "")).lower()
    user_id = _optional_str(context, "userId") or None
    states = context.get("states") or {}
    if not isinstance(states, dict):
        raise TriggerPayloadError("connectionContext.states is not an object")

    if kind in ("user", "1"):
        data = _optional_str(payload, "data")
        data_type = _DATA_TYPES.get(str(payload.get("dataType", "text")).lower())
        if data_type is None:
            raise TriggerPayloadError(f"unknown dataType {payload.get('dataType')!r}")
        return MessageEvent(channel_id, data or "", data_type, user_id, states)
    if kind not in ("system", "0"):
        raise TriggerPayloadError(f"unknown eventType {context.get('eventType')!r}")
    if name == "connect":
        return ConnectEvent(
            channel_id,
            _query(payload.get("query")),
            user_id,
            states,
            _expiry(payload.get("claims")),
        )
    if name == "connected":
        return ConnectedEvent(channel_id, user_id, states)
    if name == "disconnected":
        return DisconnectedEvent(channel_id, _optional_str(payload, "reason"), user_id, states)
    raise TriggerPayloadError(f"unknown system event {context.get('eventName')!r}")


def _optional_str(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise TriggerPayloadError(f"{key} is not a string")
    return value


def _query(query: Any) -> dict[str, list[str]]:
    """The connect query as the extension gives it: `{name: [values]}`, all strings."""
    if query is None:
        return {}
    if not isinstance(query, dict):
        raise TriggerPayloadError("query is not an object")
    for key, values in query.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TriggerPayloadError(f"query value of {key!r} is not a list of strings")
    return {k: list(v) for k, v in query.items()}


def _expiry(claims: Any) -> int | None:
    """The access token's `exp` from the connect event's claims (`{name: [values]}`)."""
    values = claims.get("exp") if isinstance(claims, dict) else None
    value = values[0] if isinstance(values, list) and values else values
    try:
        return int(value) if isinstance(value, str | int) else None
    except ValueError:
        return None


REJECT_CODES = {401: "unauthorized", 400: "userError", 500: "serverError"}


def reject_code(status: int) -> str:
    """Web PubSub's connect-refusal code for a status (the service answers 401, 400 or 500)."""
    return REJECT_CODES[refused_status(status)]


def render(result: Result) -> dict[str, Any] | None:
    """The dict the trigger function returns (a returned str would be ignored)."""
    if result is None:
        return None
    if isinstance(result, Reject):
        return {"code": reject_code(result.status), "errorMessage": result.message}
    out: dict[str, Any] = {}
    if isinstance(result, Accept):
        if result.user_id:
            out["userId"] = result.user_id
        if result.topics:
            out["groups"] = [str(topic) for topic in result.topics]  # a topic is a group
    elif isinstance(result, Reply):
        if result.frame is not None:
            # pydantic's encoder (as the floor's model_dump_json): compact, UTF-8 as is
            out["data"] = to_json(result.frame).decode()
            out["dataType"] = "json"
        elif result.states:
            out["data"] = ""
            out["dataType"] = "text"
    if result.states:
        out["states"] = result.states
    return out or None
