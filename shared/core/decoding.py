"""One safe JSON decode for everything a client or the platform sends: frames, HTTP bodies,
trigger payloads.

`json.loads` raises more than `JSONDecodeError`: `ValueError` for an integer of more than
4,300 digits (CPython's int conversion limit), `UnicodeDecodeError` for bytes that are not
UTF-8, `RecursionError` for nesting deeper than the interpreter's stack. Each becomes a
`BadRequestError` that says what was wrong, and nesting is bounded well below the stack, so
nothing later (validation, serialization) can recurse out of it either.
"""

from __future__ import annotations

import json
from typing import Any

from shared.core.errors import BadRequestError

MAX_DEPTH = 64  # no frame, body or payload of this app nests deeper


def decode_json(text: str | bytes, what: str) -> Any:
    """The JSON value of `text`; `BadRequestError` naming `what` and the problem otherwise."""
    try:
        # JSON between systems is UTF-8 (RFC 8259); json.loads would guess UTF-16/32 from bytes
        value = json.loads(text.decode() if isinstance(text, bytes) else text)
    except json.JSONDecodeError as exc:
        raise BadRequestError(
            f"{what} is not valid JSON: {exc.msg} (at character {exc.pos})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise BadRequestError(f"{what} is not UTF-8 text") from exc
    except RecursionError as exc:
        raise BadRequestError(f"{what} nests deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # an integer too long to convert
        raise BadRequestError(f"{what} holds a number too long to read") from exc
    # Deeper than MAX_DEPTH takes more than 2 * MAX_DEPTH brackets: short texts skip the count.
    if len(text) > 2 * MAX_DEPTH and _brackets(text) > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise BadRequestError(f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


def _brackets(text: str | bytes) -> int:
    # Nesting needs a bracket per level: counting them (in C) spares the walk on the hot path.
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
