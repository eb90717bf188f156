"""The user session of a connection (or of an HTTP request), persisted per connection."""

from __future__ import annotations

import time
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from shared.core.errors import BadRequestError
from shared.core.logs import CONTROL_CHARACTERS

SESSION_KEY = "channels_session"  # the connection URL's query key carrying negotiate's session


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` cannot identify a connection, or None when it can."""
    if not user_id:
        return "userId is empty"
    # A user id travels in HTTP headers (ce-userId) and log lines, where these end a line.
    found = CONTROL_CHARACTERS.search(user_id)
    if found:
        return f"userId has a control character ({found.group()!r}) at {found.start()}"
    return None


def check_user_id(user_id: str) -> str:
    """`user_id` itself; `BadRequestError` saying why when no connection can carry it."""
    problem = user_id_problem(user_id)
    if problem:
        raise BadRequestError(problem)
    return user_id


class Session(BaseModel):
    """Who is on the other end. Extra fields are kept, so apps can carry their own claims."""

    # defer_build: validators are made on first use, not at import (a cold start pays less)
    model_config = ConfigDict(
        extra="allow", alias_generator=to_camel, populate_by_name=True, defer_build=True
    )

    user_id: str
    role: str | None = None
    # left out of the stored copy when unset, so a session stays as small as it was
    name: str | None = Field(default=None, exclude_if=lambda v: v is None)  # for display only
    expires_at: int | None = Field(default=None, exclude_if=lambda v: v is None)  # epoch s

    def expired(self, now: float | None = None, leeway: int = 5) -> bool:
        """True once the token the session came from has expired (with the JWT check's leeway)."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) > self.expires_at + leeway

    @field_validator("user_id")
    @classmethod
    def _carriable(cls, user_id: str) -> str:
        problem = user_id_problem(user_id)
        if problem:
            raise ValueError(problem)
        return user_id


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
