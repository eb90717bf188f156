"""`python -m shared.local`: serve an app's channels on a plain WebSocket server, no Azure.

Settings come from the environment, as on Azure: JWT_SECRET (32+ characters; a random one
for this process when unset, so tokens end with it), JWT_SECRET_PREVIOUS during a rotation,
and the app's own (GUEST_LOGIN for the reference chat). Stops on Ctrl-C or SIGTERM, closing
every connection.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys

from shared.core.errors import SettingsError
from shared.core.jwt_service import JWT_SECRET, JWT_SECRET_PREVIOUS, JwtService
from shared.local.app import AppModuleError, load_app
from shared.local.server import LocalRuntime, create_app, start

log = logging.getLogger("channels.local")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shared.local",
        description="Serve channels on a plain WebSocket server (one machine, no Azure).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any)")
    parser.add_argument(
        "--app", default="channels", help="app module: wires channels; services, http_routes"
    )
    return parser.parse_args(argv)


def jwt_secrets() -> tuple[str, str | None]:
    """JWT_SECRET (random for this run when unset) and, during a rotation, JWT_SECRET_PREVIOUS.

    Checked now: a short one stops the start with a SettingsError naming it."""
    secret = os.environ.get(JWT_SECRET)
    if not secret:
        log.warning("%s is not set: a random secret signs this run's tokens", JWT_SECRET)
        secret = secrets.token_urlsafe(48)
    previous = os.environ.get(JWT_SECRET_PREVIOUS) or None
    jwt = JwtService(secret, previous=previous)
    jwt.verify(jwt.sign({"userId": "startup-check"}, expires_in=60))  # reads both secrets
    return secret, previous


async def serve(args: argparse.Namespace) -> None:
    secret, previous = jwt_secrets()
    runtime = LocalRuntime(load_app(args.app), jwt_secret=secret, jwt_secret_previous=previous)
    server = await start(create_app(runtime), args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    channels = ", ".join(runtime.registry.channels)
    pages = "".join(f"\n  {server.url}/api/{name}" for name in runtime.app.pages)
    print(f"shared.local: serving {channels} at {server.url}{pages}\nready", flush=True)
    try:
        await stop.wait()
    finally:
        print("shared.local: stopping", flush=True)
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args))
    except (AppModuleError, SettingsError) as exc:
        print(f"shared.local: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port is taken, say
        print(f"shared.local: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
