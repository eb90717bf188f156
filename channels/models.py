"""The chat app's input, output and opening data types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


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
    """What every other member of the room receives."""

    type: Literal["message"] = "message"
    message: str
    user_id: str
    timestamp: int


class HistoryRequest(Model):
    limit: int = Field(default=50, ge=1, le=200)


class History(Model):
    messages: list[RoomMessage]


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


class GuestLogin(Model):
    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9 _.-]+$")


class IssuedToken(Model):
    token: str
    user_id: str
    expires_in: int
