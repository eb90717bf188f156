"""Fixtures of the Azure adapter tests: function_app.py driven by mocked trigger payloads, against
Azurite (Table Storage) and a REST recorder standing in for Web PubSub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from azure.data.tables.aio import TableServiceClient

from devstack.rest_recorder import RestRecorder

Trigger = Callable[[str], Awaitable[dict[str, Any] | None]]
_indexed: dict[str, Any] = {}


def _functions(app: Any) -> dict[str, Any]:
    # FunctionApp.get_functions() indexes once; a second call fails on "duplicate" names.
    if not _indexed:
        _indexed.update({f.get_function_name(): f.get_user_function() for f in app.get_functions()})
    return _indexed


@pytest.fixture
async def triggers(
    app_settings: dict[str, str], recorder: RestRecorder
) -> AsyncIterator[dict[str, Any]]:
    """function_app.py's functions by name, with the runtime reading the test settings."""
    import function_app

    await function_app.runtime.reconfigure()
    recorder.calls.clear()
    recorder.fail_with = None
    yield _functions(function_app.app)
    await function_app.runtime.reconfigure()


@pytest.fixture
async def tables(app_settings: dict[str, str]) -> AsyncIterator[TableServiceClient]:
    async with TableServiceClient.from_connection_string(
        app_settings["AzureWebJobsStorage"]
    ) as client:
        yield client
