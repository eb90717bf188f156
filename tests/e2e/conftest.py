"""Fixtures of the end-to-end tests; the stack itself is tests/conftest.py's `stack`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from azure.data.tables.aio import TableServiceClient

from devstack.stack import LocalStack


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
