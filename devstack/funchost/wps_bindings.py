"""The Web PubSub input (`webPubSubConnection`) and output (`webPubSub`) bindings."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from azure.messaging.webpubsubservice import WebPubSubServiceClient
from azure.messaging.webpubsubservice.aio import (
    WebPubSubServiceClient as AsyncWebPubSubServiceClient,
)

from devstack.funchost.jsonwriter import compact
from devstack.funchost.loader import BindingSpec

CONNECTION_TYPE = "webPubSubConnection"
OUTPUT_TYPE = "webPubSub"
DEFAULT_CONNECTION_SETTING = "WebPubSubConnectionString"
HUB_SETTING = "WebPubSubHub"
_EXPRESSION = re.compile(r"\{([^{}]+)\}")
_CONTENT_TYPES = {
    "text": "text/plain",
    "json": "application/json",
    "binary": "application/octet-stream",
}


class BindingError(RuntimeError):
    """A binding cannot be resolved or executed (the invocation fails)."""


def resolve(template: str | None, binding_data: Mapping[str, str]) -> str | None:
    """Binding expressions like `{query.userId}` or `{headers.x-ms-client-principal-id}`."""
    if not template:
        return template
    lowered = {k.lower(): v for k, v in binding_data.items()}
    return _EXPRESSION.sub(lambda m: lowered.get(m.group(1).strip().lower(), ""), template)


def _service(binding: BindingSpec) -> tuple[str, str]:
    setting = binding.get("connection") or DEFAULT_CONNECTION_SETTING
    connection_string = os.environ.get(setting, "")
    if not connection_string:
        raise BindingError(f"app setting {setting} is not set (binding {binding.name})")
    hub = binding.get("hub") or os.environ.get(HUB_SETTING, "")
    if not hub:
        raise BindingError(
            f"binding {binding.name}: hub is not set (nor app setting {HUB_SETTING})"
        )
    return connection_string, str(hub)


def connection_info(binding: BindingSpec, binding_data: Mapping[str, str]) -> str:
    """`{baseUrl, url, accessToken}` as JSON text, computed from the access key."""
    connection_string, hub = _service(binding)
    user_id = resolve(binding.get("userId"), binding_data) or None
    client = WebPubSubServiceClient.from_connection_string(connection_string, hub=hub)
    protocol = binding.get("clientProtocol") or "Default"
    token: Mapping[str, Any] = client.get_client_access_token(
        user_id=user_id, client_protocol="MQTT" if str(protocol).lower() == "mqtt" else "Default"
    )
    return compact(
        {"baseUrl": token["baseUrl"], "url": token["url"], "accessToken": token["token"]}
    )


def _actions(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes):
        value = json.loads(value)
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise BindingError("webPubSub output expects an action object or a list of them")
    return items


def _field(action: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in action.items() if k.lower() == lowered), None)


def _message(action: Mapping[str, Any]) -> tuple[Any, str]:
    data_type = str(_field(action, "dataType") or "text").lower()
    if data_type not in _CONTENT_TYPES:
        raise BindingError(f"unknown dataType {data_type!r}")
    data = _field(action, "data")
    if data_type == "binary":
        if not (isinstance(data, dict) and str(data.get("type", "")).lower() == "buffer"):
            raise BindingError(
                "WebPubSubDataType is binary, please use ArrayBuffer as message data type."
            )
        return bytes(data.get("data") or []), _CONTENT_TYPES[data_type]
    if not isinstance(data, str):
        raise BindingError("Message data should be string, please stringify object.")
    if data_type == "json":
        # The SDK serializes a JSON body itself; hand it the parsed value.
        return json.loads(data), _CONTENT_TYPES[data_type]
    return data, _CONTENT_TYPES[data_type]


async def _run(client: AsyncWebPubSubServiceClient, action: Mapping[str, Any]) -> None:
    name = str(_field(action, "actionName") or "").lower()

    def f(key: str) -> Any:
        return _field(action, key)

    if name.startswith("send"):
        message, content_type = _message(action)
        if name == "sendtoall":
            await client.send_to_all(message, excluded=f("excluded"), content_type=content_type)
        elif name == "sendtoconnection":
            await client.send_to_connection(f("connectionId"), message, content_type=content_type)
        elif name == "sendtogroup":
            await client.send_to_group(
                f("group"), message, excluded=f("excluded"), content_type=content_type
            )
        elif name == "sendtouser":
            await client.send_to_user(f("userId"), message, content_type=content_type)
        else:
            raise BindingError(f"Not supported WebPubSubOperation: {name}.")
    elif name == "addconnectiontogroup":
        await client.add_connection_to_group(f("group"), f("connectionId"))
    elif name == "removeconnectionfromgroup":
        await client.remove_connection_from_group(f("group"), f("connectionId"))
    elif name == "addusertogroup":
        await client.add_user_to_group(f("group"), f("userId"))
    elif name == "removeuserfromgroup":
        await client.remove_user_from_group(f("group"), f("userId"))
    elif name == "removeuserfromallgroups":
        await client.remove_user_from_all_groups(f("userId"))
    elif name == "closeallconnections":
        await client.close_all_connections(excluded=f("excluded"), reason=f("reason"))
    elif name == "closeclientconnection":
        await client.close_connection(f("connectionId"), reason=f("reason"))
    elif name == "closegroupconnections":
        await client.close_group_connections(f("group"), excluded=f("excluded"), reason=f("reason"))
    elif name == "grantpermission":
        await client.grant_permission(
            f("permission"), f("connectionId"), target_name=f("targetName")
        )
    elif name == "revokepermission":
        await client.revoke_permission(
            f("permission"), f("connectionId"), target_name=f("targetName")
        )
    else:
        raise BindingError(f"Not supported WebPubSubOperation: {name}.")


class ServiceClients:
    """Async service clients, created once per (connection string, hub) and reused."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], AsyncWebPubSubServiceClient] = {}

    def get(self, connection_string: str, hub: str) -> AsyncWebPubSubServiceClient:
        key = (connection_string, hub)
        if key not in self._clients:
            self._clients[key] = AsyncWebPubSubServiceClient.from_connection_string(
                connection_string, hub=hub
            )
        return self._clients[key]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


async def send_actions(clients: ServiceClients, binding: BindingSpec, value: Any) -> int:
    """Forward the actions set on a `webPubSub` output to the service; returns how many."""
    actions = _actions(value)
    if not actions:
        return 0
    client = clients.get(*_service(binding))
    for action in actions:
        await _run(client, action)
    return len(actions)
