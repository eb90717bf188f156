"""The chat page in headless Chromium (Debian's), through the whole local stack.

With CI set the test must run: a missing Chromium fails it instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from devstack.stack import LocalStack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a root user on a machine with no outside network (see the env notes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError(
            "CI needs Debian's chromium for the browser test (apt-get install chromium)"
        )
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def join(browser: Browser, stack: LocalStack, room: str, name: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{stack.host_url}/api/chat")
    await page.get_by_test_id("room").fill(room)
    await page.get_by_test_id("name").fill(name)
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("welcome")).to_have_text(f"Welcome to {room}!")
    await expect(page.get_by_test_id("status")).to_have_text(f"Connected as {name}.")
    return page


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("message").fill(text)
    await page.get_by_test_id("send").click()


async def test_two_pages_in_one_room_exchange_messages(browser: Browser, stack: LocalStack) -> None:
    ada = await join(browser, stack, "browser-room", "Ada")
    bob = await join(browser, stack, "browser-room", "Bob")
    await say(ada, "hello Bob")
    await expect(bob.get_by_test_id("chat-message").last).to_contain_text("Ada:hello Bob")
    await expect(ada.get_by_test_id("chat-message").last).to_contain_text("Ada:hello Bob")
    await say(bob, "hi Ada!")
    await expect(ada.get_by_test_id("chat-message").last).to_contain_text("Bob:hi Ada!")

    # a third member loads the history on joining
    cy = await join(browser, stack, "browser-room", "Cy")
    await expect(cy.get_by_test_id("chat-message")).to_have_count(2)

    # a page in another room sees none of it
    dee = await join(browser, stack, "elsewhere", "Dee")
    await say(ada, "only for browser-room")
    await expect(bob.get_by_test_id("chat-message").last).to_contain_text("only for browser-room")
    await expect(dee.get_by_test_id("chat-message")).to_have_count(0)


async def test_errors_are_shown_as_readable_messages(browser: Browser, stack: LocalStack) -> None:
    page = await join(browser, stack, "errors-room", "Eve")
    await page.evaluate("document.getElementById('message').removeAttribute('maxlength')")
    await say(page, "x" * 2001)
    await expect(page.get_by_test_id("error").last).to_have_text(
        "ValidationError 422 (sendMessage): invalid input: message: String should have at most 2000 characters"
    )
    # a bad room is refused before connecting, with the field named
    await page.get_by_test_id("room").fill("no spaces allowed")
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("error").last).to_contain_text("invalid opening data: room")
    await expect(page.get_by_test_id("status")).to_have_text("Could not connect.")
