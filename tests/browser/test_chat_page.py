"""The chat page in headless Chromium (Debian's), through the whole local stack: chatting,
presence, two guests of one name, Unicode names, small screens (screenshots in
test-output/browser, or $TEST_OUTPUT_DIR), and reconnecting after a drop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient
from playwright.async_api import Browser, Page, Route, expect

from devstack.stack import LocalStack
from shared.azure.database import TableDatabase
from shared.azure.tables import TableStorage
from tests.conftest import STACK_SETTINGS
from tests.support import chat_rows
from tests.support.chromium import (
    errors_are_readable,
    launch,
    messages,
    require_chromium,
    say,
    two_pages_chat,
    user_id,
)
from tests.support.chromium import join as join_page

pytestmark = pytest.mark.e2e

require_chromium()

OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR", Path(__file__).parents[2] / "test-output"))
SCREENSHOTS = OUTPUT / "browser"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async for launched in launch():
        yield launched


async def join(
    browser: Browser, stack: LocalStack, room: str, name: str, viewport: Any = None
) -> Page:
    return await join_page(browser, stack.host_url, room, name, viewport)


async def test_two_pages_in_one_room_exchange_messages(browser: Browser, stack: LocalStack) -> None:
    await two_pages_chat(browser, stack.host_url)


async def test_errors_are_shown_as_readable_messages(browser: Browser, stack: LocalStack) -> None:
    await errors_are_readable(browser, stack.host_url)


async def test_members_and_join_and_leave_notices(browser: Browser, stack: LocalStack) -> None:
    ada = await join(browser, stack, "members-room", "Ada")
    bob = await join(browser, stack, "members-room", "Bob")
    await expect(ada.get_by_test_id("notice").last).to_have_text("Bob joined.")
    await expect(ada.get_by_test_id("members").locator("li")).to_have_text(["Ada (you)", "Bob"])
    await expect(bob.get_by_test_id("members").locator("li")).to_have_text(["Ada", "Bob (you)"])
    await bob.get_by_test_id("leave").click()
    await expect(bob.get_by_test_id("status")).to_have_text("You left the room.")
    await expect(ada.get_by_test_id("notice").last).to_have_text("Bob left.")
    await expect(ada.get_by_test_id("members").locator("li")).to_have_text(["Ada (you)"])


async def test_two_guests_named_alike_are_two_people(browser: Browser, stack: LocalStack) -> None:
    first = await join(browser, stack, "alice-room", "Alice")
    second = await join(browser, stack, "alice-room", "Alice")
    first_id, second_id = await user_id(first), await user_id(second)
    assert first_id != second_id
    await say(second, "I am the other Alice")
    seen_by_first = messages(first, "I am the other Alice")
    await expect(seen_by_first).to_have_attribute("data-mine", "false")
    await expect(seen_by_first).to_have_attribute("data-user-id", second_id)
    await expect(seen_by_first.locator(".tag")).to_have_text("#" + second_id[-4:])
    await say(first, "and I am the first")
    await expect(messages(second, "and I am the first")).to_have_attribute("data-mine", "false")
    await expect(messages(first, "and I am the first")).to_have_attribute("data-mine", "true")
    await expect(messages(first, "and I am the first").locator(".tag")).to_have_text("(you)")


async def test_unicode_names_are_welcome_and_a_bad_one_is_explained(
    browser: Browser, stack: LocalStack
) -> None:
    zoe = await join(browser, stack, "names-room", "Zoë")
    await say(zoe, "hej")
    await expect(messages(zoe, "hej").locator(".who")).to_have_text("Zoë")
    await zoe.get_by_test_id("name").fill("<script>")
    await zoe.get_by_test_id("join").click()
    await expect(zoe.get_by_test_id("error").last).to_have_text(
        "Please choose another name: a name can hold letters, digits, spaces and ' . - _ only, "
        "not < >."
    )


async def inside_viewport(page: Page, test_id: str) -> None:
    box = await page.get_by_test_id(test_id).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, (test_id, box)
    assert box["x"] + box["width"] <= size["width"], (test_id, box, size)
    assert box["y"] + box["height"] <= size["height"], (test_id, box, size)


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide in a {widths[1]} px viewport"


@pytest.mark.parametrize(
    ("width", "height"), [(320, 568), (375, 667), (1280, 800)], ids=["320", "375", "1280"]
)
async def test_the_page_fits_the_screen_with_every_control_reachable(
    browser: Browser, stack: LocalStack, width: int, height: int
) -> None:
    room = f"screen-{width}"
    other = await join(browser, stack, room, "Bob")
    page = await join(browser, stack, room, "Ada", {"width": width, "height": height})
    await say(other, "a long word: " + "supercalifragilistic" * 6)
    await say(page, "hello from a small screen")
    await expect(messages(page)).to_have_count(2)
    for test_id in ("join", "send", "message", "room", "name", "history", "leave"):
        await inside_viewport(page, test_id)
    await no_horizontal_scroll(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"chat-{width}x{height}.png")


async def test_the_page_reconnects_after_a_drop_and_shows_each_message_once(
    browser: Browser, stack: LocalStack
) -> None:
    ada = await join(browser, stack, "drop-room", "Ada")
    bob = await join(browser, stack, "drop-room", "Bob", {"width": 375, "height": 667})
    await say(ada, "before the drop")
    await expect(messages(bob, "before the drop")).to_have_count(1)

    # Bob's page may not negotiate again until Ada has sent while it was away.
    away = asyncio.Event()

    async def held(route: Route) -> None:
        await away.wait()
        await route.continue_()

    await bob.route("**/api/negotiate**", held)
    # The emulator drops Bob's socket (the service SDK's close, on Bob's user topic).
    service = WebPubSubServiceClient.from_connection_string(
        stack.webpubsub_connection_string, hub=STACK_SETTINGS["WebPubSubHub"]
    )
    async with service:
        await service.close_group_connections(f"user:{await user_id(bob)}", reason="dropped")
    await expect(bob.get_by_test_id("status")).to_contain_text("Reconnecting")
    await expect(bob.get_by_test_id("send")).to_be_disabled()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await bob.screenshot(path=SCREENSHOTS / "chat-reconnecting-375x667.png")
    await say(ada, "while Bob was away")
    await say(ada, "also while away")
    await expect(messages(ada, "also while away")).to_have_count(1)  # sent and stored
    away.set()

    await expect(bob.get_by_test_id("status")).to_have_text("Connected as Bob.", timeout=20_000)
    await expect(bob.get_by_test_id("history-note").last).to_have_text("2 messages you missed:")
    for text in ("before the drop", "while Bob was away", "also while away"):
        await expect(messages(bob, text)).to_have_count(1)
    await say(ada, "after the return")
    await expect(messages(bob, "after the return")).to_have_count(1)
    await say(bob, "I am back")
    await expect(messages(ada, "I am back")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await bob.screenshot(path=SCREENSHOTS / "chat-after-reconnect.png")


async def test_a_retried_message_shows_once_and_two_alike_messages_show_twice(
    browser: Browser, stack: LocalStack
) -> None:
    ada = await join(browser, stack, "retry-room", "Ada")
    bob = await join(browser, stack, "retry-room", "Bob")
    # Bob's client retries a send with its id: stored once, published twice (at least once)
    for _ in range(2):
        await bob.evaluate("send({action: 'sendMessage', message: 'sent twice', id: 'retry-1'})")
    await say(bob, "then this")
    await expect(messages(ada, "then this")).to_have_count(1)  # both copies arrived before
    await expect(messages(ada, "sent twice")).to_have_count(1)
    await expect(messages(bob, "sent twice")).to_have_count(1)
    # Two messages alike in all but their id (same sender, text, millisecond) are two lines.
    twins = [
        {"type": "message", "id": f"twin-{n}", "userId": "guest-x", "message": "alike"}
        for n in (1, 2)
    ]
    for twin in twins:
        await ada.evaluate("(m) => onFrame({...m, timestamp: 1700000000000})", twin)
    await expect(messages(ada, "alike")).to_have_count(2)


async def test_earlier_messages_pages_back_to_the_first_message_then_says_there_are_none(
    browser: Browser, stack: LocalStack
) -> None:
    assert stack.storage_connection_string is not None
    storage = TableStorage.from_connection_string(stack.storage_connection_string)
    try:  # faster than the rate limit lets a page send them
        ids = await chat_rows.store(TableDatabase(storage), "paging-room", 120, "old news")
    finally:
        await storage.aclose()
    ada = await join(browser, stack, "paging-room", "Ada")
    lines = ada.get_by_test_id("chat-message")
    await expect(lines).to_have_count(50)  # the newest 50 on joining
    earlier = ada.get_by_test_id("history")
    for shown in (100, 120):
        await earlier.click()
        await expect(lines).to_have_count(shown)
    await expect(earlier).to_have_text("No earlier messages")
    await expect(earlier).to_be_disabled()
    # oldest first, top to bottom, each message once
    assert await lines.evaluate_all("(ls) => ls.map((l) => l.dataset.id)") == ids
    notes = ada.get_by_test_id("history-note")
    await expect(notes.first).to_have_text("20 earlier messages:")  # the oldest page, on top
