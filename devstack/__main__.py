"""`python -m devstack` (`make run`): Azurite, the Web PubSub emulator and the Functions host.

Waits until each answers, prints the URLs and "ready", and stops everything on Ctrl-C or
SIGTERM; if one piece stops on its own, the others are stopped too and the exit code is 1.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from devstack.stack import LocalStack, StackError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--app", default="function_app", help="function app module or .py path")
    parser.add_argument("--host-port", type=int, default=7071)
    parser.add_argument("--emulator-port", type=int, default=8080)
    parser.add_argument("--azurite-port", type=int, default=10002)
    parser.add_argument("--azurite-location", help="Azurite data folder (default: temporary)")
    parser.add_argument("--settings", help="settings file for the host")
    return parser.parse_args(argv)


def banner(stack: LocalStack) -> str:
    host = f"http://localhost:{stack.host_port}"
    lines = [
        "",
        "Local stack:",
        f"  Chat page          {host}/api/chat",
        f"  Functions host     {host}  (webhook {stack.webhook_url})",
        f"  Web PubSub         {stack.emulator_url}",
        f"                     {stack.webpubsub_connection_string}",
    ]
    if stack.azurite:
        lines.append(f"  Azurite (tables)   http://127.0.0.1:{stack.azurite.port}/devstoreaccount1")
    lines += ["ready (Ctrl-C stops everything)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(
        app=args.app,
        host_port=args.host_port,
        emulator_port=args.emulator_port,
        azurite_port=args.azurite_port,
        azurite_location=args.azurite_location,
        settings_file=args.settings,
        log_dir=None,
    )
    code = 0
    try:
        stack.start()
        print(banner(stack), flush=True)
        while not stop.wait(0.5):
            stack.check()
    except StackError as exc:
        print(f"devstack: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        print("devstack: stopping", flush=True)
        stack.stop()
        print("devstack: stopped", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
