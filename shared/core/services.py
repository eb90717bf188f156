"""What a function receives as `services`, how it is built, and the middleware signature."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Generic

from typing_extensions import TypeVar

from shared.core.channel import Channel
from shared.core.database import Database
from shared.core.errors import SettingsError
from shared.core.event_hub import EventHub
from shared.core.jwt_service import JwtService
from shared.core.session import Session, UserSession

OpeningT = TypeVar("OpeningT")
StateT = TypeVar("StateT", default=Any)

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
class ChannelServices(Services, Generic[OpeningT, StateT]):
    """Services inside a channel: `channel` is the connection being served.

    Annotate a function's first parameter `ChannelServices[Room]` to declare the channel's
    opening data type; `services.channel.opening_data` is then a validated `Room`.
    `ChannelServices[Room, Counter]` also types `services.channel.get_state()` as a `Counter`.
    """

    channel: Channel[OpeningT, StateT]


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

Permission = Callable[[Services, Any, Session | None], bool | Awaitable[bool]]
"""`def is_admin(services, data, session) -> bool`: the call is refused (403) when False."""


@dataclass(frozen=True)
class Outgoing:
    """A frame on its way to clients, as a frame middleware sees it."""

    frame: Any  # JSON-able
    channel: str | None  # the channel of the event sending it (None: an HTTP route)
    channel_id: str | None  # the one connection it goes to; None for a publish
    topic: str | None  # the topic it is published to; None for a frame to one connection


FrameNext = Callable[[Any], Awaitable[None]]
FrameMiddleware = Callable[[Services, Outgoing, FrameNext], Awaitable[None]]
"""`async def mw(services, outgoing, next_)`: call `await next_(frame)` once to pass the frame
on (changed or not), never to drop it, several times to send several frames."""


ServiceValues = Mapping[str, object]


@dataclass(frozen=True)
class AppServices:
    """An app's own services, handed to the runtime (as Pikku's `createSingletonServices` and
    `createWireServices`):

        @dataclass
        class ChatServices(ChannelServices[Room]):   # what a function declares it uses
            clock: Clock

        services = AppServices(singleton=lambda: {"clock": Clock()})

    `singleton()` runs once per process; `per_event(services)` runs for each event that calls a
    function asking for one of its names, with the core services of that event. A function
    gets them by annotating its first parameter with a `Services` subclass that declares them.
    """

    singleton: Callable[[], ServiceValues] | None = None
    per_event: Callable[[Services], ServiceValues] | None = None


_CORE_FIELDS = {f.name for f in fields(ChannelServices)}
_app_fields_cache: dict[type[Services], tuple[str, ...]] = {}


def app_fields(cls: type[Services]) -> tuple[str, ...]:
    """The fields a `Services` subclass declares beyond the core ones (cached per class)."""
    names = _app_fields_cache.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if f.name not in _CORE_FIELDS)
        _app_fields_cache[cls] = names
    return names


class ServiceBuilder:
    """Builds the `services` of every call, in one place, for every transport.

    Core services (jwt, event hub, database) and the app's singletons are made once; the
    per-event parts (logger, session, channel) for each call. `overrides` replace app services
    by name (the test harness substitutes fakes with it).
    """

    def __init__(
        self,
        *,
        jwt: JwtService,
        event_hub: EventHub,
        database: Database,
        app: AppServices | None = None,
        overrides: ServiceValues | None = None,
    ) -> None:
        self.jwt = jwt
        self.event_hub = event_hub
        self.database = database
        self.app = app or AppServices()
        self._overrides = dict(overrides or {})
        self._singletons: dict[str, object] | None = None

    def singletons(self) -> dict[str, object]:
        if self._singletons is None:
            made = dict(self.app.singleton()) if self.app.singleton is not None else {}
            self._singletons = {**made, **self._overrides}
        return self._singletons

    def build(
        self,
        cls: type[Services] | None,
        *,
        logger: Logger,
        user_session: UserSession,
        channel: Channel[Any] | None = None,
        event_hub: EventHub | None = None,
    ) -> Services:
        """`event_hub`: this event's own view of the event hub (frame middleware, connect)."""
        if channel is not None and (cls is None or cls is ChannelServices):
            # the common case, every event of a channel function: no keyword dict to unpack
            hub = event_hub or self.event_hub
            return ChannelServices(logger, self.jwt, user_session, hub, self.database, channel)
        core: dict[str, Any] = {
            "logger": logger,
            "jwt": self.jwt,
            "user_session": user_session,
            "event_hub": event_hub or self.event_hub,
            "database": self.database,
        }
        default: type[Services] = Services
        if channel is not None and (cls is None or issubclass(cls, ChannelServices)):
            core["channel"] = channel  # a plain function wired into a channel does not see it
            default = ChannelServices
        if cls is None or cls is default:
            return default(**core)
        wanted = app_fields(cls)
        if not wanted:
            return cls(**core)
        values: dict[str, Any] = dict(self.singletons())
        if self.app.per_event is not None:
            values.update(self.app.per_event(default(**core)))
            values.update(self._overrides)
        missing = [name for name in wanted if name not in values]
        if missing:
            raise SettingsError(
                f"{cls.__name__} needs {', '.join(map(repr, missing))}: no AppServices "
                "factory given to the runtime provides it"
            )
        return cls(**core, **{name: values[name] for name in wanted})
