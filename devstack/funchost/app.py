"""The aiohttp application: HTTP triggers under the route prefix, the Web PubSub webhook, status."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import ModuleType

from aiohttp import web

from devstack.funchost import http_trigger, timers
from devstack.funchost.admin import AdminInvoke, key_matches
from devstack.funchost.host import FunctionHost, unsupported_bindings
from devstack.funchost.invoke import invocation_label
from devstack.funchost.loader import FunctionSpec
from devstack.funchost.webhook import TRIGGER_TYPE, WebPubSubWebhook

log = logging.getLogger("devstack.funchost")
WEBHOOK_PATH = "/runtime/webhooks/webpubsub"
HOST_KEY: web.AppKey[FunctionHost] = web.AppKey("host", FunctionHost)


def route_prefix(root: Path) -> str:
    """`extensions.http.routePrefix` from host.json (default `api`)."""
    try:
        data = json.loads((root / "host.json").read_text(encoding="utf-8"))
        prefix = data["extensions"]["http"]["routePrefix"]
    except (OSError, ValueError, KeyError, TypeError):
        return "api"
    return str(prefix).strip("/")


class HttpDispatcher:
    def __init__(self, host: FunctionHost, prefix: str) -> None:
        self.host = host
        self.prefix = prefix
        self.routes = http_trigger.routes(host.specs)
        self.warned_auth = False

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        if self.prefix:
            path = path[len(self.prefix) + 1 :]
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.methods is not None and request.method not in route.methods:
                continue
            if route.auth_level != "anonymous" and not self.warned_auth:
                # Core Tools does not check function keys locally; neither do we.
                log.info("Function keys are not checked locally (authLevel=%s)", route.auth_level)
                self.warned_auth = True
            invocation_label.set(f"{request.method} {request.path}")
            fn_request = await http_trigger.to_function_request(request, params)
            binding_data = {f"query.{k}": v for k, v in request.query.items()}
            binding_data.update({f"headers.{k}": v for k, v in request.headers.items()})
            binding_data.update(params)
            return await self.host.run(
                route.spec,
                fn_request,
                binding_data,
                http_trigger.to_web_response,
                _internal_error,
            )
        return web.Response(status=404)


async def _internal_error(exc: BaseException) -> web.Response:
    return web.Response(status=500)


def describe(specs: list[FunctionSpec], prefix: str, base_url: str) -> list[str]:
    lines = []
    for spec in specs:
        trigger = spec.trigger
        if trigger.type == http_trigger.HTTP_TRIGGER:
            methods = ",".join(trigger.get("methods") or ["*"])
            route = str(trigger.get("route") or spec.name).strip("/")
            path = "/".join(p for p in (prefix, route) if p)
            lines.append(f"  {spec.name}: [{methods}] {base_url}/{path}")
        elif trigger.type == TRIGGER_TYPE:
            lines.append(
                f"  {spec.name}: webPubSubTrigger "
                f"{trigger.get('eventType')}/{trigger.get('eventName')} (hub {trigger.get('hub')})"
            )
        elif trigger.type == timers.TIMER_TRIGGER:
            lines.append(
                f"  {spec.name}: timerTrigger {trigger.get('schedule')} "
                f"(run now: POST {base_url}/admin/functions/{spec.name})"
            )
        else:
            lines.append(f"  {spec.name}: {trigger.type} (not served by this host)")
        missing = unsupported_bindings(spec)
        if missing:
            lines.append(f"    bindings not provided locally: {', '.join(missing)}")
    return lines


def build_app(
    specs: list[FunctionSpec],
    root: Path,
    *,
    app_module: ModuleType | None = None,
    webhook_key: str | None = None,
    master_key: str | None = None,
    timer_status: Path | None = None,
) -> web.Application:
    """The host's routes and timers.

    `webhook_key` makes the webhook check `?code=` (401 when wrong); `master_key` makes the
    admin API check it (the webhook takes it too, as Azure's master key opens system routes).
    `timer_status` keeps the timers' schedule status across restarts (past-due runs).
    Raises ScheduleError when a timer's schedule cannot be used.
    """
    host = FunctionHost(specs, app_module)
    prefix = route_prefix(root)
    http = HttpDispatcher(host, prefix)
    webhook = WebPubSubWebhook(host, webhook_key, master_key)
    listeners = timers.listeners(specs, host.run_timer, timer_status)
    admin = AdminInvoke([s.name for s in specs], listeners, master_key)

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="Your Functions app (devstack local host) is up and running.")

    # As the host's HostController: status is an admin route (the master key when keys are
    # checked), ping answers anyone (azure-functions-host, Controllers/HostController.cs).
    async def status(request: web.Request) -> web.Response:
        if master_key and not key_matches(request, master_key):
            return web.Response(status=401)
        return web.json_response({"state": "Running", "functions": [s.name for s in specs]})

    async def ping(request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def start_timers(app: web.Application) -> None:
        for listener in listeners:
            listener.start()

    async def close(app: web.Application) -> None:
        for listener in listeners:
            await listener.stop()
        await admin.close()
        await app[HOST_KEY].close()

    app = web.Application(client_max_size=100 * 1024 * 1024)
    app[HOST_KEY] = host
    app.on_startup.append(start_timers)
    app.on_cleanup.append(close)
    app.router.add_get("/", index)
    app.router.add_get("/admin/host/status", status)
    app.router.add_route("GET", "/admin/host/ping", ping)
    app.router.add_route("POST", "/admin/host/ping", ping)
    app.router.add_post("/admin/functions/{name}", admin.handle)
    app.router.add_route("*", WEBHOOK_PATH, webhook.handle)
    app.router.add_route("*", f"/{prefix}/{{tail:.*}}" if prefix else "/{tail:.*}", http.handle)
    return app
