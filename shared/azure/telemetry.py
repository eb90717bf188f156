"""Switching telemetry on for a Function App: Azure Monitor in Azure, the console locally.

- `APPLICATIONINSIGHTS_CONNECTION_STRING` set (the Bicep sets it): Microsoft's OpenTelemetry
  distribution (`azure-monitor-opentelemetry`) exports spans, metrics and the `channels`
  loggers' records to Application Insights, and its Azure SDK instrumentation makes the Table
  Storage and Web PubSub calls children of the event's span.
- else `CHANNELS_TELEMETRY=console`: the same spans, metrics and records printed to stderr, so
  a developer sees locally what production records (`CHANNELS_TELEMETRY=console make run`).
- else off: nothing is imported or built, and events pay nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from shared.core import telemetry

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
LOCAL_SWITCH = "CHANNELS_TELEMETRY"  # "console"
LOGGER = "channels"  # the runtime's loggers (and the app's, through services.logger)

_configured: list[str] = []  # once per process: providers can be set only once


def configure(environ: Mapping[str, str] | None = None) -> str | None:
    """Switch telemetry on as the settings say; the exporter chosen, or None when off."""
    if _configured:
        return _configured[0]
    env = os.environ if environ is None else environ
    if env.get(CONNECTION_STRING):
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(
            connection_string=env[CONNECTION_STRING],
            logger_name=LOGGER,
            # the app makes no calls these would see; Azure SDK tracing stays on
            instrumentation_options={
                name: {"enabled": False}
                for name in (
                    "django",
                    "fastapi",
                    "flask",
                    "httpx",
                    "httpx2",
                    "psycopg2",
                    "requests",
                    "urllib",
                    "urllib3",
                )
            },
        )
        chosen = "azure-monitor"
    elif env.get(LOCAL_SWITCH, "").lower() == "console":
        _console()
        chosen = "console"
    else:
        return None
    telemetry.switch_on()
    _configured.append(chosen)
    return chosen


def trace_azure_sdk_calls() -> None:
    """Make the Azure SDKs' spans (Table Storage, Web PubSub REST) children of ours."""
    from azure.core.settings import settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    settings.tracing_implementation = OpenTelemetrySpan


def _console() -> None:
    from opentelemetry import metrics, trace
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, ConsoleLogRecordExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": "channels"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=sys.stderr), export_interval_millis=10_000
    )
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader], resource=resource))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(ConsoleLogRecordExporter(out=sys.stderr))
    )
    set_logger_provider(logger_provider)
    logging.getLogger(LOGGER).addHandler(LoggingHandler(logger_provider=logger_provider))
    trace_azure_sdk_calls()
