"""What a function receives as `services`, and the middleware signature."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.channel import Channel
from shared.database import Database
from shared.event_hub import EventHub
from shared.jwt_service import JwtService
from shared.session import Session, UserSession

OpeningT = TypeVar("OpeningT")

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]


@dataclass
class Services:
    """Services every function gets, whatever wires it (a channel action or an HTTP route)."""

    logger: Logger
    jwt: JwtService
    user_session: UserSession
    event_hub: EventHub
    database: Database


@dataclass
class ChannelServices(Services, Generic[OpeningT]):
    """Services inside a channel: `channel` is the connection being served.

    Annotate a function's first parameter `ChannelServices[Room]` to declare the channel's
    opening data type; `services.channel.opening_data` is then a validated `Room`.
    """

    channel: Channel[OpeningT]


@dataclass(frozen=True)
class Interaction:
    """What a middleware sees of the call it wraps."""

    channel: str | None  # None for an HTTP route
    action: str | None  # the routing value, or "connect" / "message" / "disconnect", or the route
    data: Any  # the input as received (before validation)
    session: Session | None


Next = Callable[[], Awaitable[Any]]
Middleware = Callable[[Services, Interaction, Next], Awaitable[Any]]
"""`async def audit(services, interaction, next_): ...; return await next_()`"""
