"""JSON Schemas of the wiring's types, each model defined once under `components/schemas`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from shared.core.wiring import CORRELATION_KEY

REF = "#/components/schemas/{model}"

ID_SCHEMA: dict[str, Any] = {
    "type": ["string", "integer"],
    "description": "Correlation id: optional; the reply and error frames echo it",
}


ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorFrame",
    "type": "object",
    "description": "An action failed (or the connection could not be served). `action` and "
    "`id` name the request it answers, when it could be routed.",
    "properties": {
        "action": {"type": "string"},
        CORRELATION_KEY: ID_SCHEMA,
        "error": {"type": "string", "description": "What went wrong, for a person to read"},
        "errorName": {"type": "string", "description": "The error's class, e.g. UnauthorizedError"},
        "status": {"type": "integer", "description": "An HTTP-style status"},
    },
    "required": ["error", "errorName", "status"],
}


class SchemaSet:
    """Every type's JSON Schema, computed in one pass so shared models are defined once."""

    def __init__(self, types: Iterable[tuple[Any, JsonSchemaMode]]) -> None:
        keyed = {(id(t), mode): (t, mode) for t, mode in types if t not in (None, type(None))}
        inputs = [(key, mode, TypeAdapter(t)) for key, (t, mode) in keyed.items()]
        found, defs = TypeAdapter.json_schemas(inputs, ref_template=REF, by_alias=True)
        self._found = {key: schema for (key, _), schema in found.items()}
        self.components: dict[str, Any] = {**defs.get("$defs", {}), "ErrorFrame": ERROR_SCHEMA}

    def of(self, t: Any, mode: JsonSchemaMode) -> dict[str, Any] | None:
        if t in (None, type(None)):
            return None
        return dict(self._found[(id(t), mode)])

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        return self.components[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else schema


def is_object(schemas: SchemaSet, schema: dict[str, Any] | None) -> bool:
    """An object, or a union of objects (a reply whose fields sit beside the routing key)."""
    if schema is None:
        return False
    if "anyOf" in schema:
        return all(is_object(schemas, member) for member in schema["anyOf"])
    return schemas.resolve(schema).get("type") == "object"
