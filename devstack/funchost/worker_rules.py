"""What the Python worker checks and converts for bindings `azure-functions` has no converter for.

Web PubSub's trigger and bindings are such "generic" bindings. Read from the worker's source
(azure-functions-python-worker: `bindings/generic.py` GenericBinding, `bindings/datumdef.py`
datum_as_proto, `functions.py` Registry.validate_function_params):
- a parameter of a generic binding may be annotated `str`, `bytes` or nothing; any other
  annotation and the function does not load (FunctionLoadError, message kept word for word);
- a return value is encoded by GenericBinding.encode: str, bytes, None, int, float as they
  are; a dict or list with `json.dumps` (what it cannot encode fails the invocation); any other
  type raises NotImplementedError (the invocation fails).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterable
from typing import Any

import azure.functions as func

# protos.BindingInfo.DataType: the worker's message prints the number.
_DATA_TYPE_NUMBERS = {"undefined": 0, "string": 1, "binary": 2, "stream": 3}


class FunctionLoadError(RuntimeError):
    """The worker refuses to load a function (its message, as the worker words it)."""

    def __init__(self, function_name: str, msg: str) -> None:
        super().__init__(f"cannot load the {function_name} function: {msg}")


def is_generic(binding_type: str) -> bool:
    """True when `azure-functions` registers no converter for the binding (Web PubSub's)."""
    registry: Any = func.get_binding_registry()  # type: ignore[no-untyped-call]
    return registry.get(binding_type) is None


def check_annotations(
    function_name: str, user_function: Callable[..., Any], bindings: Iterable[tuple[str, str, str]]
) -> None:
    """Raise FunctionLoadError for an input of a generic binding annotated other than str/bytes.

    `bindings` holds (parameter name, binding type, dataType or "").
    """
    hints = typing.get_type_hints(user_function)
    for name, binding_type, data_type in bindings:
        if name not in hints:
            continue
        annotation = hints[name]
        if not is_generic(binding_type):
            _check_converter(function_name, name, binding_type, annotation)
            continue
        if typing.get_origin(annotation) is not None or not isinstance(annotation, type):
            raise FunctionLoadError(
                function_name, f"binding {name} has invalid non-type annotation {annotation!r}"
            )
        if issubclass(annotation, str | bytes):
            continue
        number = _DATA_TYPE_NUMBERS.get(data_type.lower(), 0)
        if number:
            raise FunctionLoadError(
                function_name,
                f'{name!r} binding type "{binding_type}" and dataType "{number}" in '
                f"function.json do not match the corresponding function parameter's Python "
                f'type annotation "{annotation.__name__}"',
            )
        raise FunctionLoadError(
            function_name,
            f'type of {name} binding in function.json "{binding_type}" does not match its '
            f'Python annotation "{annotation.__name__}"',
        )


def _check_converter(function_name: str, name: str, binding_type: str, annotation: Any) -> None:
    """A binding with a library converter (timerTrigger: func.TimerRequest) checks its type."""
    registry: Any = func.get_binding_registry()  # type: ignore[no-untyped-call]
    converter = registry.get(binding_type)
    if not isinstance(annotation, type) or converter.check_input_type_annotation(annotation):
        return
    raise FunctionLoadError(
        function_name,
        f'type of {name} binding in function.json "{binding_type}" does not match its '
        f'Python annotation "{annotation.__name__}"',
    )


def encode_return(value: Any) -> Any:
    """The return value as the extension receives it; raises as the worker's encode does."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, dict | list):
        # TypedData has no dict: the worker sends json.dumps(value), which the extension parses.
        return json.loads(json.dumps(value))
    raise NotImplementedError(
        f"the worker cannot send a {type(value).__name__} returned by a generic binding "
        "(GenericBinding.encode takes str, bytes, None, dict, list, int, float)"
    )
