"""What one process serves channels with, assembled once, whatever the transport.

An adapter (shared/azure, shared/local) makes the store, transport and database it runs on and
hands them to `assemble`; everything above (services, dispatcher, HTTP functions) is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.core.database import Database
from shared.core.dispatcher import Dispatcher
from shared.core.event_hub import EventHub
from shared.core.jwt_service import JwtService
from shared.core.services import AppServices, ServiceBuilder, ServiceValues
from shared.core.stores import ConnectionStore
from shared.core.transport import Transport
from shared.core.wiring import ChannelRegistry


@dataclass(frozen=True)
class ClientAccess:
    """Where and how a client connects: what negotiate returns."""

    url: str  # carries the access token
    base_url: str
    token: str


class Negotiator(Protocol):
    async def client_access(self, *, user_id: str | None) -> ClientAccess:
        """A URL and token for one client, with no group permissions: it needs none."""


@dataclass
class Parts:
    """What a process serves events with; built once per process (per event loop)."""

    store: ConnectionStore
    transport: Transport
    services: ServiceBuilder
    dispatcher: Dispatcher
    negotiator: Negotiator | None = None
    closers: tuple[Any, ...] = ()

    @property
    def jwt(self) -> JwtService:
        return self.services.jwt

    @property
    def database(self) -> Database:
        return self.services.database


class Runtime(Protocol):
    """What HTTP functions and negotiate need of an adapter's runtime."""

    @property
    def registry(self) -> ChannelRegistry: ...

    @property
    def parts(self) -> Parts: ...


def assemble(
    registry: ChannelRegistry,
    *,
    store: ConnectionStore,
    transport: Transport,
    database: Database,
    jwt: JwtService,
    app_services: AppServices | None = None,
    overrides: ServiceValues | None = None,
    negotiator: Negotiator | None = None,
    closers: tuple[Any, ...] = (),
    strict: bool = False,
) -> Parts:
    """`strict`: frames that do not match their declared type raise (tests) instead of being
    logged and sent (production)."""
    services = ServiceBuilder(
        jwt=jwt,
        event_hub=EventHub(transport),
        database=database,
        app=app_services,
        overrides=overrides,
    )
    dispatcher = Dispatcher(registry, store, transport, services, strict=strict)
    return Parts(store, transport, services, dispatcher, negotiator, closers)
