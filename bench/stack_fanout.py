"""One publish to a room of many subscribers, through the whole local stack.

The subscribers are plain WebSocket clients on the `chat` channel in one room (each joins
the room's group when it authenticates, so the `authenticate` reply means it is subscribed);
they connect with bounded concurrency. Then one `POST /api/broadcast` (a moderator's token)
publishes a message to the room:
one REST call from the host, and the emulator fans out. Prints the time from the POST until
the last subscriber has the message, and the p50 delivery time. Loopback only; the receiving
clients share this process's event loop, so their own reading is part of the figures.

    python -m bench.stack_fanout [--subscribers 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from bench.stack_echo import negotiate, percentile
from devstack.stack import LocalStack
from shared.core.jwt_service import JwtService

ROOM = "fanout"
FRAME_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 60.0  # after this, whoever has not got the message counts as missed
CONNECT_TIMEOUT = 300.0
SECRET = "bench-fanout-secret-" + "0123456789abcdef" * 2  # this bench's own stack only


@dataclass(frozen=True)
class FanoutFigures:
    subscribers: int
    delivered: int
    connect_seconds: float
    publish_ms: float  # the POST's own response time
    delivery_ms: list[float]  # from the POST to each subscriber's receipt

    @property
    def last_ms(self) -> float:
        return max(self.delivery_ms, default=0.0)

    @property
    def p50_ms(self) -> float:
        return percentile(self.delivery_ms, 50)


async def _subscribe(url: str, room: str, n: int, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        ws = await connect(url, open_timeout=FRAME_TIMEOUT, max_queue=None)
        welcome = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
        if welcome != {"welcome": f"Welcome to {room}!"}:
            raise RuntimeError(f"expected the welcome frame, got {welcome!r}")
        token = JwtService(SECRET).sign({"userId": f"subscriber-{n}"})
        await ws.send(json.dumps({"action": "authenticate", "token": token}))
        reply = await asyncio.wait_for(_next(ws), FRAME_TIMEOUT)
        if reply != {"action": "authenticate", "authenticated": True}:
            raise RuntimeError(f"expected to be authenticated, got {reply!r}")
        return ws


async def _next(ws: ClientConnection) -> dict[str, object]:
    """The next frame that is not a presence notice (later subscribers' joins)."""
    while True:
        frame: dict[str, object] = json.loads(await ws.recv())
        if frame.get("type") != "presence":
            return frame


async def _receive(ws: ClientConnection, message: str) -> float:
    frame = await _next(ws)
    received = time.perf_counter()
    if frame.get("message") != message:
        raise RuntimeError(f"expected the broadcast, got {frame!r}")
    return received


async def run(
    host_url: str, subscribers: int = 1000, concurrency: int = 50, room: str = ROOM
) -> FanoutFigures:
    """Connect the subscribers, publish once, and time each delivery."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:
        # One negotiated URL serves every subscriber: its token names no user.
        url = await negotiate(http, host_url, "chat", room)
        token = JwtService(SECRET).sign({"userId": "publisher", "role": "moderator"})
        start = time.perf_counter()
        opening = [asyncio.create_task(_subscribe(url, room, n, gate)) for n in range(subscribers)]
        try:
            sockets = await asyncio.wait_for(asyncio.gather(*opening), CONNECT_TIMEOUT)
        except BaseException:
            for task in opening:
                task.cancel()
            opened = await asyncio.gather(*opening, return_exceptions=True)
            await _close([ws for ws in opened if isinstance(ws, ClientConnection)])
            raise
        connect_seconds = time.perf_counter() - start
        try:
            message = f"fanout {time.time_ns()}"
            receiving = [asyncio.create_task(_receive(ws, message)) for ws in sockets]
            await asyncio.sleep(0)  # every receiver is waiting before the publish
            published = time.perf_counter()
            async with http.post(
                f"{host_url}/api/broadcast",
                json={"room": room, "message": message},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                response.raise_for_status()
            publish_ms = (time.perf_counter() - published) * 1000
            arrived, missed = await asyncio.wait(receiving, timeout=DELIVERY_TIMEOUT)
            for waiting in missed:
                waiting.cancel()
            delivery = [(t.result() - published) * 1000 for t in arrived if not t.exception()]
        finally:
            await _close(sockets)
    return FanoutFigures(subscribers, len(delivery), connect_seconds, publish_ms, delivery)


async def _close(sockets: list[ClientConnection]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def report(f: FanoutFigures) -> None:
    print(f"one publish to a room of {f.subscribers} subscribers (plain WebSocket, channel chat)")
    print(f"  connected   : {f.subscribers:>10,}  in {f.connect_seconds:.2f} s")
    print(f"  delivered   : {f.delivered:>10,}  of {f.subscribers:,}")
    print(f"  POST        : {f.publish_ms:>10.1f} ms  (the broadcast route's response)")
    print(f"  last one    : {f.last_ms:>10.1f} ms  after the POST")
    print(f"  p50         : {f.p50_ms:>10.1f} ms  after the POST")


def main(argv: list[str] | None = None) -> FanoutFigures:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50, help="connections opening at once")
    args = parser.parse_args(argv)
    with LocalStack(settings={"JWT_SECRET": SECRET}) as stack:  # tokens signed here
        figures = asyncio.run(run(stack.host_url, args.subscribers, args.concurrency))
        stack.check()
    report(figures)
    return figures


if __name__ == "__main__":
    main()
