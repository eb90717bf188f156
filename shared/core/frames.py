"""The client wire protocol's frames (compatible with Pikku's)."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from shared.core.errors import ChannelError


def reply_frame(key: str | None, value: Any, result: Any) -> Any:
    """The frame answering a message, or None when there is nothing to send.

    Routed: the result object plus the routing key first; `None` gives just the key; a
    non-object result goes under "result". Unrouted: the result as is; `None` sends nothing.
    """
    out = to_jsonable_python(result, by_alias=True)
    if key is None:
        return out
    if out is None:
        return {key: value}
    if isinstance(out, dict):
        return {key: value, **{k: v for k, v in out.items() if k != key}}
    return {key: value, "result": out}


def error_frame(key: str | None, value: Any, error: ChannelError) -> dict[str, Any]:
    head = {key: value} if key is not None and isinstance(value, str) else {}
    return {**head, **error.to_body()}
