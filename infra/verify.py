"""Prove that a deployed chat app works: `python infra/verify.py <base-url> [--token T]`.

It does what two users of the chat page do, through the whole real path (the app's HTTP API,
Web PubSub, the hub's event handler, the Functions host, Table Storage), with Microsoft's
Web PubSub client SDK. Each step prints one line, PASS or FAIL with the likely cause; nothing
secret is printed (no token, no client access URL, no key). Exit status 0 only when every step
passes. Needs Python 3.11 and infra/requirements-verify.txt.

Secrets come from the environment, not the command line:
  WEBPUBSUB_EXTENSION_KEY  the host's `webpubsub_extension` system key; Azure asks for it on
                           /runtime/webhooks/webpubsub (`az functionapp keys list`), the local
                           stack does not
  VERIFY_TOKEN             a session token (same as --token), when guest login is off
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from azure.messaging.webpubsubclient.aio import WebPubSubClient, WebPubSubClientCredential
from azure.messaging.webpubsubclient.models import CallbackType, WebPubSubDataType

TIMEOUT = 20.0  # bound on each wait for something that should come
QUIET = 1.0  # how long "nothing more arrives" is watched for
WEBHOOK = "/runtime/webhooks/webpubsub"
EVERY_EVENT_404 = (
    "every event 404: the webhook has no Web PubSub trigger on the instance that answered."
    " On Flex Consumption each webPubSubTrigger runs in its own function group"
    " (Azure/azure-functions-host#11493); redeploy with hostingPlan=ElasticPremium"
    " (infra/README.md)"
)
STEPS = (
    "negotiate",
    "webhook handshake",
    "join",
    "welcome",
    "sendMessage refused before authenticate",
    "authenticate",
    "sendMessage",
    "history",
    "broadcast",
)
Frame = dict[str, Any]


class StepFailed(Exception):
    """A step's FAIL line: the likely cause, never a secret."""


class Inbox:
    """What one client callback received, in order."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    async def add(self, item: Any) -> None:
        self.items.append(item)
        self._changed.set()

    async def find(self, match: Callable[[Any], bool], start: int = 0) -> Any:
        """The first item from `start` on that matches; StepFailed after TIMEOUT."""

        async def until() -> Any:
            while True:
                for item in self.items[start:]:
                    if match(item):
                        return item
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(until(), TIMEOUT)
        except TimeoutError:
            raise StepFailed(f"nothing arrived within {TIMEOUT:.0f}s") from None


class Member:
    """One user in the room: an SDK client and the server and group messages it received."""

    def __init__(self, name: str, url: Callable[[], Coroutine[Any, Any, str]]) -> None:
        self.name = name
        self.token = ""
        self.client = WebPubSubClient(WebPubSubClientCredential(url), start_timeout=TIMEOUT)
        self.server = Inbox()  # the channel's replies and sends
        self.group = Inbox()  # the room's broadcasts

    async def open(self) -> None:
        async def on_server(args: Any) -> None:
            await self.server.add(args.data)

        async def on_group(args: Any) -> None:
            await self.group.add(args.data)

        await self.client.subscribe(CallbackType.SERVER_MESSAGE, on_server)
        await self.client.subscribe(CallbackType.GROUP_MESSAGE, on_group)
        await self.client.open()

    async def call(self, action: str, **data: Any) -> Frame:
        """Send an action; the frame that answers it."""
        seen = len(self.server.items)
        frame = {"action": action, **data}
        await self.client.send_event("message", frame, WebPubSubDataType.JSON)
        answer: Frame = await self.server.find(
            lambda f: isinstance(f, dict) and f.get("action") == action, seen
        )
        return answer


def _is_message(text: str) -> Callable[[Any], bool]:
    return lambda f: isinstance(f, dict) and f.get("message") == text


class Verifier:
    """The steps, in order; each returns its PASS detail or raises StepFailed."""

    def __init__(
        self, base: str, http: aiohttp.ClientSession, token: str | None, key: str | None
    ) -> None:
        self.base = base.rstrip("/")
        self.http = http
        self.token = token
        self.key = key
        self.room = f"verify-{uuid.uuid4().hex[:8]}"
        self.service_host = ""
        self.handshake_status = 0
        self.members: list[Member] = []

    async def _json(self, response: aiohttp.ClientResponse) -> Frame:
        with contextlib.suppress(aiohttp.ContentTypeError, ValueError):
            body = await response.json()
            if isinstance(body, dict):
                return body
        return {}

    async def _negotiate(self) -> str:
        params = {"channel": "chat", "room": self.room}
        try:
            async with self.http.get(f"{self.base}/api/negotiate", params=params) as response:
                body = await self._json(response)
                status = response.status
        except aiohttp.ClientError as exc:
            raise StepFailed(
                f"cannot reach {self.base} ({type(exc).__name__}): is the URL right and the app"
                " running?"
            ) from None
        if status == 404:
            raise StepFailed(
                "no /api/negotiate: the code is not published (phase two), or this is not the"
                " app's URL"
            )
        if status != 200 or not isinstance(body.get("url"), str):
            error = str(body.get("error", "no JSON body"))[:200]
            raise StepFailed(f"answered {status}: {error} (an app setting? infra/README.md)")
        return str(body["url"])

    async def negotiate(self) -> str:
        url = await self._negotiate()
        self.service_host = urlsplit(url).hostname or ""
        return f"room {self.room} on Web PubSub {self.service_host}"

    async def handshake(self) -> str:
        params = {"code": self.key} if self.key else {}
        headers = {"WebHook-Request-Origin": self.service_host}
        url = f"{self.base}{WEBHOOK}"
        try:
            async with self.http.options(url, params=params, headers=headers) as response:
                status, allowed = response.status, response.headers.get("WebHook-Allowed-Origin")
        except aiohttp.ClientError as exc:
            raise StepFailed(f"cannot reach {WEBHOOK} ({type(exc).__name__})") from None
        self.handshake_status = status
        if status == 200 and allowed in ("*", self.service_host):
            return f"{WEBHOOK} allows origin {self.service_host}"
        if status == 401:
            raise StepFailed(
                f"{WEBHOOK} wants the host's webpubsub_extension system key: set"
                " WEBPUBSUB_EXTENSION_KEY (az functionapp keys list)"
                if not self.key
                else "WEBPUBSUB_EXTENSION_KEY is not the host's webpubsub_extension system key"
            )
        if status == 404:
            raise StepFailed(EVERY_EVENT_404)
        if status == 400:
            raise StepFailed(
                f"{WEBHOOK} refused origin {self.service_host}: no webPubSubTrigger is loaded,"
                " or WebPubSubConnectionString names another Web PubSub service"
            )
        raise StepFailed(f"{WEBHOOK} answered {status} (WebHook-Allowed-Origin {allowed!r})")

    async def join(self) -> str:
        for name in ("verify-a", "verify-b"):
            member = Member(name, self._negotiate)
            self.members.append(member)
            try:
                await member.open()
            except Exception:
                raise StepFailed(await self._refusal()) from None
        return f"two SDK clients in room {self.room}"

    async def _refusal(self) -> str:
        """Why the service refused the WebSocket: the upgrade's status says what the webhook
        answered to the connect event."""
        try:
            url = await self._negotiate()
            async with self.http.ws_connect(url, protocols=("json.webpubsub.azure.v1",)) as ws:
                await ws.close()
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 404:
                return f"the connect event got 404: {EVERY_EVENT_404}"
            if exc.status == 401:
                return (
                    "the webhook refused the connect event (401): the event handler's code= is"
                    " not the host's key (run phase three again), or the app's"
                    " WebPubSubConnectionString holds a regenerated key"
                )
            return (
                f"the service refused the WebSocket ({exc.status}): the hub has no event"
                " handler (phase three: event-handler.bicep) or the connect event failed"
            )
        except (aiohttp.ClientError, StepFailed, TimeoutError) as exc:
            return f"the WebSocket did not open ({type(exc).__name__})"
        return "the SDK client did not open, though a plain WebSocket did"

    async def welcome(self) -> str:
        want = {"welcome": f"Welcome to {self.room}!"}
        for member in self.members:
            try:
                await member.server.find(lambda f: f == want)
            except StepFailed as exc:
                raise StepFailed(f"{member.name}: no welcome frame ({exc})") from None
        return "both clients got the channel's welcome"

    async def refused(self) -> str:
        first = self.members[0]
        frame = await first.call("sendMessage", message="too early")
        if frame.get("status") != 401:
            raise StepFailed(f"sendMessage was not refused with a 401 frame: {sorted(frame)}")
        return f"401 {frame.get('errorName')}"

    async def _token(self, name: str) -> str:
        if self.token:
            return self.token
        url = f"{self.base}/api/token"
        async with self.http.post(url, json={"name": name}) as response:
            body = await self._json(response)
            status = response.status
        if status == 403:
            raise StepFailed("guest login is off: pass a session token with --token")
        if status != 200 or not isinstance(body.get("token"), str):
            raise StepFailed(f"POST /api/token answered {status}: {body.get('error')}")
        return str(body["token"])

    async def authenticate(self) -> str:
        for member in self.members:
            member.token = await self._token(member.name)
            frame = await member.call("authenticate", token=member.token)
            if frame.get("authenticated") is not True:
                cause = frame.get("error", "no error given")
                raise StepFailed(f"{member.name}: {cause} (JWT_SECRET? an expired --token?)")
        return "both clients have a session"

    async def send_message(self) -> str:
        sender, other = self.members
        text = f"hello from {self.room}"
        reply = await sender.call("sendMessage", message=text)
        if reply.get("message") != text or "error" in reply:
            raise StepFailed(f"sendMessage answered {reply.get('error') or sorted(reply)}")
        try:
            await other.group.find(_is_message(text))
        except StepFailed:
            raise StepFailed(
                f"{other.name} did not get the message: the room's group (event_hub publish)"
            ) from None
        await asyncio.sleep(QUIET)
        if any(_is_message(text)(f) for f in sender.group.items):
            raise StepFailed("the sender got its own message back")
        return f"{other.name} got it, {sender.name} did not"

    async def history(self) -> str:
        frame = await self.members[0].call("history")
        texts = [m.get("message") for m in frame.get("messages", []) if isinstance(m, dict)]
        if f"hello from {self.room}" not in texts:
            raise StepFailed(f"the sent message is not in history (Table Storage?): {texts}")
        return f"{len(texts)} message(s) in the room's history"

    async def broadcast(self) -> str:
        text = f"broadcast to {self.room}"
        headers = {"Authorization": f"Bearer {self.members[0].token}"}
        body = {"room": self.room, "message": text}
        async with self.http.post(
            f"{self.base}/api/broadcast", json=body, headers=headers
        ) as response:
            status, answer = response.status, await self._json(response)
        if status >= 300:
            raise StepFailed(f"POST /api/broadcast answered {status}: {answer.get('error')}")
        for member in self.members:
            try:
                await member.group.find(_is_message(text))
            except StepFailed:
                raise StepFailed(f"{member.name} did not get the broadcast") from None
        return "both clients got it"

    async def close(self) -> None:
        for member in self.members:
            with contextlib.suppress(Exception):
                await member.client.close()


async def verify(base: str, token: str | None, key: str | None, say: Callable[[str], None]) -> bool:
    """Run every step, printing one line each; True when all pass."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
        checker = Verifier(base, http, token, key)
        steps: list[Callable[[], Awaitable[str]]] = [
            checker.negotiate,
            checker.handshake,
            checker.join,
            checker.welcome,
            checker.refused,
            checker.authenticate,
            checker.send_message,
            checker.history,
            checker.broadcast,
        ]
        ok = True
        try:
            for index, (name, step) in enumerate(zip(STEPS, steps, strict=True)):
                try:
                    say(f"PASS {name}: {await step()}")
                except Exception as exc:  # one FAIL line whatever went wrong, never a traceback
                    cause = str(exc) if isinstance(exc, StepFailed) else _unexpected(exc)
                    say(f"FAIL {name}: {cause}")
                    ok = False
                    if name != "webhook handshake":  # the steps after it do not need it
                        for later in STEPS[index + 1 :]:
                            say(f"SKIP {later}: needs {name}")
                        break
        finally:
            await checker.close()
        return ok


def _unexpected(exc: Exception) -> str:
    # Only the type: the message of a client error can hold a URL with an access token.
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:.0f}s"
    return f"unexpected {type(exc).__name__} (the app's logs: Application Insights)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "base_url", help="the app's URL, e.g. https://func-chat-x.azurewebsites.net"
    )
    parser.add_argument(
        "--token", help="a session token, when guest login is off (or VERIFY_TOKEN)"
    )
    args = parser.parse_args(argv)
    # The SDK and aiohttp may log URLs that carry the client access token: keep them quiet.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    logging.getLogger("azure").propagate = False
    token = args.token or os.environ.get("VERIFY_TOKEN") or None
    key = os.environ.get("WEBPUBSUB_EXTENSION_KEY") or None
    ok = asyncio.run(verify(args.base_url, token, key, lambda line: print(line, flush=True)))
    print("verify: all steps passed" if ok else "verify: FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
