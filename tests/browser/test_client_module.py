"""The generated TypeScript client, compiled to ES modules and served at /api/client/api.js,
runs in a page in real Chromium (its own WebSocket and fetch) through the whole local stack."""

from __future__ import annotations

import uuid

import aiohttp
from playwright.async_api import Browser

from devstack.stack import LocalStack
from tests.browser.test_chat_page import browser

__all__ = ["browser"]  # the module-scoped Chromium fixture

SEED_FLOW = """
async ([room]) => {
  const api = await import("/api/client/api.js");
  const base = location.origin;
  const ann = await api.guestToken(base, { name: "ann" });
  const bob = await api.guestToken(base, { name: "bob" });
  const annChat = await api.connect(base, "chat", { room }, {});
  const bobChat = await api.connect(base, "chat", { room }, { token: bob.token });
  const out = { welcome: annChat.welcome.welcome, annId: ann.userId };
  out.authenticated = (await annChat.authenticate({ token: ann.token })).authenticated;
  const heard = new Promise((resolve) => bobChat.on("message", resolve));
  const texts = ["one", "two", "three"];
  out.replies = (await Promise.all(texts.map((message) => annChat.sendMessage({ message }))))
    .map((r) => r.message);
  out.heard = (await heard).message;
  out.history = (await bobChat.history({ limit: 10 })).messages.map((m) => m.userId + ":" + m.message);
  try {
    await annChat.history({ limit: 0 });
  } catch (error) {
    out.error = [error instanceof api.ChannelCallError, error.errorName, error.status];
  }
  annChat.close();
  bobChat.close();
  return out;
}
"""


async def test_a_page_drives_the_seed_flow_with_the_served_client_module(
    browser: Browser, stack: LocalStack
) -> None:
    room = f"module-{uuid.uuid4().hex[:8]}"
    page = await browser.new_page()
    await page.goto(f"{stack.host_url}/api/chat")  # the page's origin serves the module
    result = await page.evaluate(SEED_FLOW, [room])
    assert result == {
        "welcome": f"Welcome to {room}!",
        "annId": result["annId"],
        "authenticated": True,
        "replies": ["one", "two", "three"],
        "heard": "one",
        "history": [f"{result['annId']}:{m}" for m in ("one", "two", "three")],
        "error": [True, "ValidationError", 422],
    }
    await page.close()


async def test_only_the_client_modules_are_served(stack: LocalStack) -> None:
    async with aiohttp.ClientSession() as http:
        for name, status in [("api.js", 200), ("runtime.js", 200), ("api.ts", 404), ("x", 404)]:
            async with http.get(f"{stack.host_url}/api/client/{name}") as response:
                assert response.status == status, name
                if status == 200:
                    assert response.content_type == "text/javascript"
