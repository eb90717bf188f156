"""The runtime of one worker process: its clients, created once, and its entry points.

runtime = ChannelRuntime()                       # reads app settings when first used
result = await runtime.handle_trigger(request)   # every Web PubSub trigger calls this
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from shared.azure.database import TableDatabase
from shared.azure.settings import Settings
from shared.azure.stores import TableConnectionStore
from shared.azure.tables import TableStorage
from shared.azure.telemetry import configure as configure_telemetry
from shared.azure.trigger import TriggerPayloadError, parse, render
from shared.azure.webpubsub import WebPubSubTransport
from shared.core.errors import SettingsError
from shared.core.jwt_service import JwtService
from shared.core.logs import channel_logger
from shared.core.runtime import Parts, assemble
from shared.core.services import AppServices
from shared.core.sweep import SweepResult, sweep
from shared.core.wiring import ChannelRegistry, default_registry

log = channel_logger("channels")


def build_parts(
    settings: Settings, registry: ChannelRegistry, app_services: AppServices | None = None
) -> Parts:
    if settings.storage_connection:
        storage = TableStorage.from_connection_string(settings.storage_connection)
    elif settings.storage_account_name:
        storage = TableStorage.from_account_name(settings.storage_account_name)
    else:
        raise SettingsError("set AzureWebJobsStorage or AzureWebJobsStorage__accountName")
    transport = WebPubSubTransport.from_connection_string(
        settings.require_webpubsub(), settings.hub
    )
    return assemble(
        registry,
        store=TableConnectionStore(storage),
        transport=transport,
        database=TableDatabase(storage),
        jwt=JwtService(settings.jwt_secret, previous=settings.jwt_secret_previous),
        app_services=app_services,
        negotiator=transport,
        closers=(storage, transport),
    )


class ChannelRuntime:
    def __init__(
        self,
        registry: ChannelRegistry | None = None,
        settings: Settings | None = None,
        parts: Parts | None = None,
        *,
        services: AppServices | None = None,
    ) -> None:
        configure_telemetry()  # once per process, before the first event; off unless asked
        self.registry = registry or default_registry
        self.app_services = services
        self._settings = settings
        self._parts = parts
        self._injected = parts is not None  # given parts are the caller's: never rebuilt
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def parts(self) -> Parts:
        # Async SDK clients belong to the loop that made them: the Functions worker keeps one
        # loop for the process; a test runner may start another.
        loop = _current_loop()
        if self._injected and self._parts is not None:
            return self._parts
        if self._parts is None or self._loop is not loop:
            self._parts = build_parts(self.settings, self.registry, self.app_services)
            self._loop = loop
        return self._parts

    async def reconfigure(self, settings: Settings | None = None) -> None:
        """Close the clients; the next event builds them again (from `settings` or the env)."""
        await self.aclose()
        self._injected = False
        self._settings = settings

    async def handle_trigger(
        self, request: str | bytes | Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Handle one Web PubSub trigger payload; never raises (a raise would hang the service)."""
        try:
            event = parse(request)
        except TriggerPayloadError as exc:
            log.error("bad trigger payload: %s", exc)
            return {"code": "userError", "errorMessage": str(exc)}
        except Exception:  # a Mapping whose dict() fails, say: still an answer, never a raise
            log.exception("bad trigger payload")
            return {"code": "userError", "errorMessage": "trigger payload is not readable"}
        try:
            dispatcher = self.parts.dispatcher
        except SettingsError as exc:
            log.error("the channel runtime could not start: %s", exc.message)
            return {"code": "serverError", "errorMessage": exc.message}
        except Exception:
            log.exception("the channel runtime could not start")
            return {"code": "serverError", "errorMessage": "the channel runtime could not start"}
        try:
            return render(await dispatcher.dispatch(event))
        except Exception:  # dispatch answers every event; this guards the guard
            log.exception("the trigger could not be answered")
            return {"code": "serverError", "errorMessage": "internal error"}

    async def sweep(self) -> SweepResult | None:
        """Remove records that outlived their connection; never raises (a timer would retry)."""
        try:
            return await sweep(self.parts.dispatcher)
        except Exception:
            log.exception("the sweep failed")
            return None

    async def aclose(self) -> None:
        if self._parts is not None:
            for closer in self._parts.closers:
                await closer.aclose()
            self._parts = None


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
