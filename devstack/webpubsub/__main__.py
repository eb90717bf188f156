"""`python -m devstack.webpubsub [--host H] [--port P] [--upstream hub=url ...]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

import uvloop

from devstack import logs

from .config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_UPSTREAM_CONCURRENCY,
    DEFAULT_UPSTREAM_TIMEOUT,
    DEFAULT_UPSTREAM_URL,
    SYSTEM_EVENTS,
    EmulatorConfig,
    UpstreamConfig,
    parse_upstreams,
)
from .server import Emulator


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.webpubsub",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="HUB=URL",
        help="event handler URL for a hub (repeatable); HUB=none turns events off for it",
    )
    parser.add_argument(
        "--default-upstream",
        default=DEFAULT_UPSTREAM_URL,
        help="event handler for hubs without --upstream ('none' for no events)",
    )
    parser.add_argument(
        "--system-events",
        default=",".join(sorted(SYSTEM_EVENTS)),
        help="system events sent upstream (comma-separated)",
    )
    parser.add_argument("--user-events", default="*", help="'*' or comma-separated event names")
    parser.add_argument("--grace-period", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--upstream-timeout",
        type=float,
        default=DEFAULT_UPSTREAM_TIMEOUT,
        help="seconds to wait for an event handler's answer, as the service does",
    )
    parser.add_argument(
        "--upstream-concurrency",
        type=int,
        default=DEFAULT_UPSTREAM_CONCURRENCY,
        help="event requests outstanding at once; more wait their turn (not timed)",
    )
    args = parser.parse_args(argv)

    system = frozenset(e.strip() for e in args.system_events.split(",") if e.strip())

    def with_events(upstream: UpstreamConfig | None) -> UpstreamConfig | None:
        if upstream is None:
            return None
        return UpstreamConfig(upstream.url, system, args.user_events)

    upstreams = {hub: with_events(u) for hub, u in parse_upstreams(args.upstream).items()}
    default = None
    if args.default_upstream.lower() not in {"", "none", "off"}:
        default = with_events(UpstreamConfig(args.default_upstream))
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        upstreams=upstreams,
        default_upstream=default,
        grace_period=args.grace_period,
        upstream_timeout=args.upstream_timeout,
        upstream_concurrency=args.upstream_concurrency,
    )


async def serve(config: EmulatorConfig) -> None:
    emulator = Emulator(config)
    await emulator.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    logs.setup("%(name)s %(message)s")
    # uvloop: the emulator stands for a service, not for the app's Python, so it runs on the
    # faster loop (the host keeps asyncio's, as the Python worker does).
    uvloop.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
