"""The chat page in headless Chromium (Debian's), through the whole local stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from devstack.stack import LocalStack
from tests.support.chromium import errors_are_readable, launch, require_chromium, two_pages_chat

pytestmark = pytest.mark.e2e

require_chromium()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


async def test_two_pages_in_one_room_exchange_messages(browser: Browser, stack: LocalStack) -> None:
    await two_pages_chat(browser, stack.host_url)


async def test_errors_are_shown_as_readable_messages(browser: Browser, stack: LocalStack) -> None:
    await errors_are_readable(browser, stack.host_url)
