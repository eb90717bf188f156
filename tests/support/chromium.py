"""Debian's Chromium under Playwright, and the chat page as a user drives it.

With CI set a browser test must run: a missing Chromium fails it instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

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


def require_chromium() -> str:
    """Chromium's path; skips the calling test module without it (fails under CI)."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError(
                "CI needs Debian's chromium for the browser test (apt-get install chromium)"
            )
        pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
    return CHROMIUM


async def launch() -> AsyncIterator[Browser]:
    """Body of a `browser` fixture: one headless Chromium for the module."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def join(browser: Browser, base_url: str, room: str, name: str) -> Page:
    """Open the chat page, join `room` as `name`, wait for the welcome and the session."""
    page = await browser.new_page()
    await page.goto(f"{base_url}/api/chat")
    await page.get_by_test_id("room").fill(room)
    await page.get_by_test_id("name").fill(name)
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("welcome")).to_have_text(f"Welcome to {room}!")
    await expect(page.get_by_test_id("status")).to_have_text(f"Connected as {name}.")
    return page


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("message").fill(text)
    await page.get_by_test_id("send").click()


async def two_pages_chat(browser: Browser, base_url: str) -> None:
    """Two pages in a room chat; a third loads the history; a page elsewhere sees nothing."""
    ada = await join(browser, base_url, "browser-room", "Ada")
    bob = await join(browser, base_url, "browser-room", "Bob")
    await say(ada, "hello Bob")
    await expect(bob.get_by_test_id("chat-message").last).to_contain_text("Ada:hello Bob")
    await expect(ada.get_by_test_id("chat-message").last).to_contain_text("Ada:hello Bob")
    await say(bob, "hi Ada!")
    await expect(ada.get_by_test_id("chat-message").last).to_contain_text("Bob:hi Ada!")

    # a third member loads the history on joining
    cy = await join(browser, base_url, "browser-room", "Cy")
    await expect(cy.get_by_test_id("chat-message")).to_have_count(2)

    # a page in another room sees none of it
    dee = await join(browser, base_url, "elsewhere", "Dee")
    await say(ada, "only for browser-room")
    await expect(bob.get_by_test_id("chat-message").last).to_contain_text("only for browser-room")
    await expect(dee.get_by_test_id("chat-message")).to_have_count(0)


async def errors_are_readable(browser: Browser, base_url: str) -> None:
    """A refused message and a refused room, each shown as a readable line."""
    page = await join(browser, base_url, "errors-room", "Eve")
    await page.evaluate("document.getElementById('message').removeAttribute('maxlength')")
    await say(page, "x" * 2001)
    await expect(page.get_by_test_id("error").last).to_have_text(
        "ValidationError 422 (sendMessage): invalid input: message: "
        "String should have at most 2000 characters"
    )
    # a bad room is refused before connecting, with the field named
    await page.get_by_test_id("room").fill("no spaces allowed")
    await page.get_by_test_id("join").click()
    await expect(page.get_by_test_id("error").last).to_contain_text("invalid opening data: room")
    await expect(page.get_by_test_id("status")).to_have_text("Could not connect.")
