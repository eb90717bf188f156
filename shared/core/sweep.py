"""Removing connection records that outlived their connection.

A record is written on `connect`; the service's `disconnected` event removes it. Some never
get that event: a client that aborts its handshake after `connect` was accepted, or a
disconnect the app could not receive (a host that was down). Anyone who can negotiate could
otherwise grow the store for good. The sweep, run on a timer, asks the service about each
record whose check is due: a connection the service no longer has goes through the normal
`disconnected` path (so `on_disconnect` runs and the record goes); one it still has is left
alone until its next check.

Cost: one existence call per record per `recheck` interval (and one small write), off the
message path; a record is first checked `UNCONFIRMED_WINDOW` (shared/core/stores.py) after
its connect.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.core.dispatcher import Dispatcher
from shared.core.errors import ChannelError
from shared.core.events import DisconnectedEvent

RECHECK = timedelta(hours=1)
SWEPT_REASON = "swept: the realtime service no longer has this connection"
BATCH = 50

log = logging.getLogger("channels.sweep")


@dataclass(frozen=True)
class SweepResult:
    """What one sweep of the connection records did."""

    checked: int
    removed: int
    failed: int


async def sweep(
    dispatcher: Dispatcher, *, now: datetime | None = None, recheck: timedelta = RECHECK
) -> SweepResult:
    now = now or datetime.now(UTC)
    store, transport = dispatcher.store, dispatcher.transport
    due = [channel_id async for channel_id in store.due_for_check(now)]
    removed = failed = 0

    async def one(channel_id: str) -> None:
        nonlocal removed, failed
        try:
            if await transport.connection_exists(channel_id):
                await store.checked(channel_id, now + recheck)
            else:
                await dispatcher.dispatch(DisconnectedEvent(channel_id, SWEPT_REASON))
                removed += 1
        except ChannelError as exc:  # the service or the store is down: try next time
            failed += 1
            log.warning("sweep could not check %s: %s", channel_id, exc.message)

    for start in range(0, len(due), BATCH):
        await asyncio.gather(*(one(channel_id) for channel_id in due[start : start + BATCH]))
    if due:
        log.info("sweep: %d checked, %d removed, %d failed", len(due), removed, failed)
    return SweepResult(len(due), removed, failed)
