"""Echo round trips through `shared.local` (one process, no Azure), beside the local stack.

The same clients and figures as bench.stack_echo: each client negotiates a URL for the `echo`
channel and sends its messages one after the other, each waiting for its echo. Here the path
is client -> aiohttp socket -> dispatcher -> reply frame, in one process (the clients share
that process and its loop, so its figure is a floor). With the peer (the
default) the whole local stack (emulator, CloudEvents, Functions host) is measured in the same
run and the ratio printed. Loopback only; nothing is asserted about the figures.

    python -m bench.local_echo [--clients 50] [--messages 20] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
from dataclasses import dataclass

from bench.stack_echo import EchoFigures, run
from devstack.stack import LocalStack
from shared.local import LocalRuntime, create_app, load_app, start


@dataclass(frozen=True)
class Compared:
    local: EchoFigures
    stack: EchoFigures | None

    @property
    def throughput_ratio(self) -> float | None:
        if self.stack is None or not self.stack.per_second:
            return None
        return self.local.per_second / self.stack.per_second


async def measure_local(clients: int, messages: int) -> EchoFigures:
    runtime = LocalRuntime(load_app("channels"), jwt_secret=secrets.token_urlsafe(48))
    server = await start(create_app(runtime))
    try:
        return await run(server.url, clients, messages)
    finally:
        await server.stop()


def report(c: Compared) -> None:
    rows = [("shared.local", c.local)] + ([("local stack", c.stack)] if c.stack else [])
    per_client = c.local.round_trips // max(c.local.clients, 1)
    print(f"echo round trips ({c.local.clients} clients x {per_client}, plain WebSocket)")
    for name, f in rows:
        print(
            f"  {name:<13}: {f.per_second:>8,.0f} msgs/s   p50 {f.p50_ms:>7.1f} ms"
            f"   p99 {f.p99_ms:>7.1f} ms"
        )
    if c.throughput_ratio is not None:
        print(f"  ratio        : shared.local does {c.throughput_ratio:.1f}x the stack's msgs/s")


def main(argv: list[str] | None = None) -> Compared:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20, help="round trips per client")
    parser.add_argument("--no-peer", action="store_true", help="skip the local stack")
    args = parser.parse_args(argv)
    local = asyncio.run(measure_local(args.clients, args.messages))
    stack = None
    if not args.no_peer:
        with LocalStack() as running:
            stack = asyncio.run(run(running.host_url, args.clients, args.messages))
            running.check()
    compared = Compared(local, stack)
    report(compared)
    return compared


if __name__ == "__main__":
    main()
