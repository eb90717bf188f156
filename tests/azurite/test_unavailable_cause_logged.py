"""Behind every "unavailable" answer, the log names the root cause (type and message)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

import function_app
from devstack.azurite import connection_string, free_port
from shared.azure.settings import Settings
from shared.core.errors import ServiceUnavailableError, cause_of
from tests.support import payloads


def test_cause_of_names_the_sdk_error_type_and_message() -> None:
    try:
        try:
            raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 1)")
        except OSError as exc:
            raise ServiceUnavailableError("table storage is unavailable") from exc
    except ServiceUnavailableError as exc:
        error = exc
    assert cause_of(error) == (
        " (cause: ConnectionRefusedError: Connect call failed ('127.0.0.1', 1))"
    )
    assert cause_of(ServiceUnavailableError("no cause")) == ""


async def test_a_storage_outage_logs_the_azure_error_behind_the_rejected_connect(
    triggers: dict[str, Any], app_settings: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    dead = Settings.from_env(
        {**app_settings, "AzureWebJobsStorage": connection_string(port=free_port())}
    )
    await function_app.runtime.reconfigure(dead)
    try:
        with caplog.at_level(logging.WARNING):
            rejected = await triggers["webpubsub_connect"](
                request=payloads.connect(
                    f"conn-{uuid.uuid4().hex[:8]}", {"channel": "chat", "room": "general"}
                )
            )
    finally:
        await function_app.runtime.reconfigure()
    assert rejected["errorMessage"] == "table storage is unavailable (connections)"
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert any("(cause: ServiceRequestError: " in line for line in lines), lines
