"""Web PubSub trigger payloads, as the extension hands them to a Python function.

The text itself is written by the local host's writer (devstack/funchost/wps_protocol.py),
which its own tests pin to the extension's exact format: Newtonsoft-indented JSON, derived
fields first and `connectionContext` last, nulls kept, `eventType` PascalCase, `states`
values raw JSON, every header a list of strings, user-event `data` always a string.
Here: the values of a realistic event, for the unit tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from devstack.funchost.wps_protocol import ConnectionContext, request_payload, state_value
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
) -> ConnectionContext:
    kind = "sys" if event_type.lower() == "system" else "user"
    return ConnectionContext(
        event_type=event_type,
        event_name=event_name,
        hub=HUB,
        connection_id=connection_id,
        user_id=user_id,
        signature=signature(connection_id),
        origin="127.0.0.1",
        states={k: state_value(v) for k, v in (states or {}).items()},
        headers={
            "Host": ["127.0.0.1:7071"],
            "ce-specversion": ["1.0"],
            "ce-type": [f"azure.webpubsub.{kind}.{event_name}"],
            "ce-source": [f"/hubs/{HUB}/client/{connection_id}"],
            "ce-id": ["1"],
            "ce-awpsversion": ["1.0"],
            "ce-hub": [HUB],
            "ce-connectionId": [connection_id],
            "ce-eventName": [event_name],
            "ce-signature": [signature(connection_id)],
            "WebHook-Request-Origin": ["127.0.0.1"],
        },
    )


def connect(
    connection_id: str,
    query: dict[str, str],
    *,
    user_id: str | None = None,
    event_type: str = "System",
    event_name: str = "connect",
) -> str:
    fields = {
        "claims": {
            "aud": [f"http://127.0.0.1:8080/client/hubs/{HUB}"],
            "sub": [user_id] if user_id else [],
        },
        "query": {"access_token": ["eyJ.fake.token"], **{k: [v] for k, v in query.items()}},
        "headers": {"Connection": ["Upgrade"], "Upgrade": ["websocket"]},
        "subprotocols": [],
        "clientCertificates": [],
    }
    return request_payload(fields, _context(event_type, event_name, connection_id, user_id, None))


def connected(
    connection_id: str, states: dict[str, Any] | None = None, *, user_id: str | None = None
) -> str:
    return request_payload({}, _context("System", "connected", connection_id, user_id, states))


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
    context = _context(event_type, "message", connection_id, user_id, states)
    return request_payload({"data": text, "dataType": data_type}, context)


def disconnected(
    connection_id: str, states: dict[str, Any] | None = None, *, reason: str | None = None
) -> str:
    context = _context("System", "disconnected", connection_id, None, states)
    return request_payload({"reason": reason}, context)
