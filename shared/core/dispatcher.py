"""The channel dispatcher: one entry point for connect, connected, message and disconnected.

It works on plain events (shared/events.py); the Web PubSub trigger payload is the protocol
adapter's business (shared/trigger.py). Every failure becomes a value: a rejected connect or
an error frame. Nothing raises out of `dispatch`, and the connection stays open.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python

from shared.core.channel import Channel, ChannelState
from shared.core.errors import (
    BadRequestError,
    ChannelError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from shared.core.events import (
    Accept,
    ConnectedEvent,
    ConnectEvent,
    DataType,
    DisconnectedEvent,
    Event,
    MessageEvent,
    Reject,
    Reply,
    Result,
)
from shared.core.frames import CORRELATION_KEY, correlation_id, error_frame, reply_frame
from shared.core.middleware import invoke
from shared.core.services import ChannelServices, Interaction, ServiceBuilder, Services
from shared.core.session import Session, UserSession
from shared.core.stores import ConnectionRecord, ConnectionStore
from shared.core.transport import Transport
from shared.core.validation import dump_opening_data, opening_data_from_query, validate_opening_data
from shared.core.wiring import ChannelDefinition, ChannelRegistry, Route

STATE_KEY = "channel"  # the connection state holding our copy of the record
MAX_STATE_BYTES = 2048  # beyond this, the table alone holds the record

log = logging.getLogger("channels")


@dataclass
class Context:
    """What an event needs to know about its connection."""

    channel: ChannelDefinition
    opening_data: dict[str, Any]  # JSON form, as stored
    opening: Any  # validated (a model when the channel declares one)
    session: Session | None
    session_in_states: bool  # the states copy carried the session (none to refresh)


class _SessionSink:
    def __init__(self, store: ConnectionStore, channel_id: str) -> None:
        self._store = store
        self._channel_id = channel_id

    async def save_session(self, session: Session | None) -> None:
        dumped = session.model_dump(mode="json", by_alias=True) if session else None
        await self._store.save_session(self._channel_id, dumped)


class Dispatcher:
    def __init__(
        self,
        registry: ChannelRegistry,
        store: ConnectionStore,
        transport: Transport,
        services: ServiceBuilder,
        logger: logging.Logger = log,
    ) -> None:
        self.registry = registry
        self.store = store
        self.transport = transport
        self.services = services
        self.logger = logger

    async def dispatch(self, event: Event) -> Result:
        try:
            if isinstance(event, MessageEvent):
                return await self.message(event)
            if isinstance(event, ConnectEvent):
                return await self.connect(event)
            if isinstance(event, ConnectedEvent):
                await self.connected(event)
            else:
                await self.disconnected(event)
        except ChannelError as exc:  # a storage outage while loading the connection, say
            self.logger.warning("%s failed: %s", type(event).__name__, exc.message)
            if isinstance(event, ConnectEvent):
                return Reject(exc.status, exc.message)
            if isinstance(event, MessageEvent):
                return Reply(error_frame(None, None, exc))
        except Exception:
            self.logger.exception("%s failed", type(event).__name__)
            if isinstance(event, ConnectEvent):
                return Reject(500, "internal error")
            if isinstance(event, MessageEvent):
                return Reply(error_frame(None, None, InternalServerError("internal error")))
        return None

    # -- connect: resolve the channel, validate opening data, store the record ---------------

    async def connect(self, event: ConnectEvent) -> Accept | Reject:
        names = event.query.get("channel") or [""]
        channel = self.registry.get(names[0])
        if channel is None:
            if not names[0]:
                return Reject(400, "the connection URL must name a channel: ?channel=<name>")
            return Reject(404, f"unknown channel '{names[0]}'")
        try:
            opening = validate_opening_data(
                channel.opening_data_type, opening_data_from_query(event.query)
            )
        except ChannelError as exc:
            return Reject(exc.status, exc.message)
        session = Session(user_id=event.user_id) if event.user_id else None
        record = ConnectionRecord(
            channel_id=event.channel_id,
            channel=channel.name,
            opening_data=dump_opening_data(opening),
            session=session.model_dump(mode="json", by_alias=True) if session else None,
            user_id=event.user_id,
        )
        await self.store.put(record)
        # on_connect runs later (on `connected`) and may set the session, which that event
        # cannot return in states; then the copy leaves the session out and the first message
        # reads it from the table.
        ctx = Context(channel, record.opening_data, opening, session, session_in_states=False)
        return Accept(event.user_id, self._states(ctx, with_session=channel.on_connect is None))

    # -- connected: run on_connect, send its result ------------------------------------------

    async def connected(self, event: ConnectedEvent) -> None:
        ctx = await self._context(event.channel_id, event.states)
        if ctx is None or ctx.channel.on_connect is None:
            return
        services = self._services(ctx, event.channel_id, "connect", ctx.channel.on_connect)
        try:
            result = await self._run(ctx.channel.on_connect, services, None, "connect", check=False)
            if result is not None:
                await self.transport.send(
                    event.channel_id, to_jsonable_python(result, by_alias=True)
                )
        except Exception as exc:
            await self._send_error(event.channel_id, exc)

    # -- message: route, check auth, validate, run, reply ------------------------------------

    async def message(self, event: MessageEvent) -> Reply:
        ctx = await self._context(event.channel_id, event.states)
        if ctx is None:
            return Reply(
                error_frame(
                    None,
                    None,
                    NotFoundError("this connection is not known (it may have closed): reconnect"),
                )
            )
        key: str | None = None
        value: Any = None
        correlation: str | int | None = None
        user_session: UserSession | None = None
        try:
            parsed = _decode(ctx.channel, event)
            key, value = _routing_key(ctx.channel, parsed)
            correlation = correlation_id(parsed) if key is not None else None
            route, data = _select(ctx.channel, parsed, key, value)
            action = str(value) if key else "message"
            services = self._services(ctx, event.channel_id, action, route)
            user_session = services.user_session
            result = await self._run(route, services, data, action)
            frame = reply_frame(key, value, result, correlation)
        except ChannelError as exc:
            self.logger.info("message on %s failed: %s %s", event.channel_id, exc.name, exc.message)
            frame = error_frame(key, value, exc, correlation)
        except Exception:
            self.logger.exception("message handler failed on %s", event.channel_id)
            frame = error_frame(key, value, InternalServerError("internal error"), correlation)
        # Return the copy when the session changed, or when this event had to read the table.
        refresh = not ctx.session_in_states
        if user_session is not None and user_session.changed:
            ctx.session = user_session.get()
            refresh = True
        return Reply(frame, self._states(ctx, with_session=True) if refresh else {})

    # -- disconnected: run on_disconnect, forget the connection ------------------------------

    async def disconnected(self, event: DisconnectedEvent) -> None:
        ctx = await self._context(event.channel_id, event.states)
        try:
            route = ctx.channel.on_disconnect if ctx is not None else None
            if ctx is not None and route is not None:
                services = self._services(
                    ctx, event.channel_id, "disconnect", route, ChannelState.CLOSED
                )
                await self._run(route, services, ctx.opening, "disconnect", check=False)
        except Exception:
            self.logger.exception("on_disconnect failed for %s", event.channel_id)
        finally:
            await self.store.delete(event.channel_id)

    # -- helpers -----------------------------------------------------------------------------

    async def _context(self, channel_id: str, states: dict[str, Any]) -> Context | None:
        copy = states.get(STATE_KEY)
        if isinstance(copy, dict) and "session" in copy:  # hot path: nothing to read
            channel = self.registry.get(str(copy.get("name")))
            if channel is not None:
                opening_data = copy.get("openingData") or {}
                session = Session.model_validate(copy["session"]) if copy["session"] else None
                opening = validate_opening_data(channel.opening_data_type, opening_data)
                return Context(channel, opening_data, opening, session, session_in_states=True)
        record = await self.store.get(channel_id)
        if record is None:
            return None
        channel = self.registry.get(record.channel)
        if channel is None:
            raise NotFoundError(f"channel '{record.channel}' is no longer wired")
        opening = validate_opening_data(channel.opening_data_type, record.opening_data)
        session = Session.model_validate(record.session) if record.session else None
        return Context(channel, record.opening_data, opening, session, session_in_states=False)

    def _states(self, ctx: Context, *, with_session: bool) -> dict[str, Any]:
        copy: dict[str, Any] = {"name": ctx.channel.name, "openingData": ctx.opening_data}
        if with_session:
            copy["session"] = (
                ctx.session.model_dump(mode="json", by_alias=True) if ctx.session else None
            )
        if len(json.dumps(copy)) > MAX_STATE_BYTES:
            return {STATE_KEY: None}  # too big to carry: clear any older copy; the table serves
        return {STATE_KEY: copy}

    def _services(
        self,
        ctx: Context,
        channel_id: str,
        action: str,
        route: Route,
        state: ChannelState = ChannelState.OPEN,
    ) -> Services:
        extra = {"channel": ctx.channel.name, "channel_id": channel_id, "action": action}
        return self.services.build(
            route.func.services_type,
            logger=logging.LoggerAdapter(self.logger, extra),
            user_session=UserSession(ctx.session, _SessionSink(self.store, channel_id)),
            channel=Channel(
                channel_id, ctx.opening, self.transport, name=ctx.channel.name, state=state
            ),
        )

    async def _run(
        self,
        route: Route,
        services: Services,
        data: Any,
        action: str,
        *,
        check: bool = True,
    ) -> Any:
        channel = services.channel.name if isinstance(services, ChannelServices) else None
        interaction = Interaction(channel, action, data, services.user_session.get())
        unauthorized = f"'{action}' needs an authenticated session: authenticate first"
        return await invoke(
            route.func,
            services,
            data,
            middleware=route.middleware,
            interaction=interaction,
            unauthorized=unauthorized if check and route.auth else None,
        )

    async def _send_error(self, channel_id: str, exc: Exception) -> None:
        error = exc if isinstance(exc, ChannelError) else InternalServerError("internal error")
        if not isinstance(exc, ChannelError):
            self.logger.error("on_connect failed for %s", channel_id, exc_info=exc)
        try:
            await self.transport.send(channel_id, error_frame(None, None, error))
        except ServiceUnavailableError:
            self.logger.warning("could not send the error to %s", channel_id)


def _decode(channel: ChannelDefinition, event: MessageEvent) -> Any:
    if event.data_type is DataType.BINARY or isinstance(event.data, bytes):
        raise UnsupportedMediaTypeError("binary frames are not supported: send JSON as text")
    data = event.data
    # A character is 1 to 4 bytes: encode only when the length alone cannot decide.
    if len(data) > channel.max_frame_bytes or (
        len(data) * 4 > channel.max_frame_bytes and len(data.encode()) > channel.max_frame_bytes
    ):
        raise PayloadTooLargeError(f"frame is larger than {channel.max_frame_bytes} bytes")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise BadRequestError(
            f"frame is not valid JSON: {exc.msg} (at character {exc.pos})"
        ) from exc


def _routing_key(channel: ChannelDefinition, parsed: Any) -> tuple[str | None, Any]:
    if isinstance(parsed, dict):
        for key in channel.routing:
            if key in parsed:
                return key, parsed[key]
    return None, None


def _select(
    channel: ChannelDefinition, parsed: Any, key: str | None, value: Any
) -> tuple[Route, Any]:
    if key is not None:
        routes = channel.routing[key]
        route = routes.get(value) if isinstance(value, str) else None
        if route is None:
            known = ", ".join(routes)
            raise NotFoundError(f"unknown {key} {json.dumps(value)}; this channel has: {known}")
        # The routing key and the correlation id address the frame; the rest is the input
        # (with the id, when the input declares one).
        drop = (key,) if route.takes_id else (key, CORRELATION_KEY)
        return route, {k: v for k, v in parsed.items() if k not in drop}
    if channel.on_message is not None:
        return channel.on_message, parsed
    keys = " or ".join(f"'{k}'" for k in channel.routing)
    raise BadRequestError(f"frame must be a JSON object with {keys}")
