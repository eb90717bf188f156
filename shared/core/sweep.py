"""Removing connection records that outlived their connection.

A record is written on `connect`; the service's `disconnected` event removes it. Some never
get that event: a client that aborts its handshake after `connect` was accepted, or a
disconnect the app could not receive (a host that was down). Anyone who can negotiate could
otherwise grow the store for good. The sweep, run on a timer, asks the service about each
record whose check is due: a connection the service no longer has goes through the normal
`disconnected` path (so `on_disconnect` runs and the record goes); one it still has is left
alone until its next check.

It also ends sessions with their tokens. A connection keeps its topics after its session's
token expires (the realtime service does not close it either), so it would go on receiving
what its user may no longer read. A frame from it is refused at once (401), and it may
authenticate again on the same socket; one whose session stays expired past `SESSION_GRACE`
(shared/core/stores.py) is told why and closed by the sweep, as ASP.NET Core SignalR's
CloseOnAuthenticationExpiration does. Its `disconnected` event then runs `on_disconnect`.

Cost: one existence call and one read per record per `recheck` interval (and one small
write), off the message path; a record is first checked `UNCONFIRMED_WINDOW`
(shared/core/stores.py) after its connect, and again when its session runs out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.core.dispatcher import Dispatcher
from shared.core.errors import ChannelError, UnauthorizedError
from shared.core.events import DisconnectedEvent
from shared.core.frames import error_frame
from shared.core.stores import session_end

RECHECK = timedelta(hours=1)
SWEPT_REASON = "swept: the realtime service no longer has this connection"
EXPIRED_REASON = "your session has expired: connect again with a new token"
EXPIRED = UnauthorizedError(EXPIRED_REASON)
BATCH = 50

log = logging.getLogger("channels.sweep")


@dataclass(frozen=True)
class SweepResult:
    """What one sweep of the connection records did."""

    checked: int
    removed: int
    failed: int
    ended: int = 0  # connections closed because their session had expired


async def sweep(
    dispatcher: Dispatcher, *, now: datetime | None = None, recheck: timedelta = RECHECK
) -> SweepResult:
    now = now or datetime.now(UTC)
    store, transport = dispatcher.store, dispatcher.transport
    due = [channel_id async for channel_id in store.due_for_check(now)]
    removed = failed = ended = 0

    async def one(channel_id: str) -> None:
        nonlocal removed, failed, ended
        try:
            if not await transport.connection_exists(channel_id):
                await dispatcher.dispatch(DisconnectedEvent(channel_id, SWEPT_REASON))
                removed += 1
                return
            record = await store.get(channel_id)
            ends = session_end(record.session) if record is not None else None
            if ends is not None and ends <= now:
                # told, then closed: the service's `disconnected` runs on_disconnect
                await transport.send(channel_id, error_frame(None, None, EXPIRED))
                await transport.close(channel_id, EXPIRED_REASON)
                ended += 1
            elif record is not None:
                await store.checked(channel_id, min(now + recheck, ends) if ends else now + recheck)
        except ChannelError as exc:  # the service or the store is down: try next time
            failed += 1
            log.warning("sweep could not check %s: %s", channel_id, exc.message)

    for start in range(0, len(due), BATCH):
        await asyncio.gather(*(one(channel_id) for channel_id in due[start : start + BATCH]))
    if due:
        log.info(
            "sweep: %d checked, %d removed, %d closed for an expired session, %d failed",
            len(due),
            removed,
            ended,
            failed,
        )
    return SweepResult(len(due), removed, failed, ended)
