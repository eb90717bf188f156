"""Channel functions: plain async functions with typed input, output and opening data.

Types come from the annotations, once, at decoration time:

    @channel_func(auth=False, docs=Docs(summary="Authenticate", tags=["auth"]))
    async def authenticate(services: ChannelServices[Room], data: Token) -> Authenticated: ...

- `data`'s annotation is the input type (validated with pydantic on every call);
- the return annotation is the output type (used for docs and JSON Schema);
- `ChannelServices[Room]` on the first parameter declares the channel's opening data type
  (`ChannelServices[Room, Counter]` its state type too);
- a third parameter (conventionally `session`) receives the user session or None;
- `permissions=[check, ...]`: each `check(services, data, session)` must pass, else 403.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, overload

import pydantic
from pydantic import BaseModel, TypeAdapter

from shared.core.errors import ChannelError, WiringError
from shared.core.ratelimit import RateLimit
from shared.core.services import ChannelServices, Interaction, Middleware, Permission, Services
from shared.core.session import Session
from shared.core.validation import validation_error


class FunctionKind(Enum):
    MESSAGE = "message"  # input -> output, wired as on_message or an action
    CONNECT = "connect"  # no input; its output is sent to the client on connect
    DISCONNECT = "disconnect"  # receives the opening data; output ignored
    PLAIN = "plain"  # transport-agnostic: wire it to a channel action and to HTTP


@dataclass(frozen=True)
class Docs:
    """What a function's documentation and generated clients say about it.

    `pushes`: the models of the frames it sends besides its reply (by `channel.send` or by
    publishing to a topic), so clients get types for them.
    """

    summary: str | None = None
    description: str | None = None
    tags: Sequence[str] = ()
    errors: Sequence[type[ChannelError]] = ()
    pushes: Sequence[type[BaseModel]] = ()


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, eq=False)
class ChannelFunction:
    """A decorated function plus what the runtime needs to call it, computed once."""

    handler: Handler
    kind: FunctionKind
    name: str
    input_type: Any
    output_type: Any
    opening_data_type: type[BaseModel] | None
    services_type: type[Services] | None  # a Services subclass declaring app services
    wants_session: bool
    auth: bool | None
    docs: Docs | None
    middleware: tuple[Middleware, ...]
    location: str
    takes_input: bool  # a message or plain function: `data` is validated against input_type
    permissions: tuple[Permission, ...] = ()
    state_type: Any = None  # from `ChannelServices[Room, State]`
    rate_limit: RateLimit | None = None  # per connection in a channel, per user over HTTP

    @functools.cached_property
    def input_adapter(self) -> TypeAdapter[Any] | None:
        """Built on first use, not at import: a cold start pays only for what its event uses."""
        return TypeAdapter(self.input_type) if self.takes_input else None

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the undecorated function: decorated functions stay plain functions."""
        return await self.handler(*args, **kwargs)

    @functools.cached_property
    def _validate(self) -> Callable[[Any], Any] | None:
        # The core validator itself: TypeAdapter.validate_python's wrapper costs a call per event.
        return self.input_adapter.validator.validate_python if self.input_adapter else None

    def validate_input(self, data: Any) -> Any:
        """The input as the annotation types it; `ValidationError` naming the fields if not."""
        validate = self._validate
        if validate is None:
            return data
        try:
            return validate(data)
        except pydantic.ValidationError as exc:
            raise validation_error("input", exc) from exc

    def invoke(self, services: Services, data: Any, session: Session | None) -> Awaitable[Any]:
        """The handler's awaitable (not a coroutine of its own: one frame less per event)."""
        if self.kind is FunctionKind.CONNECT:
            return self.handler(services, session) if self.wants_session else self.handler(services)
        if self.wants_session:
            return self.handler(services, data, session)
        return self.handler(services, data)

    @functools.cached_property
    def output_adapter(self) -> TypeAdapter[Any] | None:
        """What `channel.send` frames are checked against; None when no output is declared."""
        if self.output_type in (None, type(None), Any):
            return None
        return TypeAdapter(self.output_type)

    def input_schema(self) -> dict[str, Any] | None:
        if self.input_adapter is None:
            return None
        return self.input_adapter.json_schema(by_alias=True)

    def output_schema(self) -> dict[str, Any] | None:
        if self.output_type in (None, type(None), Any):
            return None
        return TypeAdapter(self.output_type).json_schema(by_alias=True, mode="serialization")


def _location(fn: Callable[..., Any]) -> str:
    # From the code object: no source file is read (inspect.getsourcelines would, at import).
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__module__", "?")
    return f"{code.co_filename}:{code.co_firstlineno}"


def _services_type(hint: Any) -> type[Services] | None:
    """The `Services` class a function's first parameter asks for (None: the default one)."""
    cls = typing.get_origin(hint) or hint
    return cls if isinstance(cls, type) and issubclass(cls, Services) else None


def _channel_types(hint: Any) -> tuple[type[BaseModel] | None, Any]:
    """`(Room, State)` from `ChannelServices[Room, State]` (or a subclass of it); None if not."""
    candidates = [hint, *getattr(hint, "__orig_bases__", ())]
    for candidate in candidates:
        origin = typing.get_origin(candidate)
        if origin is not None and isinstance(origin, type) and issubclass(origin, ChannelServices):
            args = typing.get_args(candidate)
            opening = args[0] if args else None
            state = args[1] if len(args) > 1 and args[1] is not Any else None
            if not (isinstance(opening, type) and issubclass(opening, BaseModel)):
                opening = None
            return opening, state
    return None, None


def _build(
    fn: Handler,
    kind: FunctionKind,
    auth: bool | None,
    docs: Docs | None,
    middleware: Sequence[Middleware],
    permissions: Sequence[Permission] = (),
    rate_limit: str | None = None,
) -> ChannelFunction:
    where = _location(fn)
    if not inspect.iscoroutinefunction(fn):
        raise WiringError(f"{fn.__qualname__} ({where}) must be an async function")
    params = list(inspect.signature(fn).parameters.values())
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:
        raise WiringError(
            f"cannot resolve annotations of {fn.__qualname__} ({where}): {exc}"
        ) from exc

    first = hints.get(params[0].name) if params else None
    opening, state = _channel_types(first)
    expected = {
        FunctionKind.CONNECT: (1, 2),
        FunctionKind.DISCONNECT: (2, 2),
        FunctionKind.MESSAGE: (2, 3),
        FunctionKind.PLAIN: (2, 3),
    }[kind]
    if not expected[0] <= len(params) <= expected[1]:
        shapes = {
            FunctionKind.CONNECT: "(services[, session])",
            FunctionKind.DISCONNECT: "(services, opening_data)",
            FunctionKind.MESSAGE: "(services, data[, session])",
            FunctionKind.PLAIN: "(services, data[, session])",
        }
        raise WiringError(
            f"{fn.__qualname__} ({where}) takes {len(params)} parameters; "
            f"a {kind.value} function takes {shapes[kind]}"
        )

    input_type: Any = None
    takes_input = kind in (FunctionKind.MESSAGE, FunctionKind.PLAIN)
    if takes_input:
        input_type = hints.get(params[1].name, Any)
    elif kind is FunctionKind.DISCONNECT:
        data_hint = hints.get(params[1].name)
        if isinstance(data_hint, type) and issubclass(data_hint, BaseModel):
            opening = opening or data_hint
    wants_session = len(params) == expected[1] and kind is not FunctionKind.DISCONNECT
    return ChannelFunction(
        handler=fn,
        kind=kind,
        name=fn.__name__,
        input_type=input_type,
        output_type=hints.get("return", Any),
        opening_data_type=opening,
        services_type=_services_type(first),
        wants_session=wants_session,
        auth=auth,
        docs=docs,
        middleware=tuple(middleware),
        location=where,
        takes_input=takes_input,
        permissions=tuple(permissions),
        state_type=state,
        rate_limit=RateLimit.parse(rate_limit),
    )


class _Decorator:
    """Use bare (`@channel_func`) or with options (`@channel_func(auth=False, docs=...)`)."""

    def __init__(self, kind: FunctionKind) -> None:
        self.kind = kind

    @overload
    def __call__(self, fn: Handler, /) -> ChannelFunction: ...
    @overload
    def __call__(
        self,
        fn: None = None,
        /,
        *,
        auth: bool | None = None,
        docs: Docs | None = None,
        middleware: Sequence[Middleware] = (),
        permissions: Sequence[Permission] = (),
        rate_limit: str | None = None,
    ) -> Callable[[Handler], ChannelFunction]: ...
    def __call__(
        self,
        fn: Handler | None = None,
        /,
        *,
        auth: bool | None = None,
        docs: Docs | None = None,
        middleware: Sequence[Middleware] = (),
        permissions: Sequence[Permission] = (),
        rate_limit: str | None = None,
    ) -> ChannelFunction | Callable[[Handler], ChannelFunction]:
        """`rate_limit="20/10s"`: calls per connection (per user over HTTP)."""
        if fn is not None:
            return _build(fn, self.kind, auth, docs, middleware)
        return lambda f: _build(f, self.kind, auth, docs, middleware, permissions, rate_limit)


channel_func = _Decorator(FunctionKind.MESSAGE)
"""A channel message function: `(services, data[, session]) -> output`."""
channel_connection_func = _Decorator(FunctionKind.CONNECT)
"""Runs when a connection opens: `(services[, session]) -> output sent to the client`."""
channel_disconnection_func = _Decorator(FunctionKind.DISCONNECT)
"""Runs when a connection closes: `(services, opening_data) -> None`."""
func = _Decorator(FunctionKind.PLAIN)
"""A transport-agnostic function: wire it to a channel action and to an HTTP route."""

__all__ = [
    "ChannelFunction",
    "Docs",
    "FunctionKind",
    "Interaction",
    "channel_connection_func",
    "channel_disconnection_func",
    "channel_func",
    "func",
]
