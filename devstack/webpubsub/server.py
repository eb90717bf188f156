"""`Emulator`: the aiohttp application, started in-process or from the command line."""

from __future__ import annotations

import dataclasses
import logging

from aiohttp import web

from .client_endpoint import SERVICE_KEY, client_endpoint
from .config import EmulatorConfig
from .rest import rest_endpoint
from .service import Service

log = logging.getLogger(__name__)


def build_app(service: Service) -> web.Application:
    # REST bodies carry messages of up to a frame's size, plus room for JSON escaping.
    app = web.Application(client_max_size=4 * service.config.max_frame_size)
    app[SERVICE_KEY] = service
    app.router.add_get("/client/hubs/{hub}", client_endpoint)
    app.router.add_get("/client", client_endpoint)
    app.router.add_route("*", "/api/{tail:.*}", rest_endpoint)
    return app


class Emulator:
    """The Web PubSub emulator: `await start()`, use `connection_string`, `await stop()`."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: object) -> None:
        config = config or EmulatorConfig()
        if overrides:
            config = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
        self.config = config
        self.service = Service(config)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.config.public_host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return f"Endpoint={self.url};AccessKey={self.config.access_key};Version=1.0;"

    async def start(self) -> None:
        runner = web.AppRunner(build_app(self.service), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        addresses = runner.addresses
        self._port = int(addresses[0][1]) if addresses else self.config.port
        self._runner = runner
        log.info("Web PubSub emulator listening on %s", self.url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.service.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def drop_socket(self, hub: str, connection_id: str) -> bool:
        """Cut a connection's TCP socket without a close frame (simulates a network failure)."""
        connection = self.service.find(hub, connection_id)
        return connection is not None and connection.drop_socket()
