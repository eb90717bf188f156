"""What the client generators need, read from an AsyncAPI document (and nothing else)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """A request/reply operation: a routed action, an unrouted message, or an HTTP route."""

    method: str  # the client method's name, camelCase
    key: str | None  # the routing key (None: unrouted)
    action: str | None  # the routing key's value
    input: Schema | None  # None: takes nothing (an empty object is sent)
    output: Schema | None  # None: resolves with nothing
    shape: str  # "object": the reply is the output; "result": under "result"; "none"
    auth: bool
    summary: str


@dataclass(frozen=True)
class Push:
    name: str  # the event name clients subscribe to
    schema: Schema
    consts: dict[str, Any]
    required: list[str]
    on_connect: bool


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    negotiate: str
    routing_keys: list[str]
    opening: Schema | None  # the opening data's schema ($ref), None when there is none
    calls: list[Call]
    pushes: list[Push]


@dataclass(frozen=True)
class HttpCall:
    call: Call
    path: str
    http_method: str


@dataclass(frozen=True)
class ApiSpec:
    title: str
    schemas: dict[str, Schema]
    channels: list[ChannelSpec]
    http: list[HttpCall]

    def resolve(self, schema: Schema) -> Schema:
        ref = schema.get("$ref")
        return self.schemas[ref_name(ref)] if isinstance(ref, str) else schema


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def type_name(name: str) -> str:
    """A schema's key as a class name: letters and digits, capitalised."""
    parts = re.split(r"[^A-Za-z0-9]+", name)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def _deref(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _data(payload: Schema) -> Schema | None:
    """The input/output part of a routed frame's payload (the routing head left out)."""
    if "allOf" in payload:
        payload = payload["allOf"][0]
    return payload or None


def _call(doc: dict[str, Any], op: dict[str, Any]) -> Call:
    request = _deref(doc, op["messages"][0]["$ref"])
    reply = _deref(doc, op["reply"]["messages"][0]["$ref"])
    shape = reply.get("x-shape", "none")
    output = _data(reply["payload"]) if shape != "none" else None
    if shape == "result" and output is not None:
        output = output["properties"]["result"]
    routing = op.get("x-routing") or {}
    return Call(
        method=op["x-method"],
        key=routing.get("key"),
        action=routing.get("value"),
        input=_data(request["payload"]),
        output=output,
        shape=shape,
        auth=bool(op.get("x-auth")),
        summary=op.get("summary", ""),
    )


def read(doc: dict[str, Any]) -> ApiSpec:
    schemas: dict[str, Schema] = doc.get("components", {}).get("schemas", {})
    channels: list[ChannelSpec] = []
    http: list[HttpCall] = []
    operations: dict[str, Any] = doc.get("operations", {})
    for cid, channel in sorted(doc.get("channels", {}).items()):
        ops = [
            op
            for _, op in sorted(operations.items())
            if op["channel"]["$ref"] == f"#/channels/{cid}"
        ]
        sends = [op for op in ops if op["action"] == "send"]
        if "http" in (sends[0].get("bindings", {}) if sends else {}):
            for op in sends:
                method = op["bindings"]["http"]["method"]
                http.append(HttpCall(_call(doc, op), channel["address"], method))
            continue
        query = channel["bindings"]["ws"]["query"]
        opening = query.get("x-opening-data")
        pushes = []
        for op in ops:
            if "x-push" not in op:
                continue
            message = _deref(doc, op["messages"][0]["$ref"])
            ref = message["payload"].get("$ref")
            resolved = schemas[ref_name(ref)] if ref else message["payload"]
            props = resolved.get("properties", {})
            pushes.append(
                Push(
                    name=op["x-push"],
                    schema=message["payload"],
                    consts={k: v["const"] for k, v in sorted(props.items()) if "const" in v},
                    required=sorted(resolved.get("required", [])),
                    on_connect=bool(message.get("x-on-connect")),
                )
            )
        # constant-matched pushes first: a frame with `type` is told by it before by its fields
        pushes.sort(key=lambda p: (not p.consts, p.name))
        keys = {op["x-routing"]["key"] for op in sends if "x-routing" in op}
        channels.append(
            ChannelSpec(
                name=channel["x-channel"]["name"],
                negotiate=channel["address"],
                routing_keys=sorted(keys),
                opening=opening,
                calls=[_call(doc, op) for op in sends],
                pushes=pushes,
            )
        )
    return ApiSpec(doc["info"]["title"], schemas, channels, http)
