"""`wire_channel`: put functions together into a named channel, checked at import."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, TypeAdapter

from shared.core.errors import WiringError
from shared.core.functions import ChannelFunction, FunctionKind
from shared.core.ratelimit import RateLimit
from shared.core.routes import RoutePattern
from shared.core.rules import AppRules
from shared.core.services import FrameMiddleware, Middleware

DEFAULT_MAX_FRAME_BYTES = 256 * 1024
CORRELATION_KEY = "id"  # a routed frame's correlation id, echoed by its reply (frames.py)


@dataclass(frozen=True)
class Action:
    """One routed handler: a function plus the wiring entry's own options."""

    func: ChannelFunction
    auth: bool | None = None
    middleware: Sequence[Middleware] = ()
    rate_limit: str | None = None  # "20/10s": frames per connection to this action


@dataclass(frozen=True)
class Route:
    """A resolved handler with everything computed once, at wiring time."""

    func: ChannelFunction
    auth: bool  # entry's auth, else the function's, else the channel's
    middleware: tuple[Middleware, ...]  # channel -> wiring entry -> function
    tags: tuple[str, ...] = ()  # the channel's tags, then the function's (for app rules)
    rate_limit: RateLimit | None = None  # entry's, else the function's
    takes_id: bool = False  # routed: its input declares `id`, so the frame's id reaches it


@dataclass(frozen=True)
class ChannelDefinition:
    """A wired channel: its routes and rules, checked and resolved at import."""

    name: str
    route: str
    auth: bool
    on_connect: Route | None
    on_disconnect: Route | None
    on_message: Route | None
    routing: Mapping[str, Mapping[str, Route]]  # routing key -> value -> route
    opening_data_type: type[BaseModel] | None
    tags: tuple[str, ...]
    max_frame_bytes: int
    location: str = field(compare=False)
    on_connected: Route | None = None
    state_type: Any = None  # the model of `channel.get_state()`; None: any JSON
    frame_middleware: tuple[FrameMiddleware, ...] = ()
    pattern: RoutePattern = field(default_factory=lambda: RoutePattern("/"), compare=False)
    rate_limit: RateLimit | None = None  # every frame of a connection, whatever the action

    @functools.cached_property
    def state_adapter(self) -> TypeAdapter[Any] | None:
        """Validates `channel.set_state` and types `get_state` (made once per channel)."""
        return TypeAdapter(self.state_type) if self.state_type is not None else None

    @functools.cached_property
    def raw_text(self) -> bool:
        """on_message takes `str`: frames that are not routed reach it as the text sent."""
        return self.on_message is not None and self.on_message.func.input_type is str


class ChannelRegistry:
    def __init__(self) -> None:
        self.channels: dict[str, ChannelDefinition] = {}
        self.rules = AppRules()

    def add(self, channel: ChannelDefinition) -> None:
        existing = self.channels.get(channel.name)
        if existing is not None:
            raise WiringError(
                f"channel '{channel.name}' is wired twice: at {existing.location} "
                f"and at {channel.location}"
            )
        for other in self.channels.values():
            if other.pattern.shape == channel.pattern.shape:
                raise WiringError(
                    f"route '{channel.route}' of channel '{channel.name}' ({channel.location}) "
                    f"is already taken by channel '{other.name}' ({other.location})"
                )
        self.channels[channel.name] = channel

    def get(self, name: str) -> ChannelDefinition | None:
        return self.channels.get(name)

    def match(self, path: str) -> tuple[ChannelDefinition, dict[str, str]] | None:
        """The channel whose route matches `path`, and the route's parameters."""
        for channel in self.channels.values():
            params = channel.pattern.match(path)
            if params is not None:
                return channel, params
        return None


default_registry = ChannelRegistry()
"""The process-wide registry that `wire_channel` adds to unless given another."""


def _caller() -> str:
    # The frame alone: inspect.stack() would read the source of every frame (costly at import).
    frame = sys._getframe(2)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _as_action(entry: Any, where: str) -> Action:
    if isinstance(entry, Action):
        return entry
    if isinstance(entry, ChannelFunction):
        return Action(entry)
    if isinstance(entry, Mapping):
        unknown = set(entry) - {"func", "auth", "middleware", "rate_limit"}
        if unknown or "func" not in entry:
            raise WiringError(
                f"{where}: a wiring entry takes 'func' and optionally 'auth', 'middleware', "
                f"'rate_limit'; got {sorted(entry)}"
            )
        if not isinstance(entry["func"], ChannelFunction):
            raise WiringError(f"{where}: {_describe(entry['func'])} is not a channel function")
        return Action(
            entry["func"],
            entry.get("auth"),
            tuple(entry.get("middleware", ())),
            entry.get("rate_limit"),
        )
    raise WiringError(f"{where}: {_describe(entry)} is not a channel function")


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or repr(obj)
    hint = " (decorate it with @channel_func or @func)" if callable(obj) else ""
    return f"{name}{hint}"


_MESSAGE_KINDS = {FunctionKind.MESSAGE, FunctionKind.PLAIN}


def _route(
    entry: Any,
    where: str,
    kinds: set[FunctionKind],
    channel_auth: bool,
    channel_mw: Sequence[Middleware],
    channel_tags: Sequence[str],
) -> Route:
    """A wiring entry checked and resolved: its function, its effective auth, its middleware."""
    action = _as_action(entry, where)
    fn = action.func
    if fn.kind not in kinds:
        wanted = " or ".join(sorted(k.value for k in kinds))
        raise WiringError(
            f"{where}: {fn.name} ({fn.location}) is a {fn.kind.value} function, not {wanted}"
        )
    auth = (
        action.auth if action.auth is not None else fn.auth if fn.auth is not None else channel_auth
    )
    fn_tags = tuple(fn.docs.tags) if fn.docs is not None else ()
    tags = tuple(dict.fromkeys((*channel_tags, *fn_tags)))
    try:
        limit = RateLimit.parse(action.rate_limit) or fn.rate_limit
    except WiringError as exc:
        raise WiringError(f"{where}: {exc}") from None
    return Route(fn, auth, (*channel_mw, *action.middleware, *fn.middleware), tags, limit)


def _declares(model: Any, name: str) -> bool:
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and any(name in (field, info.alias) for field, info in model.model_fields.items())
    )


def _routed(route: Route, where: str) -> Route:
    """A routed action and the frame's correlation `id`, which its reply echoes: an input that
    declares `id` receives it (sendMessage's idempotency key is its correlation id); an output
    with an `id` of its own would be overwritten by the echo, so it must take `id` as well."""
    fn = route.func
    takes_id = _declares(fn.input_type, CORRELATION_KEY)
    if not takes_id and _declares(fn.output_type, CORRELATION_KEY):
        raise WiringError(
            f"{where}: {fn.name} ({fn.location}) returns a field '{CORRELATION_KEY}' it does not "
            f"take; a reply's '{CORRELATION_KEY}' echoes the request's correlation id: rename it"
        )
    return replace(route, takes_id=takes_id)


def wire_channel(
    *,
    name: str,
    route: str,
    on_connect: ChannelFunction | None = None,
    on_connected: ChannelFunction | None = None,
    on_disconnect: ChannelFunction | None = None,
    on_message: ChannelFunction | Action | Mapping[str, Any] | None = None,
    on_message_wiring: Mapping[str, Mapping[str, Any]] | None = None,
    auth: bool = True,
    middleware: Sequence[Middleware] = (),
    tags: Sequence[str] = (),
    opening_data: type[BaseModel] | None = None,
    state: Any = None,
    frame_middleware: Sequence[FrameMiddleware] = (),
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    rate_limit: str | None = None,
    registry: ChannelRegistry | None = None,
) -> ChannelDefinition:
    """Wire a channel and add it to the registry. Wrong wiring raises `WiringError` here.

    `route` addresses the channel at negotiate (`/chat/:room`: `:room` is opening data);
    `on_connect` decides at connect time (raise to refuse); `on_connected` runs once the
    socket is open; `state` is the model of `channel.get_state()`; `frame_middleware` wraps
    every frame the channel sends. `rate_limit="20/10s"` bounds the frames of each
    connection, whatever the action; an action's own limit (on its function or wiring entry)
    counts as well.
    """
    where = _caller()
    ctx = f"channel '{name}' ({where})"
    try:
        channel_limit = RateLimit.parse(rate_limit)
    except WiringError as exc:
        raise WiringError(f"{ctx}: {exc}") from None
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise WiringError(f"{ctx}: a channel name is letters, digits, '-' and '_'")
    if not route.startswith("/"):
        raise WiringError(f"{ctx}: route must start with '/', got {route!r}")
    mw = tuple(middleware)
    ch_tags = tuple(tags)

    def lifecycle(entry: Any, label: str, kinds: set[FunctionKind]) -> Route | None:
        if entry is None:
            return None
        return _route(entry, f"{ctx} {label}", kinds, auth, mw, ch_tags)

    connect = lifecycle(on_connect, "on_connect", {FunctionKind.CONNECT})
    connected = lifecycle(on_connected, "on_connected", {FunctionKind.CONNECT})
    disconnect = lifecycle(on_disconnect, "on_disconnect", {FunctionKind.DISCONNECT})
    message = lifecycle(on_message, "on_message", _MESSAGE_KINDS)
    routing: dict[str, dict[str, Route]] = {}
    for key, entries in (on_message_wiring or {}).items():
        if not isinstance(entries, Mapping) or not entries:
            raise WiringError(f"{ctx}: on_message_wiring['{key}'] must map values to functions")
        routing[key] = {}
        for value, entry in entries.items():
            at = f"{ctx} on_message_wiring['{key}']['{value}']"
            routing[key][value] = _routed(_route(entry, at, _MESSAGE_KINDS, auth, mw, ch_tags), at)
    if connect is None and disconnect is None and message is None and not routing:
        raise WiringError(f"{ctx}: wire at least one of on_connect, on_message, on_message_wiring")

    actions = [r for routes in routing.values() for r in routes.values()]
    routes = [r for r in (connect, connected, disconnect, message, *actions) if r is not None]
    opening_type = _one_type(
        ctx, "opening data", opening_data, [r.func.opening_data_type for r in routes]
    )
    state_type = _one_type(ctx, "state", state, [r.func.state_type for r in routes])
    try:
        pattern = RoutePattern(route)
    except WiringError as exc:
        raise WiringError(f"{ctx}: {exc}") from None
    if opening_type is not None:
        unknown = [p for p in pattern.params if p not in opening_type.model_fields]
        if unknown:
            raise WiringError(
                f"{ctx}: route parameter(s) {', '.join(unknown)} are not fields of "
                f"{opening_type.__name__}"
            )

    channel = ChannelDefinition(
        name=name,
        route=route,
        auth=auth,
        on_connect=connect,
        on_disconnect=disconnect,
        on_message=message,
        routing=routing,
        opening_data_type=opening_type,
        tags=ch_tags,
        max_frame_bytes=max_frame_bytes,
        location=where,
        on_connected=connected,
        state_type=state_type,
        frame_middleware=tuple(frame_middleware),
        pattern=pattern,
        rate_limit=channel_limit,
    )
    (registry if registry is not None else default_registry).add(channel)
    return channel


def _one_type(ctx: str, what: str, given: Any, declared: Sequence[Any]) -> Any:
    """The one type a channel's wiring and functions declare for `what` (None: none)."""
    found = {t for t in (given, *declared) if t is not None}
    if len(found) > 1:
        names = ", ".join(sorted(getattr(t, "__name__", repr(t)) for t in found))
        raise WiringError(f"{ctx}: its functions declare different {what} types: {names}")
    return next(iter(found), None)
