"""Telemetry of the real trigger path (issue 15): spans, metrics and log records, read back from
OpenTelemetry's in-memory exporters; Table Storage is Azurite, Web PubSub REST the recorder.

The OpenTelemetry API lets a process set its global providers once, and the Azure SDKs trace
through the global tracer provider, so this module installs one set for the whole run and
each test switches the runtime's telemetry on and off around itself.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.settings import settings as azure_settings
from opentelemetry import trace
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.rest_recorder import ACCESS_KEY
from shared.azure import telemetry as azure_telemetry
from shared.core import telemetry
from tests.azurite.test_trigger_flow import frame, open_connection, token
from tests.conftest import JWT_SECRET
from tests.support import payloads

SPANS = InMemorySpanExporter()
# delta: each collection holds what happened since the previous one
METRICS = InMemoryMetricReader(
    preferred_temporality={
        kind: AggregationTemporality.DELTA
        for kind in (Counter, UpDownCounter, Histogram, ObservableCounter)
    }
)
LOGS = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
_providers: dict[str, Any] = {}


def _install_once() -> tuple[TracerProvider, MeterProvider, LoggerProvider]:
    if not _providers:
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(SPANS))
        trace.set_tracer_provider(tracer_provider)
        logger_provider = LoggerProvider()
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(LOGS))
        _providers.update(
            tracer=tracer_provider,
            meter=MeterProvider(metric_readers=[METRICS]),
            logger=logger_provider,
        )
    return _providers["tracer"], _providers["meter"], _providers["logger"]


@pytest.fixture
def recording() -> Iterator[None]:
    tracer_provider, meter_provider, logger_provider = _install_once()
    handler = LoggingHandler(logger_provider=logger_provider)
    channels_log = logging.getLogger("channels")
    channels_log.addHandler(handler)
    level = channels_log.level
    channels_log.setLevel(logging.INFO)
    telemetry.switch_on(tracer_provider, meter_provider)
    azure_telemetry.trace_azure_sdk_calls()
    METRICS.get_metrics_data()  # start each test from zero (the reader is cumulative)
    SPANS.clear()
    LOGS.clear()
    try:
        yield
    finally:
        telemetry.switch_off()
        azure_settings.tracing_implementation = None
        channels_log.removeHandler(handler)
        channels_log.setLevel(level)


def new_id() -> str:
    return f"conn-{uuid.uuid4().hex[:12]}"


def event_spans(name: str) -> list[ReadableSpan]:
    return [s for s in SPANS.get_finished_spans() if s.name == name]


def snapshot() -> dict[str, list[tuple[dict[str, Any], Any]]]:
    """Each metric's points since the previous snapshot: (attributes, value or point)."""
    data = METRICS.get_metrics_data()
    out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for m in scope.metrics:
                for p in m.data.data_points:
                    value = getattr(p, "value", None)
                    attributes = dict(p.attributes or {})
                    out.setdefault(m.name, []).append(
                        (attributes, value if value is not None else p)
                    )
    return out


async def authenticated(triggers: dict[str, Any], cid: str) -> dict[str, Any]:
    states = await open_connection(triggers, cid)
    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "authenticate", "token": token(userId="alice")}, states
        )
    )
    states.update(reply["states"])
    return states


async def test_send_message_makes_one_event_span_with_the_table_write_as_its_child(
    recording: None, triggers: dict[str, Any]
) -> None:
    cid = new_id()
    states = await authenticated(triggers, cid)
    SPANS.clear()
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "sendMessage", "message": "Hello"}, states)
    )
    assert frame(reply)["message"] == "Hello"
    [event] = event_spans("channel message")
    assert event.kind is trace.SpanKind.SERVER
    assert dict(event.attributes or {}) == {
        "channel.name": "chat",
        "channel.event": "message",
        "channel.action": "sendMessage",
        "channel.connection_id": cid,
        "channel.status": 200,
    }
    children = [
        s
        for s in SPANS.get_finished_spans()
        if s.parent is not None and s.parent.span_id == event.context.span_id
    ]
    names = [s.name for s in children]
    assert "TableClient.submit_transaction" in names, names  # the message and its id stored
    assert any(n.endswith(".send_to_group") for n in names), names  # the publish
    table = next(s for s in children if s.name == "TableClient.submit_transaction")
    assert table.context.trace_id == event.context.trace_id


async def test_an_error_frame_records_its_error_name_on_the_span_and_in_metrics(
    recording: None, triggers: dict[str, Any]
) -> None:
    cid = new_id()
    states = await open_connection(triggers, cid)
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "sendMessage", "message": "too soon"}, states)
    )
    assert frame(reply)["errorName"] == "UnauthorizedError"
    [event] = event_spans("channel message")
    attributes = dict(event.attributes or {})
    assert attributes["channel.error_name"] == "UnauthorizedError"
    assert attributes["channel.status"] == 401
    assert attributes["channel.action"] == "sendMessage"
    errors = snapshot()["channels.error_frames"]
    assert errors == [
        (
            {
                "channel.error_name": "UnauthorizedError",
                "channel.name": "chat",
                "channel.action": "sendMessage",
            },
            1,
        )
    ]
    # the log record of the failure carries the same fields, in the event's trace
    [record] = [r for r in LOGS.get_finished_logs() if "failed" in str(r.log_record.body)]
    fields = dict(record.log_record.attributes or {})
    assert fields["channel.action"] == "sendMessage"
    assert fields["channel.connection_id"] == cid
    assert fields["channel.name"] == "chat"
    assert record.log_record.trace_id == event.context.trace_id


async def test_metrics_count_connects_open_connections_messages_and_time_handlers(
    recording: None, triggers: dict[str, Any]
) -> None:
    refused = await triggers["webpubsub_connect"](
        request=payloads.connect(new_id(), {"channel": "chat"})
    )
    assert refused is not None and refused["code"] == "userError"
    cid = new_id()
    states = await authenticated(triggers, cid)
    await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "sendMessage", "message": "hi"}, states)
    )
    metrics = snapshot()
    connects = {(a["outcome"], a["channel.status"]): v for a, v in metrics["channels.connects"]}
    assert connects == {("refused", 422): 1, ("accepted", 200): 1}
    assert metrics["channels.connections.open"] == [({"channel.name": "chat"}, 1)]
    messages = {a["channel.action"]: v for a, v in metrics["channels.messages"]}
    assert messages == {"authenticate": 1, "sendMessage": 1}
    durations = {
        (a["channel.event"], a.get("channel.action"), a["channel.status"]): p.count
        for a, p in metrics["channels.handler.duration"]
    }
    assert durations[("message", "sendMessage", 200)] == 1
    assert durations[("connect", None, 200)] == durations[("connect", None, 422)] == 1
    await triggers["webpubsub_disconnected"](request=payloads.disconnected(cid, states))
    assert snapshot()["channels.connections.open"] == [({"channel.name": "chat"}, -1)]


async def test_http_calls_get_a_span_with_route_status_and_error_name(
    recording: None, triggers: dict[str, Any]
) -> None:
    from tests.azurite.test_http_routes import request

    response = await triggers["http_broadcast_to_room"](
        req=request("POST", "http://localhost/api/broadcast", {"room": "r", "message": "x"})
    )
    assert response.status_code == 401
    await triggers["negotiate"](
        req=request("GET", "http://localhost/api/negotiate?channel=chat&room=general")
    )
    [broadcast] = event_spans("HTTP /api/broadcast")
    assert dict(broadcast.attributes or {}) == {
        "channel.event": "http",
        "channel.action": "/api/broadcast",
        "http.route": "/api/broadcast",
        "channel.status": 401,
        "channel.error_name": "UnauthorizedError",
    }
    [negotiate] = event_spans("HTTP /api/negotiate")
    assert (negotiate.attributes or {})["channel.status"] == 200


async def test_no_attribute_or_log_field_holds_a_token_a_secret_or_message_text(
    recording: None, triggers: dict[str, Any], app_settings: dict[str, str]
) -> None:
    from tests.azurite.test_http_routes import request

    secret_text = "the-launch-code-is-0000"
    odd_action = "no-such-action-4711"  # the error frame names it, and so does its log line
    bearer = token(userId="zed", role="admin")
    await triggers["negotiate"](
        req=request(
            "GET",
            "http://localhost/api/negotiate?channel=chat&room=general",
            headers={"Authorization": f"Bearer {bearer}"},
        )
    )
    cid = new_id()
    states = await open_connection(triggers, cid)
    for data in (
        {"action": "authenticate", "token": bearer},
        {"action": "sendMessage", "message": secret_text},
        {"action": odd_action},  # an unknown action is client text too
        secret_text,  # not JSON
    ):
        reply = await triggers["webpubsub_message"](
            request=payloads.message(cid, data, states, data_type="Text")
        )
        states.update(reply.get("states", {}))
    await triggers["http_broadcast_to_room"](
        req=request(
            "POST",
            "http://localhost/api/broadcast",
            {"room": "general", "message": secret_text},
            {"Authorization": f"Bearer {bearer}"},
        )
    )
    forbidden = [bearer, secret_text, JWT_SECRET, ACCESS_KEY, app_settings["AzureWebJobsStorage"]]
    forbidden += [part for part in bearer.split(".")]  # no piece of the token either
    values: list[str] = []  # every attribute value: spans, span events, metrics, log records
    for span in SPANS.get_finished_spans():
        values += [f"{span.name}={v!s}" for v in (span.attributes or {}).values()]
        for ev in span.events:
            values += [str(v) for v in (ev.attributes or {}).values()]
    for metric_points in snapshot().values():
        values += [str(v) for attributes, _ in metric_points for v in attributes.values()]
    bodies = [str(r.log_record.body) for r in LOGS.get_finished_logs()]
    for record in LOGS.get_finished_logs():
        values += [str(v) for v in (record.log_record.attributes or {}).values()]
    assert len(values) > 20 and bodies  # the flow was recorded
    assert [v for v in values for f in [*forbidden, odd_action] if f in v] == []
    assert [b for b in bodies for f in forbidden if f in b] == []


async def test_while_off_no_span_is_built_even_with_a_provider_installed(
    triggers: dict[str, Any],
) -> None:
    _install_once()
    telemetry.switch_off()
    SPANS.clear()
    cid = new_id()
    await open_connection(triggers, cid)
    assert not telemetry.is_on()
    assert SPANS.get_finished_spans() == ()


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in (azure_telemetry.LOCAL_SWITCH,)}
    clean.pop(azure_telemetry.CONNECTION_STRING, None)
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FLOW = """
import asyncio, json
from channels import chat
from shared.azure.telemetry import configure
from shared.core import telemetry
from shared.core.testing import ChannelTestEnvironment
chosen = configure()
async def main():
    client = ChannelTestEnvironment().communicator("chat", room="general")
    await client.connect()
    await client.send_json({"action": "sendMessage", "message": "x"})
asyncio.run(main())
from opentelemetry import trace
getattr(trace.get_tracer_provider(), "force_flush", lambda: None)()
print(json.dumps({"chosen": chosen, "on": telemetry.is_on()}))
"""


def test_console_telemetry_prints_the_event_spans_locally() -> None:
    done = _run(FLOW, {azure_telemetry.LOCAL_SWITCH: "console"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"chosen": "console", "on": True}
    assert '"name": "channel message"' in done.stderr
    assert '"channel.error_name": "UnauthorizedError"' in done.stderr


def test_without_settings_telemetry_stays_off_and_loads_no_exporter() -> None:
    code = FLOW + "import sys; print(any(m.startswith('azure.monitor') for m in sys.modules))"
    done = _run(code, {})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert json.loads(lines[-2]) == {"chosen": None, "on": False}
    assert lines[-1] == "False"


def test_an_application_insights_connection_string_switches_on_azure_monitor() -> None:
    code = FLOW.replace(
        "print(json.dumps(",
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "assert isinstance(trace.get_tracer_provider(), TracerProvider)\n"
        "from azure.core.settings import settings\n"
        "assert settings.tracing_implementation() is not None\n"
        "print(json.dumps(",
    )
    done = _run(
        code,
        {
            azure_telemetry.CONNECTION_STRING: "InstrumentationKey=00000000-0000-0000-0000-"
            "000000000000;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/",
            "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        },
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"chosen": "azure-monitor", "on": True}
