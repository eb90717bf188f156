from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.data.tables.aio import TableServiceClient

from devstack.azurite import Azurite
from shared.azure.database import TableDatabase
from shared.azure.tables import TableStorage


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
