"""The user session of a connection (or of an HTTP request), persisted per connection."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Session(BaseModel):
    """Who is on the other end. Extra fields are kept, so apps can carry their own claims."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)

    user_id: str
    role: str | None = None


class SessionSink(Protocol):
    async def save_session(self, session: Session | None) -> None: ...


class UserSession:
    """`services.user_session`: read, set or clear the session of the current connection.

    `set` and `clear` persist before they return, so the next event, on any instance, sees them.
    """

    def __init__(self, session: Session | None, sink: SessionSink | None = None) -> None:
        self._session = session
        self._sink = sink
        self.changed = False

    def get(self) -> Session | None:
        return self._session

    async def set(self, session: Session) -> None:
        if self._sink is not None:
            await self._sink.save_session(session)
        self._session = session
        self.changed = True

    async def clear(self) -> None:
        if self._sink is not None:
            await self._sink.save_session(None)
        self._session = None
        self.changed = True
