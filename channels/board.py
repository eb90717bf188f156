"""A notice board: the channel features beyond the seed's guide, in one small channel.

- `GET /api/negotiate/board/<room>`: the route's `:room` is opening data;
- on_connect decides: a private board refuses the connection (403), others join its topic
  (in the connect response: no call to the service) and get a welcome once open;
- per-connection state (`Seen`), typed and kept with the connection;
- frame middleware: drafts are dropped, a banned word is masked, on every frame sent;
- permissions: only a moderator may `clear`; anyone else gets a 403 frame;
- a typed topic: only a `Notice` can be published to a board;
- frames that name no known action, or are not JSON, reach on_message as text.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from channels.models import Authenticated, Model, Token, Welcome
from shared.core.errors import ForbiddenError
from shared.core.functions import Docs, channel_connection_func, channel_func
from shared.core.services import ChannelServices, FrameNext, Outgoing, Services
from shared.core.session import Session
from shared.core.topics import Topic
from shared.core.wiring import wire_channel

BANNED = re.compile(r"\bdarn\b", re.IGNORECASE)


class Board(Model):
    """Opening data: the `:room` of `/board/:room`."""

    room: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Seen(Model):
    """The channel state of one connection: how many notices it posted."""

    posts: int = Field(default=0, ge=0)


class Post(Model):
    text: str = Field(min_length=1, max_length=500)
    draft: bool = False


class Notice(Model):
    type: Literal["notice"] = "notice"
    text: str
    draft: bool = False


class Posted(Model):
    text: str
    posts: int


class Nothing(Model):
    pass


board_topic = Topic("board:{room}", Notice)


@channel_connection_func(docs=Docs(summary="Join a board; private boards refuse", tags=["board"]))
async def enter(services: ChannelServices[Board, Seen]) -> Welcome:
    room = services.channel.opening_data.room
    if room.startswith("private"):
        raise ForbiddenError("this board is private")
    await services.event_hub.subscribe(board_topic(room=room), services.channel.channel_id)
    await services.channel.set_state(Seen(posts=0))
    return Welcome(welcome=f"Welcome to the {room} board")


@channel_func(auth=False, docs=Docs(summary="Post a notice to the board", tags=["board"]))
async def post(services: ChannelServices[Board, Seen], data: Post) -> Posted:
    seen = services.channel.get_state() or Seen()
    seen = Seen(posts=seen.posts + 1)
    await services.channel.set_state(seen)
    room = services.channel.opening_data.room
    notice = Notice(text=data.text, draft=data.draft)
    await services.event_hub.publish(board_topic(room=room), None, notice)
    return Posted(text=data.text, posts=seen.posts)


@channel_func(auth=False, docs=Docs(summary="Sign in with a token", tags=["auth"]))
async def sign_in(services: Services, data: Token) -> Authenticated:
    await services.user_session.set(services.jwt.session(data.token))
    return Authenticated(authenticated=True)


@channel_func(auth=False, docs=Docs(summary="How many notices I posted", tags=["board"]))
async def seen(services: ChannelServices[Board, Seen], data: Nothing) -> Seen:
    return services.channel.get_state() or Seen()


def is_moderator(services: Services, data: Any, session: Session | None) -> bool:
    return session is not None and session.role == "moderator"


@channel_func(
    auth=False,
    permissions=[is_moderator],
    docs=Docs(summary="Clear the board (moderators)", tags=["board"], errors=[ForbiddenError]),
)
async def clear(services: ChannelServices[Board, Seen], data: Nothing) -> None:
    room = services.channel.opening_data.room
    await services.event_hub.publish(board_topic(room=room), None, Notice(text="cleared"))


@channel_func(auth=False, docs=Docs(summary="Anything else, as text", tags=["board"]))
async def chatter(services: ChannelServices[Board, Seen], data: str) -> dict[str, str]:
    return {"unrouted": data}


async def drop_drafts(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
    """A draft notice goes nowhere: the frame is dropped."""
    if isinstance(outgoing.frame, dict) and outgoing.frame.get("draft") is True:
        return
    await next_(outgoing.frame)


async def mask_banned_words(services: Services, outgoing: Outgoing, next_: FrameNext) -> None:
    """Every frame's `text` leaves with banned words masked: the frame is transformed."""
    frame = outgoing.frame
    if isinstance(frame, dict) and isinstance(frame.get("text"), str):
        frame = {**frame, "text": BANNED.sub("****", frame["text"])}
    await next_(frame)


board = wire_channel(
    name="board",
    route="/board/:room",
    auth=False,
    on_connect=enter,
    on_message=chatter,
    on_message_wiring={
        "action": {
            "authenticate": sign_in,
            "post": post,
            "seen": seen,
            "clear": clear,
        }
    },
    frame_middleware=[drop_drafts, mask_banned_words],
    tags=["board"],
)
