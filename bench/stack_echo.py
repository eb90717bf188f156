"""Echo round trips through the whole local stack, many clients at once.

Each client negotiates a URL for the `echo` channel, opens a plain WebSocket to the Web PubSub
emulator and sends its messages one after the other, each waiting for its echo: client ->
emulator -> CloudEvent to the Functions host -> dispatcher -> reply frame -> client. Prints
round trips/s over the whole run and the p50/p99 round-trip latency. Loopback only; the
figures depend on the machine, nothing is asserted about them.

    python -m bench.stack_echo [--clients 50] [--messages 20] [--vs-socketio [--rounds 5]]

`--vs-socketio` runs the same echo on python-socketio (bench/socketio_peer.py) in turn with
the stack, `--rounds` times each (stack, peer, stack, peer, ...), and prints the ratio of
each pair's throughputs and their median: pairing keeps the ratio meaningful on a machine
whose load drifts during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from dataclasses import dataclass

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from devstack.stack import LocalStack

ROOM = "bench"
CONNECT_CONCURRENCY = 25
FRAME_TIMEOUT = 10.0  # one echo that takes longer than this fails the run
RUN_TIMEOUT = 300.0


@dataclass(frozen=True)
class EchoFigures:
    clients: int
    round_trips: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.round_trips / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


async def negotiate(http: aiohttp.ClientSession, host_url: str, channel: str, room: str) -> str:
    params = {"channel": channel, "room": room}
    async with http.get(f"{host_url}/api/negotiate", params=params) as response:
        response.raise_for_status()
        body = await response.json()
    return str(body["url"])


async def _open(
    http: aiohttp.ClientSession, host_url: str, gate: asyncio.Semaphore
) -> ClientConnection:
    async with gate:
        url = await negotiate(http, host_url, "echo", ROOM)
        return await connect(url, open_timeout=FRAME_TIMEOUT)


async def _echo(ws: ClientConnection, client: int, messages: int) -> list[float]:
    latencies: list[float] = []
    for n in range(messages):
        text = f"c{client}-m{n}"
        start = time.perf_counter()
        await ws.send(json.dumps({"message": text}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
        latencies.append((time.perf_counter() - start) * 1000)
        if reply != {"message": f"Echo: {text}"}:
            raise RuntimeError(f"client {client} got {reply!r} for {text!r}")
    return latencies


async def run(host_url: str, clients: int = 50, messages: int = 20) -> EchoFigures:
    """Connect `clients` echo clients, then time `messages` round trips on each, concurrently."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    async with aiohttp.ClientSession() as http:
        sockets = await asyncio.gather(*(_open(http, host_url, gate) for _ in range(clients)))
    try:
        start = time.perf_counter()
        per_client = await asyncio.wait_for(
            asyncio.gather(*(_echo(ws, n, messages) for n, ws in enumerate(sockets))),
            RUN_TIMEOUT,
        )
        seconds = time.perf_counter() - start
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    latencies = [ms for client in per_client for ms in client]
    return EchoFigures(clients, len(latencies), seconds, latencies)


def report(f: EchoFigures) -> None:
    print(f"echo round trips through the local stack ({f.clients} clients, plain WebSocket)")
    print(f"  round trips : {f.round_trips:>10,}  in {f.seconds:.2f} s")
    print(f"  throughput  : {f.per_second:>10,.0f} msgs/s")
    print(f"  p50         : {f.p50_ms:>10.1f} ms")
    print(f"  p99         : {f.p99_ms:>10.1f} ms")


def compare(clients: int, messages: int, rounds: int) -> tuple[EchoFigures, EchoFigures]:
    """Stack and python-socketio in turn, `rounds` pairs; prints each pair's ratio, the median.

    Returns the median pair (the stack's figures, python-socketio's): pairing keeps the ratio
    meaningful when the machine's speed drifts between runs.
    """
    from bench import socketio_peer  # imported only when asked: python-socketio is dev-only

    pairs: list[tuple[EchoFigures, EchoFigures]] = []
    with LocalStack() as stack, socketio_peer.server() as peer_url:
        for _ in range(rounds):
            ours = asyncio.run(run(stack.host_url, clients, messages))
            stack.check()
            peer = asyncio.run(socketio_peer.echo(peer_url, clients, messages))
            pairs.append((ours, peer))
            print(
                f"  pair: {ours.per_second:,.0f} vs {peer.per_second:,.0f} msgs/s = "
                f"{ours.per_second / peer.per_second:.2f}x"
            )
    pairs.sort(key=lambda pair: pair[0].per_second / pair[1].per_second)
    ours, peer = pairs[len(pairs) // 2]
    report(ours)
    print(
        f"  vs python-socketio: {ours.per_second / peer.per_second:.2f}x, the median of "
        f"{len(pairs)} pairs ({ours.per_second:,.0f} vs {peer.per_second:,.0f} msgs/s)"
    )
    return ours, peer


def main(argv: list[str] | None = None) -> EchoFigures:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20, help="round trips per client")
    parser.add_argument(
        "--vs-socketio", action="store_true", help="the same echo on python-socketio, and the ratio"
    )
    parser.add_argument("--rounds", type=int, default=5, help="stack/peer pairs with --vs-socketio")
    args = parser.parse_args(argv)
    if args.vs_socketio:
        return compare(args.clients, args.messages, args.rounds)[0]
    with LocalStack() as stack:
        figures = asyncio.run(run(stack.host_url, args.clients, args.messages))
        stack.check()
    report(figures)
    return figures


if __name__ == "__main__":
    main()
