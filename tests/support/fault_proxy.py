"""A loopback TCP proxy that forwards, hangs or resets: a backend failing as networks do.

proxy = FaultProxy(target_port); await proxy.start()
proxy.mode = "hang"    # accept, read, never answer
proxy.mode = "reset"   # accept, then reset the connection (RST)
proxy.mode = "pass"    # forward both ways
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Literal

Mode = Literal["pass", "hang", "reset"]


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self.accepted = 0  # connections accepted
        self.faulted = 0  # requests met with the fault (each try of a client that retries)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "pass":
                await self._forward(reader, writer)
            else:
                await self._fail(reader, writer)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _fail(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.faulted += 1
        if self.mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        while await reader.read(65536):  # hang: take the request, answer nothing
            pass
        await asyncio.Event().wait()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def upstream() -> None:
            # A pooled keep-alive connection meets the fault too, on its next request.
            while data := await reader.read(65536):
                if self.mode != "pass":
                    up_writer.close()
                    await self._fail(reader, writer)
                    return
                up_writer.write(data)
                await up_writer.drain()
            up_writer.close()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
            if self.mode == "pass":  # a faulted connection stays as the fault left it
                writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        finally:
            up_writer.close()
