"""`services.event_hub`: topics over the realtime service's groups, presence and per-user delivery.

Subscribing adds a connection to a topic; publishing is one call, however many subscribers:
the service fans it out, no app code runs per subscriber.

Presence is built on the same groups: `join` subscribes and tells the topic's subscribers,
`leave` tells them a connection left, and `members` asks the service who is subscribed now,
so it holds across instances and after a crash (no table of who is where).

Every connection with a session is also in its user's topic (`user:<id>`): the dispatcher puts
it there when the session is set (at connect for a negotiate Bearer token, or by the
`authenticate` action), so `send_to_user` is one publish, whichever way the user signed in.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from pydantic_core import to_jsonable_python

from shared.core.errors import BadRequestError
from shared.core.stores import ConnectionStore
from shared.core.transport import Subscriber, Transport

MAX_TOPIC_LENGTH = 1024
USER_TOPIC_PREFIX = "user:"  # reserved: app code cannot subscribe a connection to a user's frames


def user_topic(user_id: str) -> str:
    return f"{USER_TOPIC_PREFIX}{user_id}"


def _check(topic: str) -> str:
    if not topic or len(topic) > MAX_TOPIC_LENGTH or topic.isspace():
        raise BadRequestError(f"topic must be 1 to {MAX_TOPIC_LENGTH} characters, not blank")
    if topic.startswith(USER_TOPIC_PREFIX):
        raise BadRequestError(f"topics starting '{USER_TOPIC_PREFIX}' are reserved: send_to_user")
    return topic


@dataclass(frozen=True)
class Member:
    """One user subscribed to a topic (`event_hub.members`)."""

    user_id: str
    connections: int  # how many of the user's connections are subscribed
    name: str | None = None  # the display name, when a session carries one


def presence_frame(
    event: Literal["join", "leave"], user_id: str, room: str, name: str | None = None
) -> dict[str, str]:
    frame = {"type": "presence", "event": event, "userId": user_id, "room": room}
    return {**frame, "name": name} if name else frame


class EventHub:
    def __init__(self, transport: Transport, store: ConnectionStore | None = None) -> None:
        """`store` names the users of connections the service knows no user of (`members`)."""
        self._transport = transport
        self._store = store

    async def subscribe(self, topic: str, channel_id: str) -> None:
        await self._transport.subscribe(_check(topic), channel_id)

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        await self._transport.unsubscribe(_check(topic), channel_id)

    async def publish(self, topic: str, exclude_channel_id: str | None, payload: object) -> None:
        """Send `payload` to every subscriber of `topic`; `None` excludes nobody."""
        frame = to_jsonable_python(payload, by_alias=True)
        await self._transport.publish(_check(topic), frame, exclude_channel_id)

    # -- per-user delivery -------------------------------------------------------------------

    async def send_to_user(self, user_id: str, payload: object) -> None:
        """Send `payload` to every open connection of `user_id`: one call to the service."""
        frame = to_jsonable_python(payload, by_alias=True)
        await self._transport.publish(user_topic(user_id), frame, None)

    async def bind_user(self, channel_id: str, old: str | None, new: str | None) -> None:
        """Move a connection between user topics when its session's user changes."""
        if old == new:
            return
        if old:
            await self._transport.unsubscribe(user_topic(old), channel_id)
        if new:
            await self._transport.subscribe(user_topic(new), channel_id)

    # -- presence ----------------------------------------------------------------------------

    async def join(
        self,
        topic: str,
        channel_id: str,
        user_id: str,
        *,
        room: str | None = None,
        name: str | None = None,
    ) -> None:
        """Subscribe, then tell the other subscribers:
        `{"type": "presence", "event": "join", "userId", "room"}` (`room` defaults to the topic).
        """
        await self.subscribe(topic, channel_id)
        frame = presence_frame("join", user_id, room or topic, name)
        await self._transport.publish(topic, frame, channel_id)

    async def leave(
        self,
        topic: str,
        channel_id: str,
        user_id: str,
        *,
        room: str | None = None,
        name: str | None = None,
        closed: bool = False,
    ) -> None:
        """Unsubscribe (not needed when the connection has `closed`: the service dropped it
        from its topics), then tell the subscribers `"event": "leave"`."""
        if not closed:
            await self.unsubscribe(topic, channel_id)
        frame = presence_frame("leave", user_id, room or topic, name)
        await self._transport.publish(_check(topic), frame, channel_id)

    async def members(self, topic: str) -> list[Member]:
        """Who is subscribed to `topic` now, one entry per user, from the service's list.

        A connection the service knows no user of (it authenticated after opening) is named
        by its connection record; one with neither is left out (it has no session).
        """
        subscribers = await self._transport.subscribers(_check(topic))
        users: list[tuple[str, str | None]] = [
            (s.user_id, None) for s in subscribers if s.user_id is not None
        ]
        unknown = [s for s in subscribers if s.user_id is None]
        if unknown and self._store is not None:
            users += [u for u in await asyncio.gather(*map(self._user_of, unknown)) if u]
        counts = Counter(user for user, _ in users)
        names = {user: name for user, name in users if name}
        return [Member(user, counts[user], names.get(user)) for user in sorted(counts)]

    async def _user_of(self, subscriber: Subscriber) -> tuple[str, str | None] | None:
        assert self._store is not None
        record = await self._store.get(subscriber.channel_id)
        session = record.session if record is not None else None
        user = session.get("userId") if session else None
        if not isinstance(user, str):
            return None
        name = session.get("name") if session else None
        return user, name if isinstance(name, str) else None
