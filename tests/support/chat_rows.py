"""Chat messages stored as sendMessage stores them: faster than its rate limit lets a client
send them, on any `Database` (memory or Table Storage)."""

from __future__ import annotations

from channels.chat import MESSAGES_TABLE, message_rows
from channels.models import RoomMessage
from shared.core.database import Database


async def store(db: Database, room: str, count: int, text: str, user: str = "ada") -> list[str]:
    """`count` messages a millisecond apart (timestamps 1000, 1001, ...); their ids, oldest
    first."""
    ids = []
    for n in range(count):
        message = RoomMessage(id=f"{room}-{n}", message=text, user_id=user, timestamp=1_000 + n)
        await db.transact(MESSAGES_TABLE, message_rows(room, message, message.timestamp * 1000))
        ids.append(message.id)
    return ids
