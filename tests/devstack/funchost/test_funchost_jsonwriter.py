"""The host writes JSON as Newtonsoft does: checked against a plain writer of those rules.

The writer below states Newtonsoft's rules one character at a time (2-space indent, `"key":
value`, non-ASCII kept, only quotes, backslashes, control characters and U+0085/U+2028/U+2029
escaped, Raw values verbatim); the host's own writer takes a faster road and must agree with
it on any value.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import istr

from devstack.funchost.jsonwriter import Raw, compact, indented

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif ch < " " or ch in "\u0085\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join([*out, '"'])


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Raw):
        return value.text
    return quote(value)


def reference_indented(value: Any, level: int = 0) -> str:
    pad, end = "  " * (level + 1), "  " * level
    if isinstance(value, dict) and value:
        items = [f"{pad}{quote(k)}: {reference_indented(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value:
        items = [pad + reference_indented(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return scalar(value)


def reference_compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{quote(k)}:{reference_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(reference_compact(v) for v in value) + "]"
    return scalar(value)


TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["\u0085", "a\u2028b", "\u2029", "\x00\x1f\x7f", 'q"\\', "é漢😀"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f))
    | st.integers(min_value=2**64, max_value=2**80)  # past orjson's range: the fallback
    | TEXT
    | st.builds(Raw, st.sampled_from(['{"a":1}', "[1, 2]", '"text"', "7"]))
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(VALUES)
def test_the_host_writes_json_as_newtonsoft_does(value: Any) -> None:
    assert indented(value) == reference_indented(value)
    assert compact(value) == reference_compact(value)


def test_keys_that_are_not_plain_strings_are_written_as_their_text() -> None:
    assert compact({1: Raw("[1]"), istr("Content-Type"): Raw('"x"')}) == (
        '{"1":[1],"Content-Type":"x"}'
    )
    assert compact({"big": 2**70, "raw": Raw("{}")}) == f'{{"big":{2**70},"raw":{{}}}}'


def test_a_connection_context_is_written_as_the_extension_writes_it() -> None:
    value = {"states": {"room": Raw('{"name":"a"}')}, "headers": {"x": ["é\u2028"]}, "n": []}
    assert indented(value) == (
        '{\n  "states": {\n    "room": {"name":"a"}\n  },\n'
        '  "headers": {\n    "x": [\n      "é\\u2028"\n    ]\n  },\n  "n": []\n}'
    )
