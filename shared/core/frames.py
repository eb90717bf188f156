"""The client wire protocol's frames (compatible with Pikku's).

A routed frame may carry a correlation `id` beside its routing key (a string or an integer);
the reply or error frame answering it echoes that `id`, so a client can tell apart two
concurrent calls of one action. Frames without an `id` get replies without one.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python

from shared.core.decoding import decode_json
from shared.core.errors import (
    BadRequestError,
    ChannelError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from shared.core.events import DataType, MessageEvent
from shared.core.wiring import CORRELATION_KEY, ChannelDefinition, Route


def correlation_id(parsed: Any) -> str | int | None:
    """The frame's correlation id, or None when it has none (or one of another JSON type)."""
    if not isinstance(parsed, dict):
        return None
    value = parsed.get(CORRELATION_KEY)
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _head(key: str | None, value: Any, correlation: str | int | None) -> dict[str, Any]:
    head: dict[str, Any] = {key: value} if key is not None else {}
    if correlation is not None:
        head[CORRELATION_KEY] = correlation
    return head


def reply_frame(
    key: str | None, value: Any, result: Any, correlation: str | int | None = None
) -> Any:
    """The frame answering a message, or None when there is nothing to send.

    Routed: the result object plus the routing key (and the correlation id) first; `None`
    gives just those; a non-object result goes under "result". Unrouted: the result as is;
    `None` sends nothing.
    """
    out = to_jsonable_python(result, by_alias=True)
    if key is None:
        return out
    head = _head(key, value, correlation)
    if out is None:
        return head
    if isinstance(out, dict):
        return {**head, **{k: v for k, v in out.items() if k not in head}}
    return {**head, "result": out}


def error_frame(
    key: str | None, value: Any, error: ChannelError, correlation: str | int | None = None
) -> dict[str, Any]:
    head = _head(key, value, correlation) if key is not None and isinstance(value, str) else {}
    return {**head, **error.to_body()}


# -- frames from the client --------------------------------------------------------------------

BINARY_REFUSED = (
    "binary frames are not supported: the realtime service hands them to the app as text "
    "decoded from bytes, which loses data; send JSON text (bytes as base64 in a field)"
)


def decode(channel: ChannelDefinition, event: MessageEvent) -> Any:
    """The frame as JSON; its text as is when it is not JSON and on_message takes `str`."""
    if event.data_type is DataType.BINARY or isinstance(event.data, bytes):
        # The Web PubSub extension gives a non-.NET worker `BinaryData.ToString()` of the bytes
        # (DESIGN: "Binary user events"): lossy, so refuse rather than hand over wrong bytes.
        raise UnsupportedMediaTypeError(BINARY_REFUSED)
    data = event.data
    # A character is 1 to 4 bytes: encode only when the length alone cannot decide.
    if len(data) > channel.max_frame_bytes or (
        len(data) * 4 > channel.max_frame_bytes and len(data.encode()) > channel.max_frame_bytes
    ):
        raise PayloadTooLargeError(f"frame is larger than {channel.max_frame_bytes} bytes")
    try:
        parsed = decode_json(data, "frame")
    except BadRequestError:
        if channel.raw_text:
            return RawText(data)
        raise
    if channel.raw_text and not _routed(channel, parsed):
        return RawText(data)  # not routed: on_message gets the text exactly as sent
    return parsed


def _routed(channel: ChannelDefinition, parsed: Any) -> bool:
    return isinstance(parsed, dict) and any(
        isinstance(parsed.get(key), str) and parsed[key] in routes
        for key, routes in channel.routing.items()
    )


class RawText(str):
    """A text frame that is not JSON (only kept for an on_message that takes `str`)."""


def routing_key(channel: ChannelDefinition, parsed: Any) -> tuple[str | None, Any]:
    """The routing key a frame carries and its value; (None, None) when it carries none."""
    if isinstance(parsed, dict):
        for key in channel.routing:
            if key in parsed:
                return key, parsed[key]
    return None, None


def select(
    channel: ChannelDefinition, parsed: Any, key: str | None, value: Any
) -> tuple[Route, Any, str | None, Any]:
    """The route a frame goes to, its input, and the routing key and value it was routed by.

    A known routing value selects its action (the key and `id` are stripped from the input);
    anything else goes to on_message (as text when it takes `str`) and only without one is an error.
    """
    if key is not None:
        route = channel.routing[key].get(value) if isinstance(value, str) else None
        if route is not None:
            # The key and the correlation id address the frame; the rest is the input (with the
            # id, when the input declares one).
            drop = (key,) if route.takes_id else (key, CORRELATION_KEY)
            return route, {k: v for k, v in parsed.items() if k not in drop}, key, value
        if channel.on_message is None:
            known = ", ".join(channel.routing[key])
            raise NotFoundError(f"unknown {key} {json.dumps(value)}; this channel has: {known}")
    if channel.on_message is not None:
        data = str(parsed) if isinstance(parsed, RawText) else parsed
        return channel.on_message, data, None, None
    keys = " or ".join(f"'{k}'" for k in channel.routing)
    raise BadRequestError(f"frame must be a JSON object with {keys}")
