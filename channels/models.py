"""The chat app's input, output and opening data types."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class Model(BaseModel):
    """camelCase on the wire (as Pikku clients expect), snake_case in Python.

    `defer_build`: a model's validator is built when first used, not at import, so a cold
    start pays only for the models its first event touches.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


class Room(Model):
    """Opening data: `?room=general` on the connection URL."""

    room: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Token(Model):
    token: str = Field(min_length=1)


class Authenticated(Model):
    authenticated: bool


class Welcome(Model):
    welcome: str


MESSAGE_ID = r"^[A-Za-z0-9_-]+$"


class ChatMessage(Model):
    message: str = Field(min_length=1, max_length=2000)
    # The client's id for this message (a correlation id): sending it again never stores or
    # broadcasts the message twice. The server makes one when it is left out.
    id: str | None = Field(default=None, min_length=1, max_length=64, pattern=MESSAGE_ID)


class Echo(Model):
    message: str


class Sent(Model):
    message: str
    timestamp: int


class MessageSent(Model):
    """The reply to sendMessage: `id` is what a retry sends to be recognised."""

    id: str
    message: str
    timestamp: int


class RoomMessage(Model):
    """What every other member of the room receives: `userId` says who, `name` is for show.

    `id` is the message's id: a retried sendMessage publishes the same message again
    (at-least-once), so a receiver drops a message whose id it has shown."""

    type: Literal["message"] = "message"
    id: str
    message: str
    user_id: str
    name: str | None = Field(default=None, exclude_if=lambda v: v is None)  # display only
    timestamp: int


class DirectMessage(Model):
    to: str = Field(min_length=1, max_length=128)  # a user id
    message: str = Field(min_length=1, max_length=2000)


class Direct(Model):
    """What every open connection of the addressee receives."""

    type: Literal["direct"] = "direct"
    message: str
    user_id: str  # the sender
    name: str | None = Field(default=None, exclude_if=lambda v: v is None)
    timestamp: int


# A history cursor: opaque to clients (it is where the page ended in the room's messages).
CURSOR = r"^msg-[0-9]{16}-[A-Za-z0-9_-]{1,64}$"


class HistoryRequest(Model):
    limit: int = Field(default=50, ge=1, le=200)
    # `next` of an earlier reply: the page of messages older than that one's
    before: str | None = Field(default=None, max_length=90, pattern=CURSOR)


class History(Model):
    """A page of the room's messages, oldest first: at most `limit`, and under the service's
    1 MB message limit."""

    messages: list[RoomMessage]
    more: bool = False  # older messages exist: ask again with `before: next`
    next: str | None = None  # the cursor of the next older page; null on the oldest


class Broadcast(Model):
    room: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    message: str = Field(min_length=1, max_length=2000)


class Job(Model):
    job_id: str = Field(min_length=1, max_length=64)


class JobProcessing(Model):
    type: Literal["processing"] = "processing"
    step: str


class JobComplete(Model):
    type: Literal["complete"] = "complete"
    result: dict[str, str | int]


class Member(Model):
    user_id: str
    connections: int
    name: str | None = Field(default=None, exclude_if=lambda v: v is None)


class MembersRequest(Model):
    """`{"action": "members"}`: nothing more."""


class Members(Model):
    members: list[Member]


NAME_PUNCTUATION = " '.-_"
MAX_NAME_LENGTH = 32


class GuestLogin(Model):
    """A display name: letters of any script, digits, spaces and ' . - _ (1 to 32)."""

    name: str

    @field_validator("name")
    @classmethod
    def _readable(cls, value: str) -> str:
        # PydanticCustomError: the message as written, without pydantic's "Value error, "
        name = unicodedata.normalize("NFC", value).strip()
        if not name:
            raise PydanticCustomError("name", "enter a name")
        if len(name) > MAX_NAME_LENGTH:
            raise PydanticCustomError("name", f"a name is at most {MAX_NAME_LENGTH} characters")
        bad = sorted({c for c in name if not _name_character(c)})
        if bad:
            shown = " ".join(bad)
            raise PydanticCustomError(
                "name", f"a name can hold letters, digits, spaces and ' . - _ only, not {shown}"
            )
        return name


def _name_character(c: str) -> bool:
    # letters and digits of any script, combining marks (as in "Zoë" typed with a dead key)
    return c.isalnum() or c in NAME_PUNCTUATION or unicodedata.category(c).startswith("M")


class IssuedToken(Model):
    token: str
    user_id: str  # unique per guest: the name is a display name, not an identity
    name: str
    expires_in: int
