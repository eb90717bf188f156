"""The chat page, unchanged, in headless Chromium against `shared.local` (no Azure, no stack).

The same scenarios run against the Azure local stack in tests/browser/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from tests.local.conftest import Served
from tests.support.chromium import errors_are_readable, launch, require_chromium, two_pages_chat

require_chromium()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


async def test_two_pages_chat_through_the_plain_websocket_server(
    browser: Browser, server: Served
) -> None:
    await two_pages_chat(browser, server.url)


async def test_errors_are_shown_as_readable_messages(browser: Browser, server: Served) -> None:
    await errors_are_readable(browser, server.url)
