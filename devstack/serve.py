"""Serve an aiohttp app on loopback for tools and tests: bind port 0, report the port."""

from __future__ import annotations

from aiohttp import web


class Served:
    """An app listening on `host:port`; `stop()` closes it."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Start `app`; with port 0 the kernel picks a free port, so nothing can take it first."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return Served(runner, host, int(runner.addresses[0][1]))
