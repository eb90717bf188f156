"""The chat channel: the seed's authenticate / sendMessage flow, rooms, presence, history,
broadcast.

Unlike the seed's connect-time example (channels/examples.py), a chat connection reads its
room only once it has authenticated: `authenticate` joins the room, so a socket nobody signed
in on receives nothing.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from channels.models import (
    Authenticated,
    Broadcast,
    ChatMessage,
    Direct,
    DirectMessage,
    History,
    HistoryRequest,
    Job,
    JobComplete,
    JobProcessing,
    Member,
    Members,
    MembersRequest,
    MessageSent,
    Room,
    RoomMessage,
    Sent,
    Token,
    Welcome,
)
from shared.core.database import Database, newest_first_key
from shared.core.errors import ConflictError, ForbiddenError, UnauthorizedError
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
HISTORY_REPLY_BYTES = 900_000  # a reply's messages stay well under the service's 1 MB
BROADCASTER_ROLES = frozenset({"admin", "moderator"})  # guests cannot broadcast
JOINED = "joined"  # the session's note of the room it joined, so a leave is told only then
MESSAGE_IDS_TABLE = "messageIds"  # per room, one row per message id: its row key, published?


def room_topic(room: str) -> str:
    return f"room:{room}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@channel_connection_func(docs=Docs(summary="Welcome a connection to its room", tags=["chat"]))
async def on_connect(services: ChannelServices[Room]) -> Welcome:
    room = services.channel.opening_data.room
    services.logger.info("User connected to room %s", room)
    session = services.user_session.get()
    if session is not None:  # signed in at negotiate (a Bearer token): a reader from the start
        await _join(services, session, room)
    return Welcome(welcome=f"Welcome to {room}!")


async def _join(services: ChannelServices[Room], session: Session, room: str) -> None:
    """Note the room in the session, join its topic and tell its members."""
    await services.user_session.set(session.model_copy(update={JOINED: room}))
    await services.event_hub.join(
        room_topic(room), services.channel.channel_id, session.user_id, room=room, name=session.name
    )


@channel_disconnection_func(docs=Docs(summary="Tell the room who left", tags=["chat"]))
async def on_disconnect(services: ChannelServices[Room], data: Room) -> None:
    services.logger.info("User disconnected from room %s", data.room)
    session = services.user_session.get()
    if session is not None and (session.model_extra or {}).get(JOINED) == data.room:
        # it had joined the room (a Bearer session alone has not); the service dropped it
        await services.event_hub.leave(
            room_topic(data.room),
            services.channel.channel_id,
            session.user_id,
            room=data.room,
            name=session.name,
            closed=True,
        )


@channel_func(
    auth=False,
    docs=Docs(
        summary="Authenticate a WebSocket connection", tags=["auth"], errors=[UnauthorizedError]
    ),
)
async def authenticate(services: ChannelServices[Room], data: Token) -> Authenticated:
    # verify: HS256 only, expiry required; UnauthorizedError saying why otherwise
    session = services.jwt.session(data.token)
    current = services.user_session.get()
    if current is not None and current.user_id != session.user_id:
        raise ForbiddenError("this connection belongs to another user: connect again to switch")
    room = services.channel.opening_data.room
    if current is None:  # first sign-in on this connection: join the room, tell its members
        await _join(services, session, room)
    else:  # renewed (an expired session, say): already a member, the session is new
        await services.user_session.set(session.model_copy(update={JOINED: room}))
    return Authenticated(authenticated=True)


@channel_func(auth=True, docs=Docs(summary="Who is in the room now", tags=["chat"]))
async def members(services: ChannelServices[Room], data: MembersRequest) -> Members:
    found = await services.event_hub.members(room_topic(services.channel.opening_data.room))
    return Members(
        members=[Member(user_id=m.user_id, connections=m.connections, name=m.name) for m in found]
    )


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
    sent = RoomMessage(
        message=data.message,
        user_id=session.user_id,
        name=session.name,
        timestamp=claim["timestamp"],
    )
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


@channel_func(
    auth=True,
    docs=Docs(
        summary="Send a message to every connection of one user", tags=["chat"], pushes=[Direct]
    ),
)
async def send_direct(
    services: ChannelServices[Room], data: DirectMessage, session: Session
) -> Sent:
    direct = Direct(
        message=data.message, user_id=session.user_id, name=session.name, timestamp=now_ms()
    )
    await services.event_hub.send_to_user(data.to, direct)  # one call, however many tabs
    return Sent(message=direct.message, timestamp=direct.timestamp)


@channel_func(auth=True, docs=Docs(summary="The room's last messages, oldest first", tags=["chat"]))
async def history(services: ChannelServices[Room], data: HistoryRequest) -> History:
    room = services.channel.opening_data.room
    rows = await services.database.latest(MESSAGES_TABLE, room, data.limit)
    messages = [RoomMessage.model_validate(row) for row in rows]
    # Bounded by bytes as well as count: Web PubSub refuses a message over 1 MB. The newest
    # messages are kept; `more` says older ones were left out.
    kept, size = 0, 0
    for message in reversed(messages):
        size += len(message.model_dump_json(by_alias=True).encode()) + 1
        if size > HISTORY_REPLY_BYTES:
            break
        kept += 1
    return History(messages=messages[len(messages) - kept :], more=kept < len(messages))


@func(
    auth=True,
    rate_limit="10/10s",
    docs=Docs(
        summary="Broadcast a message to all users in a room (admins and moderators)",
        tags=["chat"],
        errors=[ForbiddenError],
        pushes=[RoomMessage],
    ),
)
async def broadcast_to_room(services: Services, data: Broadcast, session: Session) -> None:
    if session.role not in BROADCASTER_ROLES:
        raise ForbiddenError(
            "broadcasting into a room needs the admin or moderator role; this session has "
            + (f"the role '{session.role}'" if session.role else "no role")
        )
    message = RoomMessage(
        message=data.message, user_id=session.user_id, name=session.name, timestamp=now_ms()
    )
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
    rate_limit="60/10s",  # every frame of a connection; sendMessage has its own, tighter
    on_connect=on_connect,
    on_disconnect=on_disconnect,
    on_message_wiring={
        "action": {
            "authenticate": {"func": authenticate},  # auth=False on the function
            "sendMessage": {"func": send_message, "rate_limit": "20/10s"},
            "sendDirect": {"func": send_direct, "rate_limit": "20/10s"},
            "members": members,
            "history": history,
            "broadcastToRoom": broadcast_to_room,
            "processJob": process_job,
        }
    },
    middleware=[audit],
    tags=["realtime"],
)
