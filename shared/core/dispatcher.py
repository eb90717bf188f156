"""The channel dispatcher: one entry point for connect, connected, message and disconnected.

It works on plain events (shared/core/events.py); the trigger payload is the adapter's business
(shared/azure/trigger.py). Every failure becomes a value: a refused connect or an error frame.
Nothing raises out of `dispatch`, and the connection stays open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from shared.core import telemetry
from shared.core.channel import Channel, ChannelStatus
from shared.core.connection import (
    Context,
    context_from_states,
    dump_session,
    load_context,
    states_copy,
)
from shared.core.errors import ChannelError, InternalServerError, NotFoundError, cause_of
from shared.core.event_hub import EventHub, user_topic
from shared.core.events import (
    Accept,
    ConnectedEvent,
    ConnectEvent,
    DisconnectedEvent,
    Event,
    MessageEvent,
    Reject,
    Reply,
    Result,
)
from shared.core.frames import (
    correlation_id,
    decode,
    error_frame,
    reply_frame,
    routing_key,
    select,
)
from shared.core.logs import channel_logger
from shared.core.middleware import invoke
from shared.core.outbound import Outbound
from shared.core.ratelimit import STATE_KEY as RATE_KEY
from shared.core.ratelimit import RateLimit, take_all
from shared.core.rules import Resolved
from shared.core.services import ServiceBuilder, Services
from shared.core.session import SESSION_KEY, Session, UserSession, check_user_id
from shared.core.stores import ConnectionRecord, ConnectionStore
from shared.core.transport import Transport
from shared.core.validation import dump_opening_data, opening_data_from_query, validate_opening_data
from shared.core.wiring import ChannelDefinition, ChannelRegistry, Route

log = channel_logger("channels")
_LIFECYCLE = frozenset({"connect", "connected", "disconnect"})


@dataclass(eq=False)  # internal to one event: never compared (one generated method less)
class Call:
    """One function call of an event, with the parts it changes."""

    route: Route
    services: Services
    channel: Channel[Any, Any]
    outbound: Outbound
    rules: Resolved


class _StoreSink:
    """Session and state changes, written to the connection record as they are made; the
    connection follows its session's user into the user's topic (send_to_user)."""

    def __init__(
        self, store: ConnectionStore, channel_id: str, hub: EventHub, user: str | None
    ) -> None:
        self._store = store
        self._channel_id = channel_id
        self._hub = hub
        self._user = user

    async def save_session(self, session: Session | None) -> None:
        await self._store.save_session(self._channel_id, dump_session(session))
        new = session.user_id if session else None
        await self._hub.bind_user(self._channel_id, self._user, new)
        self._user = new

    async def save_state(self, state: Any) -> None:
        await self._store.save_state(self._channel_id, state)


class _AfterConnect:
    """on_connected cannot change the states copy (its response is ignored): refuse clearly."""

    async def save_session(self, session: Session | None) -> None:
        raise RuntimeError("set the session in on_connect, not on_connected")

    async def save_state(self, state: Any) -> None:
        raise RuntimeError("set the channel state in on_connect, not on_connected")


_AFTER_CONNECT = _AfterConnect()  # stateless: one for every on_connected call


class Dispatcher:
    def __init__(
        self,
        registry: ChannelRegistry,
        store: ConnectionStore,
        transport: Transport,
        services: ServiceBuilder,
        logger: logging.Logger = log,
        *,
        strict: bool = False,
    ) -> None:
        """`strict`: a frame that does not match its declared type raises (the test harness)."""
        self.registry = registry
        self.store = store
        self.transport = transport
        self.services = services
        self.logger = logger
        self.strict = strict

    def dispatch(self, event: Event) -> Awaitable[Result]:
        """The event's result (awaitable; never raises): one frame less per event while off."""
        if telemetry.state.instruments is not None:
            return telemetry.observe_event(event, self._dispatch)
        return self._dispatch(event)

    async def _dispatch(self, event: Event) -> Result:
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
            self.logger.warning("%s failed: %s%s", type(event).__name__, exc.message, cause_of(exc))
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

    # -- connect: resolve, validate, run on_connect (it may refuse), store the record ---------

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
        try:
            session = self._opening_session(event)
        except ChannelError as exc:
            return Reject(exc.status, exc.message)
        ctx = Context(channel, dump_opening_data(opening), opening, session)
        topics: tuple[str, ...] = ()
        if channel.on_connect is not None:
            # The socket does not exist yet: the session and state it sets go into the record
            # below, its frames wait for `connected`, its subscriptions ride in the accept.
            call = self._call(
                ctx,
                event.channel_id,
                channel.on_connect,
                "connect",
                status=ChannelStatus.CONNECTING,
            )
            try:
                result = await self._run(call, None, "connect", check=False)
                if result is not None:
                    await call.outbound.reply(result)
            except ChannelError as exc:
                self.logger.info("connect refused: %s %s", exc.name, exc.message)
                return Reject(exc.status, exc.message)
            ctx.session = call.services.user_session.get()  # may differ from the opening one
            ctx.state = call.channel.state_json
            ctx.pending = tuple(call.outbound.pending)
            topics = tuple(call.outbound.topics)
        await self.store.put(
            ConnectionRecord(
                channel_id=event.channel_id,
                channel=channel.name,
                opening_data=ctx.opening_data,
                session=dump_session(ctx.session),
                user_id=event.user_id,
                state=ctx.state,
                pending=ctx.pending,
            )
        )
        if ctx.session is not None:  # send_to_user reaches it from the start
            topics = (*topics, user_topic(ctx.session.user_id))
        return Accept(event.user_id, states_copy(ctx), topics)

    def _opening_session(self, event: ConnectEvent) -> Session | None:
        """The session negotiate signed into the URL, else one of the service's user id."""
        if not event.user_id:
            return None
        carried = event.query.get(SESSION_KEY)
        if carried:
            return self.services.jwt.connect_session(carried[0], check_user_id(event.user_id))
        # Without negotiate's copy, the session ends with the access token the service checked.
        return Session(user_id=check_user_id(event.user_id), expires_at=event.expires_at)

    # -- connected: deliver on_connect's frames, run on_connected ---------------------------

    async def connected(self, event: ConnectedEvent) -> None:
        ctx = await load_context(self.registry, self.store, event.channel_id, event.states)
        if ctx is None:
            return
        for frame in ctx.pending:  # already through the frame middleware
            await self.transport.send(event.channel_id, frame)
        route = ctx.channel.on_connected
        if route is None:
            return
        call = self._call(ctx, event.channel_id, route, "connected", after_connect=True)
        try:
            result = await self._run(call, None, "connected", check=False)
            if result is not None:
                await call.outbound.reply(result)
        except Exception as exc:
            await self._send_error(event.channel_id, exc)

    # -- message: route, check auth, validate, check permissions, run, reply -----------------

    async def message(self, event: MessageEvent) -> Reply:
        ctx = context_from_states(self.registry, event.states) or await load_context(
            self.registry, self.store, event.channel_id, event.states
        )
        if ctx is None:
            gone = NotFoundError("this connection is not known (it may have closed): reconnect")
            return Reply(error_frame(None, None, gone))
        key: str | None = None
        value: Any = None
        call: Call | None = None
        rate: dict[str, int] | None = None
        correlation: str | int | None = None
        try:
            parsed = decode(ctx.channel, event)
            key, value = routing_key(ctx.channel, parsed)
            correlation = correlation_id(parsed) if key is not None else None
            route, data, key, value = select(ctx.channel, parsed, key, value)
            if key is None:
                correlation = None  # on_message took it: its reply is its own
            action = str(value) if key else "message"
            if ctx.channel.rate_limit or route.rate_limit:  # no list to build when none
                rate = take_all(_limits(ctx.channel, route, action), event.states.get(RATE_KEY))
            call = self._call(ctx, event.channel_id, route, action)
            result = await self._run(call, data, action)
            frame = reply_frame(key, value, result, correlation)
            if call.outbound.intercepts:
                frame = await call.outbound.final(frame)
        except ChannelError as exc:
            # A client's bad frame is common: its cause (a pydantic error, say) is formatted
            # only when the record will be written.
            if self.logger.isEnabledFor(logging.INFO):
                self.logger.info(
                    "message on %s failed: %s %s%s",
                    event.channel_id,
                    exc.name,
                    exc.message,
                    cause_of(exc),
                )
            frame = error_frame(key, value, exc, correlation)
        except Exception:
            self.logger.exception("message handler failed on %s", event.channel_id)
            frame = error_frame(key, value, InternalServerError("internal error"), correlation)
        # Return the copy when the session or state changed, when this event had to read the
        # table, or to drop on_connect's frames from it once they were delivered.
        refresh = not ctx.from_states or bool(ctx.pending)
        if call is not None and call.services.user_session.changed:
            ctx.session = call.services.user_session.get()
            refresh = True
        if call is not None and call.channel.state_changed:
            ctx.state = call.channel.state_json
            refresh = True
        ctx.pending = ()
        states = states_copy(ctx) if refresh else {}
        return Reply(frame, states if rate is None else {**states, RATE_KEY: rate})

    # -- disconnected: run on_disconnect, forget the connection ------------------------------

    async def disconnected(self, event: DisconnectedEvent) -> None:
        ctx = await load_context(self.registry, self.store, event.channel_id, event.states)
        try:
            route = ctx.channel.on_disconnect if ctx is not None else None
            if ctx is not None and route is not None:
                call = self._call(
                    ctx, event.channel_id, route, "disconnect", status=ChannelStatus.CLOSED
                )
                await self._run(call, ctx.opening, "disconnect", check=False)
        except Exception:
            self.logger.exception("on_disconnect failed for %s", event.channel_id)
        finally:
            await self.store.delete(event.channel_id)

    # -- helpers -----------------------------------------------------------------------------

    def _call(
        self,
        ctx: Context,
        channel_id: str,
        route: Route,
        action: str,
        *,
        status: ChannelStatus = ChannelStatus.OPEN,
        after_connect: bool = False,
    ) -> Call:
        """The services, channel and way out of one function call."""
        connecting = status is ChannelStatus.CONNECTING
        rules = self.registry.rules.resolve(route.tags)
        outbound = Outbound(
            self.transport,
            channel=ctx.channel.name,
            channel_id=channel_id,
            middleware=(
                (*rules.frame_middleware, *ctx.channel.frame_middleware)
                if rules.frame_middleware
                else ctx.channel.frame_middleware
            ),
            output=route.func.output_adapter,
            connecting=connecting,
            strict=self.strict,
            logger=self.logger,
        )
        # While connecting nothing is stored yet: the session and state go into the record.
        sink: _StoreSink | _AfterConnect | None = (
            None
            if connecting
            else _AFTER_CONNECT
            if after_connect
            else _StoreSink(
                self.store,
                channel_id,
                self.services.event_hub,
                ctx.session.user_id if ctx.session else None,
            )
        )
        channel: Channel[Any, Any] = Channel(
            channel_id,
            ctx.opening,
            outbound,
            name=ctx.channel.name,
            status=status,
            state=ctx.state,
            state_adapter=ctx.channel.state_adapter,
            save_state=sink.save_state if sink is not None else None,
        )
        extra = {"channel": ctx.channel.name, "channel_id": channel_id, "action": action}
        if telemetry.state.instruments is not None and action not in _LIFECYCLE:
            telemetry.annotate(ctx.channel.name, action)  # the event itself names lifecycle ones
        services = self.services.build(
            route.func.services_type,
            logger=logging.LoggerAdapter(self.logger, extra),
            user_session=UserSession(ctx.session, sink),
            channel=channel,
            event_hub=EventHub(outbound, self.store),
        )
        if outbound.intercepts:
            # Only frame middleware needs them. Set always, services -> channel -> outbound ->
            # services would be a cycle: a dozen objects per event left to the cyclic GC.
            outbound.services = services
        return Call(route, services, channel, outbound, rules)

    async def _run(self, call: Call, data: Any, action: str, *, check: bool = True) -> Any:
        needs_session = check and call.route.auth
        middleware = call.route.middleware
        if call.rules.middleware:
            middleware = (*call.rules.middleware, *middleware)
        return await invoke(
            call.route.func,
            call.services,
            data,
            middleware=middleware,
            channel=call.channel.name,
            action=action,
            unauthorized=(
                f"'{action}' needs an authenticated session: authenticate first"
                if needs_session
                else None
            ),
            # Lifecycle handlers keep only their own checks: an app-wide rule for actions
            # (say, "a session is required") must not refuse every connect or disconnect.
            permissions=call.rules.permissions if check else (),
        )

    async def _send_error(self, channel_id: str, exc: Exception) -> None:
        error = exc if isinstance(exc, ChannelError) else InternalServerError("internal error")
        if not isinstance(exc, ChannelError):
            self.logger.error("on_connected failed for %s", channel_id, exc_info=exc)
        elif exc.status >= 500:
            self.logger.warning("on_connected failed for %s: %s%s", channel_id, exc, cause_of(exc))
        try:
            await self.transport.send(channel_id, error_frame(None, None, error))
        except ChannelError as failed:
            self.logger.warning("could not send the error to %s%s", channel_id, cause_of(failed))


def _limits(channel: ChannelDefinition, route: Route, action: str) -> list[tuple[str, RateLimit]]:
    limits = [("*", channel.rate_limit)] if channel.rate_limit else []
    return [*limits, (action, route.rate_limit)] if route.rate_limit else limits
