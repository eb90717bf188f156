"""The chat channel: the seed's authenticate / sendMessage flow, rooms, history, broadcast."""

from __future__ import annotations

import time
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
    Room,
    RoomMessage,
    Sent,
    Token,
    Welcome,
)
from shared.core.errors import UnauthorizedError
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
    docs=Docs(summary="Send a message to the room", tags=["chat"], pushes=[RoomMessage]),
)
async def send_message(
    services: ChannelServices[Room], data: ChatMessage, session: Session
) -> Sent:
    room = services.channel.opening_data.room
    sent = RoomMessage(message=data.message, user_id=session.user_id, timestamp=now_ms())
    await services.database.insert(
        MESSAGES_TABLE, {"room": room, **sent.model_dump(by_alias=True)}, partition_key=room
    )
    await services.event_hub.publish(room_topic(room), services.channel.channel_id, sent)
    return Sent(message=sent.message, timestamp=sent.timestamp)


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


@channel_func(
    auth=True,
    docs=Docs(summary="Run a job, reporting progress", tags=["jobs"], pushes=[JobProcessing]),
)
async def process_job(services: ChannelServices[Room], data: Job) -> JobComplete:
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
    route="/chat",
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
