"""Test channels without a server, through the real dispatcher.

    async def test_welcome():
        env = ChannelTestEnvironment()
        alice = env.communicator("chat", room="general")
        assert (await alice.connect()).accepted
        assert await alice.receive_json() == {"welcome": "Welcome to general!"}
        await alice.send_json({"action": "authenticate", "token": env.token(userId="alice")})
        assert (await alice.receive_json())["authenticated"] is True

Connection state travels as the service carries it (states returned by one event come back
on the next), store, topics and database live in memory, and frames pushed with
`channel.send` or a publish arrive in order with the replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any

from shared.core.database import MemoryDatabase
from shared.core.events import (
    Accept,
    ConnectedEvent,
    ConnectEvent,
    DataType,
    DisconnectedEvent,
    MessageEvent,
    Reject,
    Reply,
)
from shared.core.jwt_service import JwtService
from shared.core.runtime import assemble
from shared.core.services import AppServices, ServiceValues
from shared.core.stores import MemoryConnectionStore
from shared.core.transport import MemoryTransport
from shared.core.wiring import ChannelRegistry, default_registry

TEST_JWT_SECRET = "test-secret-for-channel-tests-only-0123456789"


@dataclass(frozen=True)
class ConnectResult:
    """A connect's outcome. Refused: `status` is what the client sees (401, 400 or 500, as on
    Azure Web PubSub), `app_status` the status the app refused with (403, say)."""

    accepted: bool
    status: int | None = None
    message: str | None = None
    app_status: int | None = None


class ChannelTestEnvironment:
    """One in-memory "service": every communicator made from it shares topics and storage."""

    def __init__(
        self,
        registry: ChannelRegistry | None = None,
        jwt_secret: str = TEST_JWT_SECRET,
        *,
        services: AppServices | None = None,
        overrides: ServiceValues | None = None,
        strict: bool = True,
    ) -> None:
        """`services`: the app's own services; `overrides` replaces some of them by name;
        `strict`: a frame that does not match its declared type fails (False: as production)."""
        self.registry = registry or default_registry
        self.store = MemoryConnectionStore()
        self.transport = MemoryTransport()
        self.database = MemoryDatabase()
        self.jwt = JwtService(jwt_secret)
        self.parts = assemble(
            self.registry,
            store=self.store,
            transport=self.transport,
            database=self.database,
            jwt=self.jwt,
            app_services=services,
            overrides=overrides,
            strict=strict,
        )
        self.dispatcher = self.parts.dispatcher
        self._ids = itertools.count(1)

    def token(self, expires_in: int = 3600, **claims: Any) -> str:
        return self.jwt.sign(claims, expires_in=expires_in)

    def communicator(
        self,
        channel: str,
        *,
        user_id: str | None = None,
        expires_at: int | None = None,
        **opening_data: str,
    ) -> ChannelCommunicator:
        """`user_id` and `expires_at`: as a negotiated access token gives them at connect."""
        return ChannelCommunicator(
            self, f"conn-{next(self._ids)}", channel, opening_data, user_id, expires_at
        )


class ChannelCommunicator:
    """One client connection driven through the dispatcher."""

    def __init__(
        self,
        env: ChannelTestEnvironment,
        channel_id: str,
        channel: str,
        opening_data: dict[str, str],
        user_id: str | None,
        expires_at: int | None = None,
    ) -> None:
        self.env = env
        self.expires_at = expires_at
        self.channel_id = channel_id
        self.channel = channel
        self.opening_data = opening_data
        self.user_id = user_id
        self.states: dict[str, Any] = {}
        self.connected = False
        self._frames: asyncio.Queue[str] = asyncio.Queue()
        self._closing: asyncio.Task[None] | None = None
        env.transport.listen(
            channel_id, lambda _cid, text: self._frames.put_nowait(text), self._closed_by_service
        )

    def _closed_by_service(self, reason: str | None) -> None:
        # As Web PubSub: the socket closes, and its `disconnected` event (on_disconnect) comes
        # after the event that closed it, not inside it.
        self._closing = asyncio.get_running_loop().create_task(self.disconnect(reason))

    async def wait_closed(self, timeout: float = 1.0) -> str | None:  # noqa: ASYNC109
        """Wait until the server has closed this connection and its `disconnected` event has
        run; the close reason. Raises TimeoutError when the server did not close it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._closing is None:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the server did not close the connection")
            await asyncio.sleep(0.01)
        await asyncio.wait_for(asyncio.shield(self._closing), timeout)
        return self.env.transport.closed.get(self.channel_id)

    async def connect(self) -> ConnectResult:
        """The connect event, then (when accepted) the connected event, as the service does."""
        query = {"channel": [self.channel], **{k: [v] for k, v in self.opening_data.items()}}
        result = await self.env.dispatcher.dispatch(
            ConnectEvent(self.channel_id, query, self.user_id, dict(self.states), self.expires_at)
        )
        if isinstance(result, Reject):
            self.env.transport.forget(self.channel_id)
            return ConnectResult(False, result.client_status, result.message, result.status)
        assert isinstance(result, Accept)
        self.states.update(result.states)
        for topic in result.topics:  # joined as the connection opens, as the service does
            await self.env.transport.subscribe(topic, self.channel_id)
        self.connected = True
        if result.user_id:  # the service knows the connection's user from now on
            self.env.transport.users[self.channel_id] = result.user_id
        for topic in result.topics:
            await self.env.transport.subscribe(topic, self.channel_id)
        await self.env.dispatcher.dispatch(
            ConnectedEvent(self.channel_id, self.user_id, dict(self.states))
        )
        return ConnectResult(True)

    async def send_text(self, text: str) -> None:
        await self._message(text, DataType.TEXT)

    async def send_json(self, data: Any) -> None:
        await self._message(json.dumps(data), DataType.JSON)

    async def send_bytes(self, data: bytes) -> None:
        await self._message(data.decode("utf-8", errors="replace"), DataType.BINARY)

    async def _message(self, data: str, data_type: DataType) -> None:
        if not self.connected:
            raise RuntimeError("the connection is not open: connect first (or it was closed)")
        result = await self.env.dispatcher.dispatch(
            MessageEvent(self.channel_id, data, data_type, self.user_id, dict(self.states))
        )
        if isinstance(result, Reply):
            self.states.update(result.states)
            if result.frame is not None:
                self._frames.put_nowait(json.dumps(result.frame))

    async def receive_json(self, timeout: float = 1.0) -> Any:  # noqa: ASYNC109 - as in Channels
        return json.loads(await asyncio.wait_for(self._frames.get(), timeout))

    def receive_nothing(self) -> bool:
        """True when no frame is waiting."""
        return self._frames.empty()

    async def disconnect(self, reason: str | None = None) -> None:
        if self.connected:
            self.connected = False
            await self.env.dispatcher.dispatch(
                DisconnectedEvent(self.channel_id, reason, self.user_id, dict(self.states))
            )
        self.env.transport.forget(self.channel_id)
