"""`python -m devstack.funchost [--port 7071] [--app function_app] [--settings FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from devstack import logs
from devstack.funchost import settings
from devstack.funchost.app import build_app, describe, route_prefix
from devstack.funchost.invoke import InvocationFilter
from devstack.funchost.loader import load
from devstack.funchost.schedule import ScheduleError

ROOT = Path(__file__).resolve().parent.parent.parent
log = logging.getLogger("devstack.funchost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.funchost",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--app", default="function_app", help="module name or path to a .py file")
    parser.add_argument("--root", default=str(ROOT), help="folder of host.json and local settings")
    parser.add_argument("--settings", help="settings file (default: local.settings.json or sample)")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE", help="override a setting"
    )
    parser.add_argument(
        "--webhook-key",
        help="check ?code= (or x-functions-key) on /runtime/webhooks/webpubsub against this "
        "key, as Azure checks the webpubsub_extension system key (default: not checked)",
    )
    parser.add_argument(
        "--master-key",
        help="check ?code= (or x-functions-key) on the admin API against this key, as Azure "
        "checks the master key (default: not checked, as Core Tools)",
    )
    parser.add_argument(
        "--timer-status",
        help="JSON file keeping the timers' schedule status across restarts, so an occurrence "
        "missed while the host was down runs at start, past due (default: kept in memory)",
    )
    return parser.parse_args(argv)


async def serve(app: web.Application, host: str, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Each line: time, level, the invocation it belongs to (event and connection id, or the
    # HTTP route), the message; secrets are taken out.
    logs.setup("%(invocation)s%(message)s", InvocationFilter())
    root = Path(args.root).resolve()
    path = settings.settings_file(root, args.settings)
    file_values = settings.read_values(path) if path else {}
    settings.apply(file_values, settings.parse_overrides(args.setting))
    log.info("Settings from %s", path or "(none)")
    os.chdir(root)
    module, specs = load(args.app, root)
    base_url = f"http://{args.host}:{args.port}"
    log.info("Functions:")
    for line in describe(specs, route_prefix(root), base_url):
        log.info("%s", line)
    if args.webhook_key:
        log.info("The Web PubSub webhook checks ?code= (the webpubsub_extension system key)")
    if args.master_key:
        log.info("The admin API checks the master key")
    try:
        app = build_app(
            specs,
            root,
            app_module=module,
            webhook_key=args.webhook_key,
            master_key=args.master_key,
            timer_status=Path(args.timer_status).resolve() if args.timer_status else None,
        )
    except ScheduleError as exc:
        log.error("%s", exc)
        return 1
    asyncio.run(serve(app, args.host, args.port))
    log.info("Stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
