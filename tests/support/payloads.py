"""Web PubSub trigger payloads, shaped exactly as the extension hands them to a Python function.

A JSON string indented as Newtonsoft.Json indents (two spaces, `"key": value`), derived fields
first and `connectionContext` last, nulls kept; `eventType` PascalCase; `states` values raw
JSON; every header a list of strings; user-event `data` always a string.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from devstack.rest_recorder import ACCESS_KEY

HUB = "channels"


def signature(connection_id: str, key: str = ACCESS_KEY) -> str:
    digest = hmac.new(key.encode(), connection_id.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _context(
    event_type: str,
    event_name: str,
    connection_id: str,
    user_id: str | None,
    states: dict[str, Any] | None,
) -> dict[str, Any]:
    ce_type = (
        f"azure.webpubsub.sys.{event_name}"
        if event_type.lower() == "system"
        else f"azure.webpubsub.user.{event_name}"
    )
    return {
        "eventType": event_type,
        "eventName": event_name,
        "hub": HUB,
        "connectionId": connection_id,
        "userId": user_id,
        "signature": signature(connection_id),
        "origin": "127.0.0.1",
        "states": states or {},
        "headers": {
            "Host": ["127.0.0.1:7071"],
            "ce-specversion": ["1.0"],
            "ce-type": [ce_type],
            "ce-source": [f"/hubs/{HUB}/client/{connection_id}"],
            "ce-id": ["1"],
            "ce-awpsversion": ["1.0"],
            "ce-hub": [HUB],
            "ce-connectionId": [connection_id],
            "ce-eventName": [event_name],
            "ce-signature": [signature(connection_id)],
            "WebHook-Request-Origin": ["127.0.0.1"],
        },
    }


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2)


def connect(
    connection_id: str,
    query: dict[str, str],
    *,
    user_id: str | None = None,
    event_type: str = "System",
    event_name: str = "connect",
) -> str:
    return _dump(
        {
            "claims": {
                "aud": [f"http://127.0.0.1:8080/client/hubs/{HUB}"],
                "sub": [user_id] if user_id else [],
            },
            "query": {"access_token": ["eyJ.fake.token"], **{k: [v] for k, v in query.items()}},
            "headers": {"Connection": ["Upgrade"], "Upgrade": ["websocket"]},
            "subprotocols": [],
            "clientCertificates": [],
            "connectionContext": _context(event_type, event_name, connection_id, user_id, None),
        }
    )


def connected(
    connection_id: str, states: dict[str, Any] | None = None, *, user_id: str | None = None
) -> str:
    return _dump(
        {"connectionContext": _context("System", "connected", connection_id, user_id, states)}
    )


def message(
    connection_id: str,
    data: Any,
    states: dict[str, Any] | None = None,
    *,
    data_type: str = "Json",
    user_id: str | None = None,
    event_type: str = "User",
) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    return _dump(
        {
            "data": text,
            "dataType": data_type,
            "connectionContext": _context(event_type, "message", connection_id, user_id, states),
        }
    )


def disconnected(
    connection_id: str, states: dict[str, Any] | None = None, *, reason: str | None = None
) -> str:
    return _dump(
        {
            "reason": reason,
            "connectionContext": _context("System", "disconnected", connection_id, None, states),
        }
    )
