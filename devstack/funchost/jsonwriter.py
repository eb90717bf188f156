"""JSON text the way the .NET host writes it (Newtonsoft.Json), so payloads match byte for byte.

`indented` is `JToken.ToString()` (2-space indent, `"key": value`); `compact` is
`JsonConvert.SerializeObject` (no spaces). Newtonsoft keeps non-ASCII characters as they are
and escapes only quotes, backslashes, control characters and U+0085/U+2028/U+2029.
A `Raw` value is written verbatim, as `JsonWriter.WriteRawValue` does for connection states.

Both go through orjson (escaping exactly the quotes, backslashes and control characters, in
the same forms), then escape the three characters it leaves alone; a value orjson refuses (an
integer past 64 bits) goes through the standard library instead.
The payload of every event is built here: a writer in Python cost the host more than the
event's own work, and the standard library's indented output is its pure-Python encoder (90 us
a payload against orjson's 2 us; cProfile of `bench.stack_echo`). Floats in exponent form are
written as orjson writes them (`1.5e-7`; Newtonsoft writes `1.5E-07`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import orjson

# Newtonsoft escapes these; the standard library's encoder leaves them as they are.
_EXTRA = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_EXTRA_TABLE = str.maketrans(_EXTRA)
# Stands for a Raw value while encoding: a string no value of ours can hold by chance.
_RAW_MARK = f"\x00raw-{secrets.token_hex(8)}-"


@dataclass(frozen=True)
class Raw:
    """JSON text inserted as is (a connection state value)."""

    text: str


def _encode(value: object, indent: int | None) -> str:
    raws: list[str] = []

    def default(item: object) -> str:
        if isinstance(item, Raw):
            raws.append(item.text)
            return f"{_RAW_MARK}{len(raws) - 1}"
        raise TypeError(f"cannot write {type(item).__name__} as JSON")

    try:
        # Header names arrive as aiohttp's `istr`, a str subclass orjson takes only so.
        options = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
        options |= orjson.OPT_INDENT_2 if indent else 0
        text = orjson.dumps(value, default=default, option=options).decode()
    except TypeError:
        raws.clear()
        text = json.dumps(
            value,
            ensure_ascii=False,
            indent=indent,
            separators=(",", ": ") if indent else (",", ":"),
            default=default,
        )
    if any(ch in text for ch in _EXTRA):
        text = text.translate(_EXTRA_TABLE)
    for number, raw in enumerate(raws):  # after the escaping: raw text stays as it is
        text = text.replace(json.dumps(f"{_RAW_MARK}{number}", ensure_ascii=False), raw, 1)
    return text


def indented(value: object) -> str:
    """Newtonsoft `Formatting.Indented`."""
    return _encode(value, 2)


def compact(value: object) -> str:
    """Newtonsoft `Formatting.None`."""
    return _encode(value, None)
