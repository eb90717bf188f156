"""Traces, metrics and log fields of channel events and HTTP calls (the OpenTelemetry API only).

Off until an adapter installs providers and calls `switch_on` (shared/azure/telemetry.py does,
when Application Insights is configured). While off, an event costs one attribute read: no
span, no attribute dict, no clock.

What is recorded (the names an operator queries; infra/README.md has Kusto queries):
- a span per event, `channel <event>` (SERVER), and per HTTP call, `HTTP <route>`, with
  `channel.name`, `channel.event`, `channel.action`, `channel.connection_id`, `channel.status`
  and, on failure, `channel.error_name`; never a token, a secret or a message's text. The
  Azure SDKs' spans (Table Storage, Web PubSub REST) are its children.
- metrics: `channels.connects` (by channel, outcome accepted/refused, status),
  `channels.connections.open` (+1 connected, -1 disconnected, per instance),
  `channels.messages` (by channel, action), `channels.error_frames` (by error name, channel,
  action), `channels.handler.duration` (ms, by event, channel, action, status).
- log records of the runtime's loggers written during an event carry the same fields.

The OpenTelemetry API is imported by `switch_on`, not at import: while off a cold start does not
load it. A span is started and made current directly (not through `start_as_current_span`'s
context-manager layers), its name made once per event kind, its attributes set once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

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

if TYPE_CHECKING:
    from opentelemetry import metrics, trace

CHANNEL = "channel.name"
EVENT = "channel.event"
ACTION = "channel.action"
CONNECTION_ID = "channel.connection_id"
STATUS = "channel.status"
ERROR_NAME = "channel.error_name"
ROUTE = "http.route"

_EVENT_NAMES: dict[type, str] = {
    ConnectEvent: "connect",
    ConnectedEvent: "connected",
    MessageEvent: "message",
    DisconnectedEvent: "disconnected",
}

T = TypeVar("T")

# The fields of the event being handled: the dispatcher adds channel and action as it learns
# them; metrics and log records read them.
_fields: ContextVar[dict[str, Any] | None] = ContextVar("channel_event_fields", default=None)


class _Instruments:
    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> None:
        from opentelemetry import context, metrics, trace
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.tracer = trace.get_tracer("channels", tracer_provider=tracer_provider)
        self.server = SpanKind.SERVER
        self.status = Status
        self.error = StatusCode.ERROR
        self.in_context = trace.set_span_in_context
        self.attach = context.attach
        self.detach = context.detach
        # made once: a span name is not formatted per event
        self.span_names = {kind: f"channel {kind}" for kind in _EVENT_NAMES.values()}
        meter = metrics.get_meter("channels", meter_provider=meter_provider)
        self.connects = meter.create_counter(
            "channels.connects", description="connect events, accepted or refused"
        )
        self.open = meter.create_up_down_counter(
            "channels.connections.open", description="connections opened minus closed"
        )
        self.messages = meter.create_counter(
            "channels.messages", description="message events by channel and action"
        )
        self.error_frames = meter.create_counter(
            "channels.error_frames", description="error frames by errorName"
        )
        self.duration = meter.create_histogram(
            "channels.handler.duration", unit="ms", description="time to handle an event"
        )


class _State:
    instruments: _Instruments | None = None


state = _State()  # `state.instruments is None` is the whole cost while off


def switch_on(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> None:
    """Record from now on, with these providers (the global ones when not given)."""
    state.instruments = _Instruments(tracer_provider, meter_provider)


def switch_off() -> None:
    state.instruments = None


def is_on() -> bool:
    return state.instruments is not None


def annotate(channel: str, action: str) -> None:
    """The channel and action of the event being handled, once the dispatcher knows them."""
    fields = _fields.get()
    if fields is not None:  # the span takes them when it ends: one attribute pass per span
        fields[CHANNEL] = channel
        fields[ACTION] = action


def event_fields() -> Mapping[str, Any] | None:
    """The fields of the event being handled (None outside one, or while off)."""
    return _fields.get()


async def observe_event(event: Event, handle: Callable[[Event], Awaitable[Result]]) -> Result:
    """`handle(event)` inside a span, then its outcome recorded."""
    instruments = state.instruments
    if instruments is None:  # switched off meanwhile
        return await handle(event)
    kind = _EVENT_NAMES[type(event)]
    fields: dict[str, Any] = {EVENT: kind, CONNECTION_ID: event.channel_id}
    copy = event.states.get("channel")  # the dispatcher's copy of the record names the channel
    if isinstance(copy, dict) and isinstance(copy.get("name"), str):
        fields[CHANNEL] = copy["name"]
    elif isinstance(event, ConnectEvent) and event.query.get("channel"):
        fields[CHANNEL] = event.query["channel"][0]
    token = _fields.set(fields)
    start = time.perf_counter()
    span = instruments.tracer.start_span(instruments.span_names[kind], kind=instruments.server)
    current = instruments.attach(instruments.in_context(span))  # SDK calls become children
    try:
        result = await handle(event)
        _outcome(result, fields)
        if fields.get(STATUS, 200) >= 500:
            span.set_status(instruments.status(instruments.error, fields.get(ERROR_NAME)))
    except Exception as exc:  # as `start_as_current_span` records it (dispatch never raises)
        span.record_exception(exc)
        span.set_status(instruments.status(instruments.error, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        span.set_attributes(fields)
        instruments.detach(current)
        span.end()
        _fields.reset(token)
    _measure(instruments, event, fields, (time.perf_counter() - start) * 1000)
    return result


async def observe_http(route: str, handle: Callable[[], Awaitable[T]]) -> T:
    """`handle()` (an HTTP call answering an object with `status` and `body`) inside a span."""
    instruments = state.instruments
    if instruments is None:
        return await handle()
    fields: dict[str, Any] = {EVENT: "http", ACTION: route, ROUTE: route}
    token = _fields.set(fields)
    start = time.perf_counter()
    try:
        span = instruments.tracer.start_span(f"HTTP {route}", kind=instruments.server)
        current = instruments.attach(instruments.in_context(span))
        try:
            result = await handle()
            fields[STATUS] = status = int(getattr(result, "status", 200))
            body = getattr(result, "body", None)
            if isinstance(body, dict) and isinstance(body.get("errorName"), str):
                fields[ERROR_NAME] = body["errorName"]
            if status >= 500:
                span.set_status(instruments.status(instruments.error, fields.get(ERROR_NAME)))
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(instruments.status(instruments.error, f"{type(exc).__name__}: {exc}"))
            raise
        finally:
            span.set_attributes(fields)
            instruments.detach(current)
            span.end()
    finally:
        _fields.reset(token)
    instruments.duration.record(
        (time.perf_counter() - start) * 1000, _dims(fields, EVENT, ACTION, STATUS)
    )
    return result


def _outcome(result: Result, fields: dict[str, Any]) -> None:
    """Status, error name and action as the client sees them."""
    if isinstance(result, Reject):
        fields[STATUS] = result.status
    elif isinstance(result, Accept):
        fields[STATUS] = 200
    elif isinstance(result, Reply) and isinstance(result.frame, dict):
        frame = result.frame  # its action is the client's text unless routed: not taken
        if isinstance(frame.get("errorName"), str):
            fields[ERROR_NAME] = frame["errorName"]
            fields[STATUS] = frame.get("status") if isinstance(frame.get("status"), int) else 500
        else:
            fields[STATUS] = 200
    else:
        fields[STATUS] = 200


def _dims(fields: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: fields[key] for key in keys if key in fields}


def _measure(
    instruments: _Instruments, event: Event, fields: Mapping[str, Any], elapsed_ms: float
) -> None:
    instruments.duration.record(elapsed_ms, _dims(fields, EVENT, CHANNEL, ACTION, STATUS))
    if isinstance(event, MessageEvent):
        instruments.messages.add(1, _dims(fields, CHANNEL, ACTION))
        if ERROR_NAME in fields:
            instruments.error_frames.add(1, _dims(fields, ERROR_NAME, CHANNEL, ACTION))
    elif isinstance(event, ConnectEvent):
        refused = fields.get(STATUS, 200) >= 400
        outcome = {"outcome": "refused" if refused else "accepted"}
        instruments.connects.add(1, {**_dims(fields, CHANNEL, STATUS), **outcome})
    elif isinstance(event, ConnectedEvent):
        instruments.open.add(1, _dims(fields, CHANNEL))
    else:
        instruments.open.add(-1, _dims(fields, CHANNEL))
