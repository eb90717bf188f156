"""Azure Functions entry (Python v2 model): Web PubSub triggers, negotiate, HTTP routes."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import azure.functions as func

from channels import http_routes, pages, services  # importing wires the channels
from shared.azure.functions_app import (
    wire_http,
    wire_negotiate,
    wire_sweep,
    wire_webpubsub_triggers,
)
from shared.azure.runtime import ChannelRuntime
from shared.core.docs import describe

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
runtime = ChannelRuntime(services=services)

wire_webpubsub_triggers(app, runtime)
wire_negotiate(app, runtime)
wire_sweep(app, runtime)
for route in http_routes:
    wire_http(app, runtime, route.fn, route=route.route, methods=[route.method], auth=route.auth)


@functools.cache
def channel_docs_json() -> str:
    """Built on the first request, not at import: every cold start would pay for the schemas."""
    return json.dumps(describe(runtime.registry))


@app.route(route="channels", methods=["GET"])
def channel_docs(req: func.HttpRequest) -> func.HttpResponse:
    """Every channel, action, auth rule and JSON Schema: for docs and typed clients."""
    return func.HttpResponse(channel_docs_json(), mimetype="application/json")


def serve_page(name: str, path: Path) -> None:
    """`GET /api/<name>`: one of the app's pages (the chat page: pick a room and a name).

    Read on its first request, not at import (a cold start would pay for it)."""
    body = functools.cache(path.read_bytes)

    def page(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(body(), mimetype="text/html", charset="utf-8")

    page.__name__ = page.__qualname__ = f"{name}_page"
    app.function_name(name=f"{name}_page")(app.route(route=name, methods=["GET"])(page))


for name, path in pages.items():
    serve_page(name, path)
