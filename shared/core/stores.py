"""Connection records: the channel, opening data, session and state of each live connection.

The store is the truth, so any instance can serve any event. `MemoryConnectionStore` serves one
process (the test harness, the plain WebSocket server); shared/azure/stores.py keeps them in
Table Storage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

UNCONFIRMED_WINDOW = timedelta(minutes=2)
"""A new record is first checked against the service this long after its connect (the
connect -> connected handshake fits well inside); see shared/core/sweep.py."""

SESSION_GRACE = timedelta(minutes=5)
"""A session whose token expired this long ago, and was not renewed, ends its connection: the
sweep closes it (a client still sending is told 401 at once, and may re-authenticate)."""


def session_end(session: dict[str, Any] | None) -> datetime | None:
    """When the sweep should close a connection for its session: its token's expiry plus the
    grace; None when the session does not expire (or there is none)."""
    expires = (session or {}).get("expiresAt")
    if not isinstance(expires, int | float):
        return None
    return datetime.fromtimestamp(expires, UTC) + SESSION_GRACE


@dataclass(frozen=True)
class ConnectionRecord:
    """What is kept of one connection between its events."""

    channel_id: str
    channel: str
    opening_data: dict[str, Any]
    session: dict[str, Any] | None = None
    user_id: str | None = None
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: Any = None  # the channel's state (JSON), `channel.set_state`
    pending: tuple[Any, ...] = ()  # frames from on_connect, delivered on `connected`
    # When the sweep should next ask the service whether the connection is still there.
    check_after: datetime | None = None

    def __post_init__(self) -> None:
        if self.check_after is None:
            first = self.connected_at + UNCONFIRMED_WINDOW
            ends = session_end(self.session)
            object.__setattr__(self, "check_after", min(first, ends) if ends else first)


class ConnectionStore(Protocol):
    async def get(self, channel_id: str) -> ConnectionRecord | None: ...
    async def put(self, record: ConnectionRecord) -> None: ...
    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None:
        """Keep the session; one that expires brings the record's check to its end, so the
        sweep closes a connection whose session ran out (the same write)."""

    async def save_state(self, channel_id: str, state: Any) -> None: ...
    async def delete(self, channel_id: str) -> None: ...
    def due_for_check(self, now: datetime) -> AsyncIterator[str]:
        """Ids of records whose `check_after` has passed (the sweep's work list)."""

    async def checked(self, channel_id: str, next_check: datetime) -> None:
        """The service still has the connection: leave it alone until `next_check`."""


class MemoryConnectionStore:
    """In-process store for the test harness (a single process has nothing to share)."""

    def __init__(self) -> None:
        self.records: dict[str, ConnectionRecord] = {}

    async def get(self, channel_id: str) -> ConnectionRecord | None:
        return self.records.get(channel_id)

    async def put(self, record: ConnectionRecord) -> None:
        self.records[record.channel_id] = record

    async def save_session(self, channel_id: str, session: dict[str, Any] | None) -> None:
        record = self.records.get(channel_id)
        if record is not None:
            ends = session_end(session)
            check = ends if ends else record.check_after
            self.records[channel_id] = replace(record, session=session, check_after=check)

    async def save_state(self, channel_id: str, state: Any) -> None:
        record = self.records.get(channel_id)
        if record is not None:
            self.records[channel_id] = replace(record, state=state)

    async def delete(self, channel_id: str) -> None:
        self.records.pop(channel_id, None)

    async def due_for_check(self, now: datetime) -> AsyncIterator[str]:
        due = [r.channel_id for r in self.records.values() if _due(r, now)]
        for channel_id in due:
            yield channel_id

    async def checked(self, channel_id: str, next_check: datetime) -> None:
        record = self.records.get(channel_id)
        if record is not None:
            self.records[channel_id] = replace(record, check_after=next_check)


def _due(record: ConnectionRecord, now: datetime) -> bool:
    return record.check_after is not None and record.check_after < now
