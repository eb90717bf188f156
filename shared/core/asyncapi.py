"""An AsyncAPI 3.0 document of the wiring: channels, actions, pushed frames, HTTP routes.

Each channel is reached through the negotiate route (its opening data are query parameters,
in the channel's `ws` binding); each routed action is a request/reply operation whose reply
is its result frame or the error frame; each frame a channel pushes (its on_connect result,
the models its functions declare in `Docs.pushes`) is a receive operation; each plain function
served over HTTP is a request/reply operation with an `http` binding. Schemas come from the
pydantic models, once, under `components/schemas`. Generated clients read only this document.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Sequence
from types import UnionType
from typing import Any, Union

from pydantic.json_schema import JsonSchemaMode

from shared.core.functions import ChannelFunction
from shared.core.http import HttpRoute
from shared.core.json_schemas import ID_SCHEMA, REF, SchemaSet, is_object
from shared.core.wiring import CORRELATION_KEY, ChannelDefinition, ChannelRegistry, Route

ASYNCAPI_VERSION = "3.0.0"
SESSION = {"$ref": "#/components/securitySchemes/session"}


def _needs_auth(route: HttpRoute) -> bool:
    """The route's auth, else the function's own, else required: as `call_function` decides."""
    return route.auth if route.auth is not None else route.fn.auth is not False


def _head(key: str, value: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"const": value, "type": "string"}, CORRELATION_KEY: ID_SCHEMA},
        "required": [key],
    }


def _docs(fn: ChannelFunction) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fn.docs is not None:
        if fn.docs.summary:
            out["summary"] = fn.docs.summary
        if fn.docs.description:
            out["description"] = fn.docs.description
        if fn.docs.tags:
            out["tags"] = [{"name": tag} for tag in fn.docs.tags]
        if fn.docs.errors:
            out["x-errors"] = [error.__name__ for error in fn.docs.errors]
    return out


def push_name(schema: dict[str, Any], title: str) -> str:
    """A pushed frame's event name: its `type` constant, else its model name in camelCase."""
    const = schema.get("properties", {}).get("type", {}).get("const")
    return const if isinstance(const, str) else title[:1].lower() + title[1:]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _security(auth: bool) -> dict[str, Any]:
    return {"x-auth": auth, **({"security": [SESSION]} if auth else {})}


def _channel(
    channel: ChannelDefinition, schemas: SchemaSet, negotiate: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The channel object and its operations."""
    ref = {"$ref": f"#/channels/{channel.name}"}
    messages: dict[str, Any] = {
        "error": {"name": "error", "payload": {"$ref": REF.format(model="ErrorFrame")}}
    }
    operations: dict[str, Any] = {}

    def message_ref(key: str) -> dict[str, Any]:
        return {"$ref": f"#/channels/{channel.name}/messages/{key}"}

    def request_reply(op: str, route: Route, key: str | None, value: str | None) -> None:
        fn = route.func
        payload = schemas.of(fn.input_type, "validation") or {}
        output = schemas.of(fn.output_type, "serialization")
        shape = "none" if output is None else "object" if is_object(schemas, output) else "result"
        reply: dict[str, Any] = {} if output is None else output
        if key is not None and value is not None:
            payload = {"allOf": [payload, _head(key, value)]} if payload else _head(key, value)
            wrapped = (
                {"type": "object", "properties": {"result": output}} if shape == "result" else reply
            )
            reply = (
                {"allOf": [wrapped, _head(key, value)]} if output is not None else _head(key, value)
            )
        messages[f"{op}-request"] = {"name": f"{op}-request", "payload": payload}
        messages[f"{op}-reply"] = {"name": f"{op}-reply", "payload": reply, "x-shape": shape}
        routing = {"x-routing": {"key": key, "value": value}} if key is not None else {}
        operations[f"{channel.name}-{op}"] = {
            "action": "send",
            "channel": ref,
            "messages": [message_ref(f"{op}-request")],
            "reply": {
                "channel": ref,
                "messages": [message_ref(f"{op}-reply"), message_ref("error")],
            },
            "x-method": op,
            **routing,
            **_security(route.auth),
            **_docs(fn),
        }

    if channel.on_message is not None:
        request_reply("message", channel.on_message, None, None)
    for key, routes in channel.routing.items():
        for value, route in routes.items():
            request_reply(_safe(value), route, key, value)

    pushed: list[tuple[Any, bool]] = []  # (model, is the connect reply)
    if channel.on_connect is not None:
        pushed.append((channel.on_connect.func.output_type, True))
    if channel.on_connected is not None:
        pushed.append((channel.on_connected.func.output_type, True))
    for route in _routes(channel):
        pushed.extend((model, False) for model in _sent(route))
    for model, on_connect in pushed:
        schema = schemas.of(model, "serialization")
        if schema is None:
            continue
        name = push_name(schemas.resolve(schema), schemas.resolve(schema).get("title", "frame"))
        key = f"push-{_safe(name)}"
        if key in messages:
            continue
        messages[key] = {
            "name": name,
            "payload": schema,
            **({"x-on-connect": True} if on_connect else {}),
        }
        operations[f"{channel.name}-{key}"] = {
            "action": "receive",
            "channel": ref,
            "messages": [message_ref(key)],
            "x-push": name,
        }
    operations[f"{channel.name}-error"] = {
        "action": "receive",
        "channel": ref,
        "messages": [message_ref("error")],
        "summary": "An error not answering any request (on_connect failed, say)",
    }

    query: dict[str, Any] = {
        "type": "object",
        "properties": {"channel": {"const": channel.name, "type": "string"}},
        "required": ["channel"],
    }
    if channel.opening_data_type is not None:
        ref = schemas.of(channel.opening_data_type, "validation") or {}
        opening = schemas.resolve(ref)
        query["properties"].update(opening.get("properties", {}))
        query["required"] += opening.get("required", [])
        query["x-opening-data"] = ref  # the model generated clients take
    obj = {
        "address": negotiate,
        "title": channel.name,
        "description": f"GET {negotiate}?channel={channel.name}&<opening data> answers "
        "{url, baseUrl, accessToken}; open a WebSocket on `url`. Frames are JSON text.",
        "messages": messages,
        "bindings": {"ws": {"method": "GET", "query": query, "bindingVersion": "0.1.0"}},
        "tags": [{"name": tag} for tag in channel.tags],
        "x-channel": {
            "name": channel.name,
            "route": channel.route,
            "auth": channel.auth,
            "maxFrameBytes": channel.max_frame_bytes,
        },
    }
    return obj, operations


def _sent(route: Route) -> list[Any]:
    """The models of the frames a function pushes: those its docs declare (by topic, say),
    and the members of a union output (its `channel.send` frames are checked against it)."""
    fn = route.func
    declared = list(fn.docs.pushes) if fn.docs else []
    if typing.get_origin(fn.output_type) in (Union, UnionType):
        declared += [m for m in typing.get_args(fn.output_type) if m is not type(None)]
    return declared


def _routes(channel: ChannelDefinition) -> list[Route]:
    found = [channel.on_connect, channel.on_connected, channel.on_message, channel.on_disconnect]
    return [r for r in found if r is not None] + [
        r for routes in channel.routing.values() for r in routes.values()
    ]


def _http(
    route: HttpRoute, schemas: SchemaSet, prefix: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    fn = route.fn
    cid = f"http-{_safe(route.route)}"
    ref = {"$ref": f"#/channels/{cid}"}
    output = schemas.of(fn.output_type, "serialization")
    channel = {
        "address": f"{prefix}/{route.route}",
        "title": f"{prefix}/{route.route}",
        "messages": {
            "request": {
                "name": "request",
                "payload": schemas.of(fn.input_type, "validation") or {},
            },
            "reply": {
                "name": "reply",
                "payload": output or {},
                "x-shape": "object" if output else "none",
            },
            "error": {"name": "error", "payload": {"$ref": REF.format(model="ErrorFrame")}},
        },
    }
    name = fn.name.split("_")[0] + "".join(p.title() for p in fn.name.split("_")[1:])
    operation = {
        "action": "send",
        "channel": ref,
        "messages": [{"$ref": f"#/channels/{cid}/messages/request"}],
        "reply": {
            "channel": ref,
            "messages": [
                {"$ref": f"#/channels/{cid}/messages/reply"},
                {"$ref": f"#/channels/{cid}/messages/error"},
            ],
        },
        "bindings": {"http": {"method": route.method, "bindingVersion": "0.3.0"}},
        "x-method": name,
        **_security(_needs_auth(route)),
        **_docs(fn),
    }
    return cid, channel, {cid: operation}


def asyncapi_document(
    registry: ChannelRegistry,
    http_routes: Sequence[HttpRoute] = (),
    *,
    title: str,
    version: str,
    description: str = "",
    prefix: str = "/api",
    negotiate_route: str = "negotiate",
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of `registry`'s channels and of `http_routes`."""
    types: list[tuple[Any, JsonSchemaMode]] = []
    for channel in registry.channels.values():
        if channel.opening_data_type is not None:
            types.append((channel.opening_data_type, "validation"))
        for route in _routes(channel):
            types += [
                (route.func.input_type, "validation"),
                (route.func.output_type, "serialization"),
            ]
            types += [(m, "serialization") for m in _sent(route)]
    for http in http_routes:
        types += [(http.fn.input_type, "validation"), (http.fn.output_type, "serialization")]
    schemas = SchemaSet(types)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in registry.channels.values():
        channels[channel.name], ops = _channel(channel, schemas, f"{prefix}/{negotiate_route}")
        operations.update(ops)
    for http in http_routes:
        cid, obj, ops = _http(http, schemas, prefix)
        channels[cid] = obj
        operations.update(ops)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "session": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A session: a Bearer token on negotiate (or on the HTTP "
                    "route), or an authenticating action on the open connection",
                }
            },
        },
    }


def document_json(document: dict[str, Any]) -> str:
    """The document as written and served: sorted keys, two-space indent, final newline."""
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


__all__ = ["asyncapi_document", "document_json", "push_name"]
