"""JSON text the way the .NET host writes it (Newtonsoft.Json), so payloads match byte for byte.

`indented` is `JToken.ToString()` (2-space indent, `"key": value`); `compact` is
`JsonConvert.SerializeObject` (no spaces). Newtonsoft keeps non-ASCII characters as they are
and escapes only quotes, backslashes, control characters and U+0085/U+2028/U+2029.
A `Raw` value is written verbatim, as `JsonWriter.WriteRawValue` does for connection states.
"""

from __future__ import annotations

from dataclasses import dataclass

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_SHORT_ESCAPES["\t"] = "\\t"


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is (a connection state value)."""

    text: str


def quote(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch < " " or ch in "\u0085\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Raw):
        return value.text
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def indented(value: object, level: int = 0) -> str:
    """Newtonsoft `Formatting.Indented`."""
    pad = "  " * (level + 1)
    end = "  " * level
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{quote(str(k))}: {indented(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [pad + indented(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return _scalar(value)


def compact(value: object) -> str:
    """Newtonsoft `Formatting.None`."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{quote(str(k))}:{compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(compact(v) for v in value) + "]"
    return _scalar(value)
