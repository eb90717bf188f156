"""A plain WebSocket chat client, as a browser would be: token, negotiate, connect, frames.

Every frame the client receives is kept in arrival order; `replies` holds the frames that
answer a routed action (they carry `action` or `error`), `presence` the room's join and leave
notices, `broadcasts` the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from shared.core.jwt_service import JwtService

TIMEOUT = 10.0  # bound on any single wait for a frame that should come
QUIET = 0.5  # how long "nothing more arrives" is watched for


async def guest(http: aiohttp.ClientSession, host_url: str, name: str) -> dict[str, Any]:
    """`{token, userId, name, expiresIn}`: a guest's user id is its own, the name for show."""
    async with http.post(f"{host_url}/api/token", json={"name": name}) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
    assert body["name"] == name and body["userId"].startswith("guest-")
    return body


async def guest_token(http: aiohttp.ClientSession, host_url: str, name: str) -> str:
    return str((await guest(http, host_url, name))["token"])


def signed_token(**claims: Any) -> str:
    """A token the stack accepts (tests/conftest.py pins its JWT_SECRET): a moderator's, say."""
    from tests.conftest import STACK_SETTINGS

    return JwtService(STACK_SETTINGS["JWT_SECRET"]).sign(claims)


async def negotiate(
    http: aiohttp.ClientSession, host_url: str, channel: str, room: str, token: str | None = None
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"channel": channel, "room": room}
    async with http.get(f"{host_url}/api/negotiate", params=params, headers=headers) as response:
        assert response.status == 200, await response.text()
        body: dict[str, str] = await response.json()
    return body


@dataclass
class ChatClient:
    name: str
    room: str
    token: str
    ws: ClientConnection
    user_id: str = ""
    replies: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    presence: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    broadcasts: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    frames: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                self.frames.append(frame)
                if "action" in frame or "error" in frame:
                    await self.replies.put(frame)
                elif frame.get("type") == "presence":
                    await self.presence.put(frame)
                else:
                    await self.broadcasts.put(frame)

    def start(self) -> None:
        self.reader = asyncio.create_task(self._read(), name=f"reader-{self.name}")

    async def send(self, action: str, **data: Any) -> None:
        await self.ws.send(json.dumps({"action": action, **data}))

    async def call(self, action: str, **data: Any) -> dict[str, Any]:
        """Send a routed frame and return the next reply frame."""
        await self.send(action, **data)
        return await self.reply()

    async def reply(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.replies.get(), TIMEOUT)

    async def broadcast(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.broadcasts.get(), TIMEOUT)

    async def notice(self) -> dict[str, Any]:
        """The next presence notice."""
        return await asyncio.wait_for(self.presence.get(), TIMEOUT)

    async def broadcasts_exactly(self, count: int) -> list[dict[str, Any]]:
        """The next `count` broadcast frames, then nothing more for QUIET seconds."""
        got = [await self.broadcast() for _ in range(count)]
        await asyncio.sleep(QUIET)
        extra = [self.broadcasts.get_nowait() for _ in range(self.broadcasts.qsize())]
        assert extra == [], f"{self.name} got unexpected frames {extra}"
        return got

    async def authenticate(self) -> None:
        assert await self.call("authenticate", token=self.token) == {
            "action": "authenticate",
            "authenticated": True,
        }

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, TIMEOUT)


async def join(
    http: aiohttp.ClientSession,
    host_url: str,
    room: str,
    name: str,
    *,
    authenticate: bool = True,
    bearer: bool = False,
    token: str | None = None,
    user_id: str | None = None,
) -> ChatClient:
    """Guest token -> negotiate (with it as Bearer when `bearer`) -> WebSocket -> welcome
    (-> authenticate). `token` and `user_id` join as that user instead of a new guest."""
    if token is None:
        issued = await guest(http, host_url, name)
        token, user_id = str(issued["token"]), str(issued["userId"])
    info = await negotiate(http, host_url, "chat", room, token if bearer else None)
    ws = await connect(info["url"], open_timeout=TIMEOUT)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert welcome == {"welcome": f"Welcome to {room}!"}
    client = ChatClient(name=name, room=room, token=token, ws=ws, user_id=user_id or "")
    client.start()
    if authenticate:
        await client.authenticate()
    return client
