"""A pass-through HTTP proxy that counts requests: how many Table Storage calls an event costs.

Table Storage's shared-key signature covers the path, not the host, so the SDK can talk to
Azurite through it unchanged.
"""

from __future__ import annotations

from collections import Counter

import aiohttp
from aiohttp import web
from yarl import URL

from devstack.serve import Served, serve

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class CountingProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.port = 0  # known once started
        self.counts: Counter[str] = Counter()
        self._served: Served | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._served = await serve(app)
        self.port = self._served.port

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.stop()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        self.counts[request.method] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._session.request(
            request.method,
            URL(self.target + request.raw_path, encoded=True),  # re-quoting breaks signatures
            headers=headers,
            data=body or None,  # b"" would add a Content-Type, which the signature covers
            allow_redirects=False,
        ) as upstream:
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=upstream.status, headers=out, body=await upstream.read())
