"""A Web PubSub trigger's return value -> the HTTP answer to the service.

Mirrors the extension's `Utilities.BuildValidResponse` for a JSON (dict) return value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from devstack.funchost.jsonwriter import compact
from devstack.funchost.wps_protocol import (
    STATE_HEADER,
    ConnectionContext,
    encode_states,
    state_value,
)

log = logging.getLogger("devstack.funchost")

# WebPubSubStatusCode, read by Newtonsoft from a name (any case) or its number.
_STATUS_CODES = {"success": 0, "unauthorized": 1, "usererror": 2, "servererror": 3}
_HTTP_FOR_CODE = {1: 401, 2: 400, 3: 500}
# WebPubSubDataType: Binary = 0, Json = 1, Text = 2.
_DATA_TYPES = {"binary": 0, "json": 1, "text": 2}
_CONTENT_TYPES = {0: "application/octet-stream", 1: "application/json", 2: "text/plain"}


@dataclass
class ServiceReply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Invalid(ValueError):
    pass


def _enum(value: Any, names: dict[str, int], what: str) -> int:
    if isinstance(value, bool):
        raise _Invalid(f"Error converting value {value} to type '{what}'.")
    if isinstance(value, int) and value in names.values():
        return value
    if isinstance(value, str) and value.strip().lower() in names:
        return names[value.strip().lower()]
    raise _Invalid(f"Error converting value \"{value}\" to type '{what}'.")


def _error(message: str, status: int = 500) -> ServiceReply:
    return ServiceReply(
        status=status, body=message.encode(), content_type="text/plain; charset=utf-8"
    )


def _merged_states(context: ConnectionContext, response: dict[str, Any]) -> dict[str, str]:
    # States can only be added or overwritten; a non-object `states` is ignored.
    new = response.get("states")
    merged = dict(context.states)
    if isinstance(new, dict):
        merged.update({str(k): state_value(v) for k, v in new.items()})
    return merged


def _with_states(reply: ServiceReply, states: dict[str, str]) -> ServiceReply:
    if states:
        reply.headers[STATE_HEADER] = encode_states(states)
    return reply


def _string_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _Invalid("groups and roles must be arrays of strings")
    return [v if v is None or isinstance(v, str) else compact(v) for v in value]


def _optional_string(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else compact(value)


def _message_data(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, dict) and value.get("type") is not None:
        # A Node.js Buffer serialized as {"type": "Buffer", "data": [bytes]}.
        return bytes(value.get("data") or [])
    raise _Invalid("Message data should be string, please stringify object.")


def build_reply(result: Any, request_type: str, context: ConnectionContext) -> ServiceReply:
    """The extension's answer for a connect or user event, given what the function returned."""
    if result is None:
        return ServiceReply()
    if not isinstance(result, dict | list):
        # The worker sends a str as a string, which the extension does not read.
        log.warning(
            "Invalid response type %s regarding current request: %s",
            type(result).__name__,
            request_type,
        )
        return ServiceReply()
    try:
        if not isinstance(result, dict):
            raise _Invalid("Response should be a JObject.")
        if "code" in result:
            code = _enum(result["code"], _STATUS_CODES, "WebPubSubStatusCode")
            if code != 0:
                message = result.get("errorMessage")
                if message is None:
                    raise _Invalid("Value cannot be null. (Parameter 'content')")
                return _error(_optional_string(message) or "", _HTTP_FOR_CODE[code])
        states = _merged_states(context, result)
        if request_type == "connect":
            body = compact(
                {
                    "userId": _optional_string(result.get("userId")),
                    "groups": _string_list(result.get("groups")),
                    "subprotocol": _optional_string(result.get("subprotocol")),
                    "roles": _string_list(result.get("roles")),
                }
            )
            reply = ServiceReply(body=body.encode(), content_type="application/json")
            return _with_states(reply, states)
        data_type = _enum(result.get("dataType", 0), _DATA_TYPES, "WebPubSubDataType")
        reply = ServiceReply(
            body=_message_data(result.get("data")), content_type=_CONTENT_TYPES[data_type]
        )
        return _with_states(reply, states)
    except (_Invalid, ValueError, TypeError) as exc:
        return _error(str(exc))
