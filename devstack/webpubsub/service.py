"""The emulated service: hubs, connection lifecycle, and events raised upstream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Coroutine
from typing import Any

from .config import EmulatorConfig, UpstreamConfig
from .connection import Connection, ConnectionState
from .hub import Hub
from .messages import disconnected_message
from .upstream import (
    SYSTEM_PREFIX,
    USER_PREFIX,
    EventContext,
    EventResult,
    UpstreamClient,
    UpstreamError,
    merge_states,
)

log = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000
POLICY_VIOLATION = 1008


def new_connection_id() -> str:
    return secrets.token_urlsafe(16)


class Service:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.hubs: dict[str, Hub] = {}
        self.upstream = UpstreamClient(
            config.access_key,
            config.public_host,
            config.upstream_timeout,
            config.upstream_concurrency,
        )
        self._background: set[asyncio.Task[None]] = set()
        self.stopping = False

    def hub(self, name: str) -> Hub:
        key = name.lower()
        hub = self.hubs.get(key)
        if hub is None:
            hub = self.hubs[key] = Hub(name)
        return hub

    def find(self, hub: str, connection_id: str) -> Connection | None:
        return self.hub(hub).connections.get(connection_id)

    def handler(self, hub: str) -> UpstreamConfig | None:
        return self.config.upstream_for(hub)

    async def close(self) -> None:
        self.stopping = True
        for hub in self.hubs.values():
            for connection in list(hub.connections.values()):
                connection.inbox.close()
                connection.close_socket(1001, "The service is stopping")
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.upstream.close()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- events -----------------------------------------------------------------------

    @staticmethod
    def context(connection: Connection) -> EventContext:
        return EventContext(
            hub=connection.hub,
            connection_id=connection.id,
            user_id=connection.user_id,
            subprotocol=connection.subprotocol,
            states=connection.states,
        )

    async def user_event(
        self, connection: Connection, event_name: str, body: bytes, content_type: str
    ) -> EventResult | None:
        """Raise a blocking user event; None when no handler takes it."""
        handler = self.handler(connection.hub)
        if handler is None or not handler.handles_user_event(event_name):
            return None
        result = await self.upstream.send(
            handler.url,
            self.context(connection),
            ce_type=USER_PREFIX + event_name,
            event_name=event_name,
            body=body,
            content_type=content_type,
        )
        if result.ok:
            connection.states = merge_states(connection.states, result.states)
        return result

    def fire_connected(self, connection: Connection) -> None:
        handler = self.handler(connection.hub)
        if handler is None or "connected" not in handler.system_events:
            return
        connection.connected_event = self.spawn(
            self._system_event(handler, self.context(connection), "connected", {})
        )

    def _fire_disconnected(self, connection: Connection, reason: str) -> None:
        handler = self.handler(connection.hub)
        if handler is None or "disconnected" not in handler.system_events:
            return
        context = self.context(connection)
        previous = connection.connected_event

        async def raise_after_connected() -> None:
            # Keep the order a handler expects: `connected` done before `disconnected`.
            if previous is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(previous), self.config.upstream_timeout)
            await self._system_event(handler, context, "disconnected", {"reason": reason})

        self.spawn(raise_after_connected())

    async def _system_event(
        self, handler: UpstreamConfig, context: EventContext, name: str, body: dict[str, Any]
    ) -> None:
        try:
            result = await self.upstream.send(
                handler.url,
                context,
                ce_type=SYSTEM_PREFIX + name,
                event_name=name,
                body=json.dumps(body).encode(),
                content_type="application/json; charset=utf-8",
            )
        except UpstreamError as exc:
            log.warning("%s event for %s failed: %s", name, context.connection_id, exc)
            return
        if not result.ok:
            log.warning(
                "%s event for %s answered %s: %s",
                name,
                context.connection_id,
                result.status,
                result.body[:200].decode(errors="replace"),
            )

    # -- lifecycle --------------------------------------------------------------------

    def finalize(self, connection: Connection, reason: str) -> None:
        """The connection is gone for good: leave the hub, raise `disconnected` once."""
        if connection.state is ConnectionState.CLOSED:
            return
        connection.state = ConnectionState.CLOSED
        connection.inbox.close()
        if connection.grace_timer is not None:
            connection.grace_timer.cancel()
            connection.grace_timer = None
        self.hub(connection.hub).remove(connection)
        if not self.stopping:
            self._fire_disconnected(connection, reason)

    def close_connection(
        self, connection: Connection, reason: str, code: int = NORMAL_CLOSURE
    ) -> None:
        """Server-side close: tell a JSON client why, close the socket, finalize."""
        final = disconnected_message(reason) if connection.is_json else None
        connection.close_socket(code, reason, final)
        self.finalize(connection, reason)

    def socket_lost(self, connection: Connection, reason: str) -> None:
        """A reliable connection's socket dropped: wait the grace period for recovery."""
        connection.detach()
        if connection.state is not ConnectionState.DETACHED:
            return

        def expire() -> None:
            if connection.state is ConnectionState.DETACHED:
                self.finalize(connection, reason)

        loop = asyncio.get_running_loop()
        connection.grace_timer = loop.call_later(self.config.grace_period, expire)

    def overflow(self, connection: Connection) -> None:
        self.close_connection(
            connection, "Too many messages are waiting for the client's sequenceAck"
        )
