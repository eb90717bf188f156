"""Fixtures of the Azure adapter tests: function_app.py driven by mocked trigger payloads, against
Azurite (Table Storage) and a REST recorder standing in for Web PubSub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from azure.data.tables.aio import TableServiceClient

from devstack.azurite import Azurite
from devstack.rest_recorder import RestRecorder
from shared.azure.database import TableDatabase
from shared.azure.tables import TableStorage

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


@pytest.fixture
async def storage(azurite: Azurite) -> AsyncIterator[TableStorage]:
    """A TableStorage of its own (no table client cached yet), closed after the test."""
    storage = TableStorage.from_connection_string(azurite.connection_string)
    yield storage
    await storage.aclose()


@pytest.fixture
def table_database(storage: TableStorage) -> TableDatabase:
    return TableDatabase(storage)


@pytest.fixture
async def raw_tables(azurite: Azurite) -> AsyncIterator[TableServiceClient]:
    """The SDK with nothing of ours in front: what Azurite itself takes or refuses."""
    async with TableServiceClient.from_connection_string(azurite.connection_string) as client:
        yield client
