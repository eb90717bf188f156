"""One local stack (Azurite, Web PubSub emulator, Functions host with function_app.py) per run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from azure.data.tables.aio import TableServiceClient

from devstack.stack import LocalStack

# Whatever the environment of the run holds (other tests set app settings), the stack
# serves guest tokens on the hub these tests name.
SETTINGS = {"GUEST_LOGIN": "true", "WebPubSubHub": "channels"}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack(settings=SETTINGS) as running:
        yield running
        running.check()  # a child that died during the run fails the last test's teardown


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def tables(stack: LocalStack) -> AsyncIterator[TableServiceClient]:
    assert stack.storage_connection_string is not None
    async with TableServiceClient.from_connection_string(stack.storage_connection_string) as client:
        yield client


@pytest.fixture
def room() -> str:
    """A room no other test uses (the stack, and so history, is shared by the run)."""
    return f"room-{uuid.uuid4().hex[:10]}"
