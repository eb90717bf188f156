"""The peer the local stack is measured against: python-socketio, the same work, the same run.

A python-socketio server (aiohttp, WebSocket transport only) runs in its own process, as the
stack's services do; clients use python-socketio's AsyncClient. Two workloads, shaped as
bench.stack_echo and bench.stack_fanout: echo round trips (`call("echo")`, the server's return
value is the reply) and one broadcast to a room of subscribers (POST /broadcast; the server
emits to the room).

    python -m bench.socketio_peer [--clients 50] [--messages 40] [--subscribers 1000]
    python -m bench.socketio_peer serve PORT        # the server alone
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import socketio
from aiohttp import web

from bench.stack_echo import EchoFigures
from bench.stack_fanout import FanoutFigures
from devstack.azurite import free_port

FRAME_TIMEOUT = 10.0
CONNECT_CONCURRENCY = 25


def serve(port: int) -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp", transports=["websocket"])
    app = web.Application()
    sio.attach(app)

    async def echo(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"message": f"Echo: {data['message']}"}

    async def join(sid: str, room: str) -> bool:
        await sio.enter_room(sid, room)
        return True

    sio.on("echo", echo)
    sio.on("join", join)

    async def broadcast(request: web.Request) -> web.Response:
        body = await request.json()
        await sio.emit("message", {"message": body["message"]}, room=body["room"])
        return web.Response(status=204)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@contextlib.contextmanager
def server() -> Iterator[str]:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.socketio_peer", "serve", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the python-socketio server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(10)


async def _client(url: str, gate: asyncio.Semaphore) -> socketio.AsyncClient:
    async with gate:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, transports=["websocket"], wait_timeout=FRAME_TIMEOUT)
        return client


async def _close(clients: list[socketio.AsyncClient]) -> None:
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


async def echo(url: str, clients: int, messages: int) -> EchoFigures:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connected = await asyncio.gather(*(_client(url, gate) for _ in range(clients)))

    async def one(client: socketio.AsyncClient, n: int) -> list[float]:
        latencies = []
        for m in range(messages):
            text = f"c{n}-m{m}"
            start = time.perf_counter()
            reply = await client.call("echo", {"message": text}, timeout=FRAME_TIMEOUT)
            latencies.append((time.perf_counter() - start) * 1000)
            if reply != {"message": f"Echo: {text}"}:
                raise RuntimeError(f"client {n} got {reply!r}")
        return latencies

    try:
        start = time.perf_counter()
        per_client = await asyncio.gather(*(one(c, n) for n, c in enumerate(connected)))
        seconds = time.perf_counter() - start
    finally:
        await _close(connected)
    latencies = [ms for client in per_client for ms in client]
    return EchoFigures(clients, len(latencies), seconds, latencies)


async def fanout(url: str, subscribers: int, room: str = "fanout") -> FanoutFigures:
    gate = asyncio.Semaphore(50)
    began = time.perf_counter()
    received: list[asyncio.Future[float]] = []

    async def subscriber() -> socketio.AsyncClient:
        client = await _client(url, gate)
        arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        received.append(arrived)

        async def on_message(data: dict[str, Any]) -> None:
            if not arrived.done():
                arrived.set_result(time.perf_counter())

        client.on("message", on_message)
        await client.call("join", room, timeout=FRAME_TIMEOUT)
        return client

    connected = await asyncio.gather(*(subscriber() for _ in range(subscribers)))
    connect_seconds = time.perf_counter() - began
    try:
        published = time.perf_counter()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _post, f"{url}/broadcast", room)
        publish_ms = (time.perf_counter() - published) * 1000
        done, _ = await asyncio.wait(received, timeout=60)
        delivery = [(f.result() - published) * 1000 for f in done]
    finally:
        await _close(connected)
    return FanoutFigures(subscribers, len(delivery), connect_seconds, publish_ms, delivery)


def _post(url: str, room: str) -> None:
    request = urllib.request.Request(
        url,
        data=f'{{"room": "{room}", "message": "to all"}}'.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def main(argv: list[str] | None = None) -> tuple[EchoFigures, FanoutFigures]:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["serve"]:
        serve(int(argv[1]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args(argv)
    with server() as url:
        echoed = asyncio.run(echo(url, args.clients, args.messages))
        fanned = asyncio.run(fanout(url, args.subscribers))
    print(f"python-socketio echo: {echoed.per_second:,.0f} msgs/s, p50 {echoed.p50_ms:.1f} ms")
    print(f"python-socketio fanout to {fanned.subscribers}: last {fanned.last_ms:.1f} ms")
    return echoed, fanned


if __name__ == "__main__":
    main()
