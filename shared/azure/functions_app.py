"""Wiring the runtime onto an Azure Functions app (Python v2 programming model).

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
runtime = ChannelRuntime()
wire_webpubsub_triggers(app, runtime)
wire_negotiate(app, runtime)
wire_http(app, runtime, broadcast_to_room, route="broadcast", methods=["POST"])
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import azure.functions as func

from shared.azure.runtime import ChannelRuntime
from shared.azure.settings import Settings
from shared.core.functions import ChannelFunction
from shared.core.http import HttpResult, call_function, negotiate, require_plain
from shared.core.ratelimit import RateLimit

# (function name, eventType, eventName): one trigger per event, all into one dispatcher.
WEBPUBSUB_EVENTS = (
    ("webpubsub_connect", "system", "connect"),
    ("webpubsub_connected", "system", "connected"),
    ("webpubsub_message", "user", "message"),
    ("webpubsub_disconnected", "system", "disconnected"),
)


def to_response(result: HttpResult) -> func.HttpResponse:
    headers = result.headers()
    if result.body is None:
        return func.HttpResponse(status_code=result.status, headers=headers)
    return func.HttpResponse(
        json.dumps(result.body),
        status_code=result.status,
        mimetype="application/json",
        headers=headers,
    )


def _register(
    app: func.FunctionApp, name: str, handler: Callable[..., Awaitable[Any]], *decorators: Any
) -> None:
    handler.__name__ = name
    handler.__qualname__ = name
    decorated: Any = handler
    for decorate in reversed(decorators):
        decorated = decorate(decorated)
    app.function_name(name=name)(decorated)


def wire_webpubsub_triggers(
    app: func.FunctionApp, runtime: ChannelRuntime, hub: str | None = None
) -> None:
    """Declare the `webPubSubTrigger` functions of the app's hub; each calls the dispatcher."""
    hub = hub or Settings.from_env().hub
    for name, event_type, event_name in WEBPUBSUB_EVENTS:

        async def handle(request: str) -> dict[str, Any] | None:
            return await runtime.handle_trigger(request)

        # The worker reads `request` (the whole event, a JSON string) by its name, and sends a
        # returned dict back to the extension as the trigger's output (a generic binding's
        # implicit output: the worker resolves the annotations but checks only the parameter's).
        trigger = app.generic_trigger(
            arg_name="request",
            type="webPubSubTrigger",
            hub=hub,
            eventType=event_type,
            eventName=event_name,
        )
        _register(app, name, handle, trigger)


def wire_negotiate(
    app: func.FunctionApp, runtime: ChannelRuntime, route: str = "negotiate"
) -> None:
    """`GET /api/negotiate/<channel route>?<opening data>` (or `?channel=<name>&...`) ->
    `{url, baseUrl, accessToken}`.

    Two functions, one step: `/api/negotiate` stays served whether or not a host's catch-all
    parameter matches an empty path (the literal route is the more specific one).
    """
    for name, template in (("negotiate", route), ("negotiate_route", f"{route}/{{*path}}")):

        async def handle(req: func.HttpRequest) -> func.HttpResponse:
            result = await negotiate(
                runtime,
                dict(req.params),
                req.headers.get("Authorization"),
                req.route_params.get("path") or "",
            )
            return to_response(result)

        _register(app, name, handle, app.route(route=template, methods=["GET"]))


def wire_http(
    app: func.FunctionApp,
    runtime: ChannelRuntime,
    fn: ChannelFunction,
    *,
    route: str,
    methods: Sequence[str] = ("POST",),
    auth: bool | None = None,
    rate_limit: str | None = None,
) -> None:
    """Serve a plain function at `/api/<route>`: JSON body in, JSON result out.

    Auth: the given `auth`, else the function's own, else required (a Bearer JWT).
    `rate_limit` ("20/10s"), else the function's own: per user, answered 429 with Retry-After.
    Only a plain `@func` fits: a channel function may use `services.channel`, which HTTP has not.
    """
    RateLimit.parse(rate_limit)  # a malformed limit fails here, at import
    require_plain(fn, f"wire_http(route={route!r})")

    async def handle(req: func.HttpRequest) -> func.HttpResponse:
        result = await call_function(
            runtime,
            fn,
            route=f"/api/{route}",
            body=req.get_body(),
            authorization=req.headers.get("Authorization"),
            auth=auth,
            rate_limit=rate_limit,
        )
        return to_response(result)

    _register(app, f"http_{fn.name}", handle, app.route(route=route, methods=list(methods)))


SWEEP_SCHEDULE = "0 */5 * * * *"  # every five minutes (NCRONTAB, with seconds)


def wire_sweep(
    app: func.FunctionApp, runtime: ChannelRuntime, schedule: str = SWEEP_SCHEDULE
) -> None:
    """A timer function that removes records of connections the service no longer has."""

    async def handle(timer: func.TimerRequest) -> None:
        await runtime.sweep()

    _register(
        app,
        "sweep_connections",
        handle,
        app.timer_trigger(schedule=schedule, arg_name="timer", run_on_startup=False),
    )
