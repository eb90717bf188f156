"""The client wire protocol's frames (compatible with Pikku's).

A routed frame may carry a correlation `id` beside its routing key (a string or an integer);
the reply or error frame answering it echoes that `id`, so a client can tell apart two
concurrent calls of one action. Frames without an `id` get replies without one.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from shared.core.errors import ChannelError

CORRELATION_KEY = "id"


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
