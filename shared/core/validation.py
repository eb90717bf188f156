"""Pydantic validation turned into errors that name the field, and opening data handling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from shared.core.errors import ValidationError
from shared.core.session import SESSION_KEY

# Query keys that belong to the service or the negotiate step, never to opening data.
_RESERVED_KEYS = {"channel", "access_token", SESSION_KEY}
_RESERVED_PREFIXES = ("awps_", "webpubsub_")


def describe(exc: pydantic.ValidationError) -> str:
    """`room: Field required; count: Input should be a valid integer`."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(value)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def validation_error(what: str, exc: pydantic.ValidationError) -> ValidationError:
    return ValidationError(f"invalid {what}: {describe(exc)}")


def opening_data_from_query(query: dict[str, list[str]]) -> dict[str, Any]:
    """The connection URL's query, minus reserved keys; a key given once maps to one string."""
    return {
        key: values[0] if len(values) == 1 else list(values)
        for key, values in query.items()
        if key not in _RESERVED_KEYS and not key.lower().startswith(_RESERVED_PREFIXES)
    }


ModelT = TypeVar("ModelT", bound=BaseModel)
_validators: dict[type[BaseModel], Callable[[Any], Any]] = {}


def validate_model(model: type[ModelT], data: Any) -> ModelT:
    """`model.model_validate(data)` through the model's core validator, kept once built (a
    `defer_build` model builds it on first use): the wrapper costs more than a small model."""
    validate = _validators.get(model)
    if validate is None:
        valid = model.model_validate(data)
        _validators[model] = model.__pydantic_validator__.validate_python
        return valid
    return validate(data)  # type: ignore[no-any-return]


def validate_opening_data(model: type[BaseModel] | None, data: dict[str, Any]) -> Any:
    if model is None:
        return data
    try:
        return validate_model(model, data)
    except pydantic.ValidationError as exc:
        raise validation_error("opening data", exc) from exc


def dump_opening_data(opening: Any) -> dict[str, Any]:
    if isinstance(opening, BaseModel):
        return opening.model_dump(mode="json", by_alias=True)
    return dict(opening)
