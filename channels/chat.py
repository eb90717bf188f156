"""The chat channel: the seed's authenticate / sendMessage flow, rooms, history, broadcast."""

from __future__ import annotations

import time
import uuid
from typing import Any

from channels.models import (
    Authenticated,
    Broadcast,
    ChatMessage,
    History,
    HistoryRequest,
    Job,
    JobComplete,
    JobProcessing,
    MessageSent,
    Room,
    RoomMessage,
    Token,
    Welcome,
)
from shared.core.database import Database, newest_first_key
from shared.core.errors import ConflictError, UnauthorizedError
from shared.core.functions import (
    Docs,
    channel_connection_func,
    channel_disconnection_func,
    channel_func,
    func,
)
from shared.core.services import ChannelServices, Interaction, Next, Services
from shared.core.session import Session
from shared.core.wiring import wire_channel

MESSAGES_TABLE = "messages"
MESSAGE_IDS_TABLE = "messageIds"  # per room, one row per message id: its row key, published?


def room_topic(room: str) -> str:
    return f"room:{room}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@channel_connection_func(docs=Docs(summary="Welcome a connection and join its room", tags=["chat"]))
async def on_connect(services: ChannelServices[Room]) -> Welcome:
    room = services.channel.opening_data.room
    services.logger.info("User connected to room %s", room)
    await services.event_hub.subscribe(room_topic(room), services.channel.channel_id)
    return Welcome(welcome=f"Welcome to {room}!")


@channel_disconnection_func(docs=Docs(summary="Handle disconnections", tags=["chat"]))
async def on_disconnect(services: ChannelServices[Room], data: Room) -> None:
    # The service drops a closed connection from its groups: nothing to unsubscribe.
    services.logger.info("User disconnected from room %s", data.room)


@channel_func(
    auth=False,
    docs=Docs(
        summary="Authenticate a WebSocket connection", tags=["auth"], errors=[UnauthorizedError]
    ),
)
async def authenticate(services: ChannelServices[Room], data: Token) -> Authenticated:
    # verify: HS256 only, expiry required; UnauthorizedError saying why otherwise
    await services.user_session.set(services.jwt.session(data.token))
    return Authenticated(authenticated=True)


@channel_func(
    auth=True,
    docs=Docs(
        summary="Send a message to the room",
        tags=["chat"],
        errors=[ConflictError],
        pushes=[RoomMessage],  # what the room's other members receive (by topic)
    ),
)
async def send_message(
    services: ChannelServices[Room], data: ChatMessage, session: Session
) -> MessageSent:
    """Store, then publish. A retry with the same id after a failure stores nothing twice and
    finishes what the first try left undone; after a success it only replies again."""
    room = services.channel.opening_data.room
    message_id = data.id or uuid.uuid4().hex
    claim = await _claim(services.database, room, message_id, session.user_id)
    sent = RoomMessage(message=data.message, user_id=session.user_id, timestamp=claim["timestamp"])
    if not claim["published"]:
        row = {"room": room, "id": message_id, **sent.model_dump(by_alias=True)}
        await services.database.upsert(
            MESSAGES_TABLE, row, partition_key=room, row_key=claim["rowKey"]
        )
        await services.event_hub.publish(room_topic(room), services.channel.channel_id, sent)
        await services.database.merge(
            MESSAGE_IDS_TABLE, {"published": True}, partition_key=room, row_key=message_id
        )
    return MessageSent(id=message_id, message=sent.message, timestamp=sent.timestamp)


async def _claim(db: Database, room: str, message_id: str, user_id: str) -> dict[str, Any]:
    """The message's first-store record: its time and row key (newest first, then the id)."""
    now_us = time.time_ns() // 1000  # the key orders by microsecond, the client sees ms
    claim = {
        "rowKey": newest_first_key(now_us, suffix=message_id),
        "timestamp": now_us // 1000,
        "userId": user_id,
        "published": False,
    }
    try:
        await db.insert(MESSAGE_IDS_TABLE, claim, partition_key=room, row_key=message_id)
        return claim
    except ConflictError:
        earlier = await db.get(MESSAGE_IDS_TABLE, room, message_id)
    if earlier is None or earlier.get("userId") != user_id:
        raise ConflictError(f"message id {message_id!r} is taken in this room; send a new one")
    return earlier


@channel_func(auth=True, docs=Docs(summary="The room's last messages, oldest first", tags=["chat"]))
async def history(services: ChannelServices[Room], data: HistoryRequest) -> History:
    room = services.channel.opening_data.room
    rows = await services.database.latest(MESSAGES_TABLE, room, data.limit)
    return History(messages=[RoomMessage.model_validate(row) for row in rows])


@func(
    auth=True,
    docs=Docs(
        summary="Broadcast a message to all users in a room", tags=["chat"], pushes=[RoomMessage]
    ),
)
async def broadcast_to_room(services: Services, data: Broadcast, session: Session) -> None:
    message = RoomMessage(message=data.message, user_id=session.user_id, timestamp=now_ms())
    await services.event_hub.publish(room_topic(data.room), None, message)  # None: everyone


@channel_func(auth=True, docs=Docs(summary="Run a job, reporting progress", tags=["jobs"]))
async def process_job(services: ChannelServices[Room], data: Job) -> JobProcessing | JobComplete:
    # The declared output covers every frame it sends (channel.send is checked against it).
    await services.channel.send(JobProcessing(step="Loading data"))
    loaded = len(data.job_id)
    await services.channel.send(JobProcessing(step="Processing"))
    return JobComplete(result={"jobId": data.job_id, "items": loaded})


async def audit(services: Services, interaction: Interaction, next_: Next) -> Any:
    """The seed's auditMiddleware: one log line per call, with who and what."""
    who = interaction.session.user_id if interaction.session else "anonymous"
    services.logger.info("audit: %s %s by %s", interaction.channel, interaction.action, who)
    return await next_()


chat = wire_channel(
    name="chat",
    route="/chat/:room",  # GET /api/negotiate/chat/general: opening data {room: "general"}
    auth=True,  # every action needs a session unless it says otherwise
    on_connect=on_connect,
    on_disconnect=on_disconnect,
    on_message_wiring={
        "action": {
            "authenticate": {"func": authenticate},  # auth=False on the function
            "sendMessage": {"func": send_message},
            "history": history,
            "broadcastToRoom": broadcast_to_room,
            "processJob": process_job,
        }
    },
    middleware=[audit],
    tags=["realtime"],
)
