"""`python -m devstack` (`make run`): Azurite, the Web PubSub emulator and the Functions host.

Checks that every port is free, starts each piece, waits until each answers, prints the URLs
and "ready". Ctrl-C or SIGTERM stops the host, the emulator, then Azurite, and exits 0. If a
piece stops on its own (Azurite included), it says which, with its last log lines, stops the
others and exits 1; the logs of a failed run are kept and their folder printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from devstack.azurite import DEFAULT_PORT as AZURITE_PORT
from devstack.stack import WEBHOOK_PATH, LocalStack, StackError
from devstack.webpubsub.config import DEFAULT_PORT as EMULATOR_PORT
from devstack.webpubsub.config import DEFAULT_UPSTREAM_TIMEOUT

HOST_PORT = 7071


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='From make: make run ARGS="--host-port 7072 --data-dir .azurite"',
    )
    add = parser.add_argument
    add("--app", default="function_app", help="function app module or .py path (%(default)s)")
    add("--host-port", type=int, default=HOST_PORT, help="Functions host (%(default)s)")
    add("--emulator-port", type=int, default=EMULATOR_PORT, help="Web PubSub (%(default)s)")
    add("--azurite-port", type=int, default=AZURITE_PORT, help="Azurite tables (%(default)s)")
    add(
        "--data-dir",
        "--azurite-location",
        dest="data_dir",
        help="Azurite's data folder, kept between runs (default: a temporary folder, removed)",
    )
    add("--settings", help="settings file for the host (default: local.settings.json, else sample)")
    add(
        "--upstream-timeout",
        type=float,
        default=DEFAULT_UPSTREAM_TIMEOUT,
        help="seconds the emulator waits for an event handler's answer (%(default)s)",
    )
    add(
        "--webhook-key",
        help="make the host check ?code= on its webhook, as Azure checks the "
        "webpubsub_extension system key (default: not checked, as with func start)",
    )
    return parser.parse_args(argv)


def banner(stack: LocalStack) -> str:
    host = f"http://localhost:{stack.host_port}"
    checked = "  (?code= checked)" if stack.webhook_key else ""
    lines = [
        "",
        "Local stack:",
        f"  Chat page          {host}/api/chat",
        f"  Functions host     {host}  (webhook {host}{WEBHOOK_PATH}{checked})",
        f"  Web PubSub         {stack.emulator_url}",
        f"                     {stack.webpubsub_connection_string}",
    ]
    if stack.azurite:
        lines.append(f"  Azurite (tables)   http://127.0.0.1:{stack.azurite.port}/devstoreaccount1")
        lines.append(f"  Azurite data       {stack.azurite.location}")
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
        azurite_location=args.data_dir,
        settings_file=args.settings,
        webhook_key=args.webhook_key,
        upstream_timeout=args.upstream_timeout,
        echo=True,
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
