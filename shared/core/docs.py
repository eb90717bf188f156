"""What the wiring says, as JSON: channels, actions, auth, docs and JSON Schemas.

Feeds generated documentation and typed clients (`GET /api/channels` in the reference app).
"""

from __future__ import annotations

from typing import Any

from shared.core.wiring import ChannelDefinition, ChannelRegistry, Route


def _route(route: Route) -> dict[str, Any]:
    fn = route.func
    out: dict[str, Any] = {"function": fn.name, "auth": route.auth}
    if fn.docs is not None:
        out["summary"] = fn.docs.summary
        if fn.docs.description:
            out["description"] = fn.docs.description
        out["tags"] = list(fn.docs.tags)
        out["errors"] = [error.__name__ for error in fn.docs.errors]
    if fn.permissions:
        out["permissions"] = len(fn.permissions)  # how many checks, never what they test
    if (schema := fn.input_schema()) is not None:
        out["input"] = schema
    if (schema := fn.output_schema()) is not None:
        out["output"] = schema
    return out


def describe_channel(channel: ChannelDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": channel.name,
        "route": channel.route,
        "auth": channel.auth,
        "tags": list(channel.tags),
        "maxFrameBytes": channel.max_frame_bytes,
    }
    if channel.opening_data_type is not None:
        out["openingData"] = channel.opening_data_type.model_json_schema(by_alias=True)
    if channel.state_adapter is not None:
        out["state"] = channel.state_adapter.json_schema(by_alias=True)
    for key, route in (
        ("onConnect", channel.on_connect),
        ("onConnected", channel.on_connected),
        ("onDisconnect", channel.on_disconnect),
        ("onMessage", channel.on_message),
    ):
        if route is not None:
            out[key] = _route(route)
    out["routing"] = {
        key: {value: _route(route) for value, route in routes.items()}
        for key, routes in channel.routing.items()
    }
    return out


def describe(registry: ChannelRegistry) -> dict[str, Any]:
    return {"channels": [describe_channel(c) for c in registry.channels.values()]}
