"""The chat channel: the seed's authenticate / sendMessage flow, rooms, presence, history,
broadcast.

Unlike the seed's connect-time example (channels/examples.py), a chat connection reads its
room only once it has authenticated: `authenticate` joins the room, so a socket nobody signed
in on receives nothing.
"""

from __future__ import annotations

import json
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
from shared.core.database import Database, Insert, newest_first_key
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

MESSAGES_TABLE = "messages"  # per room: the messages (msg-...) and their ids (id-...)
MESSAGE_KEYS = "msg-"
ID_KEYS = "id-"
HISTORY_REPLY_BYTES = 900_000  # a reply's messages stay well under the service's 1 MB
BROADCASTER_ROLES = frozenset({"admin", "moderator"})  # guests cannot broadcast
JOINED = "joined"  # the session's note of the room it joined, so a leave is told only then


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
    """Store the message and its id in one transaction, then publish. A retry with the same
    id stores nothing twice: it answers with the first try's message and publishes it again
    (at-least-once: receivers drop a message whose id they have seen)."""
    room = services.channel.opening_data.room
    message_id = data.id or uuid.uuid4().hex
    at_us = time.time_ns() // 1000  # the key orders by microsecond, the client sees ms
    sent = RoomMessage(
        id=message_id,
        message=data.message,
        user_id=session.user_id,
        name=session.name,
        timestamp=at_us // 1000,
    )
    try:
        await services.database.transact(MESSAGES_TABLE, message_rows(room, sent, at_us))
    except ConflictError:  # the id is stored: a retry, or someone else's id
        sent = await _first_try(services.database, room, message_id, session.user_id)
    await services.event_hub.publish(room_topic(room), services.channel.channel_id, sent)
    return MessageSent(id=message_id, message=sent.message, timestamp=sent.timestamp)


def message_rows(room: str, message: RoomMessage, at_us: int) -> list[Insert]:
    """A message's two rows in its room's partition, written together: the message under a
    newest-first key, and its id row (taken: a retry, or another user's id). Each holds the
    message's key, which history's cursor and a retry's read need."""
    key = MESSAGE_KEYS + newest_first_key(at_us, suffix=message.id)
    return [
        Insert(
            {"room": room, **message.model_dump(by_alias=True), "key": key},
            partition_key=room,
            row_key=key,
        ),
        Insert(
            {"userId": message.user_id, "key": key}, partition_key=room, row_key=id_key(message.id)
        ),
    ]


def id_key(message_id: str) -> str:
    """The row key of a message's id row: beside the messages, outside their key range."""
    return ID_KEYS + message_id


async def _first_try(db: Database, room: str, message_id: str, user_id: str) -> RoomMessage:
    """The message stored under this id, when this user stored it."""
    claim = await db.get(MESSAGES_TABLE, room, id_key(message_id))
    stored = None
    if claim is not None and claim.get("userId") == user_id:
        stored = await db.get(MESSAGES_TABLE, room, claim["key"])
    if stored is None:
        raise ConflictError(f"message id {message_id!r} is taken in this room; send a new one")
    return RoomMessage.model_validate(stored)


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


@channel_func(
    auth=True,
    docs=Docs(summary="A page of the room's messages, oldest first", tags=["chat"]),
)
async def history(services: ChannelServices[Room], data: HistoryRequest) -> History:
    """The newest `limit` messages before the cursor `before` (the newest of all without
    one) that fit in HISTORY_REPLY_BYTES; `next` is the cursor of the older page, if any."""
    room = services.channel.opening_data.room
    rows = await services.database.latest(  # one more than asked: are there older ones?
        MESSAGES_TABLE, room, data.limit + 1, prefix=MESSAGE_KEYS, after=data.before
    )
    newest_first = list(reversed(rows))
    page: list[RoomMessage] = []
    size = 0
    for row in newest_first[: data.limit]:
        message = RoomMessage.model_validate(row)
        # Counted as ASCII-escaped JSON (an emoji is 12 bytes): the largest form any hop gives
        # it (the Python worker's json.dumps escapes non-ASCII; the reply's data itself is
        # UTF-8), so the page stays under 1 MB whichever form the service counts.
        size += len(json.dumps(message.model_dump(by_alias=True, mode="json"))) + 1
        if size > HISTORY_REPLY_BYTES and page:
            break
        page.append(message)
    more = len(page) < len(newest_first)
    return History(
        messages=page[::-1],
        more=more,
        next=str(newest_first[len(page) - 1]["key"]) if more else None,
    )


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
        id=uuid.uuid4().hex,  # not stored: an id for receivers all the same
        message=data.message,
        user_id=session.user_id,
        name=session.name,
        timestamp=now_ms(),
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
