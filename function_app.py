"""Azure Functions entry (Python v2 model): Web PubSub triggers, negotiate, HTTP routes."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import azure.functions as func

from channels import http_routes, pages, services  # importing wires the channels
from shared.azure.functions_app import (
    wire_http,
    wire_negotiate,
    wire_sweep,
    wire_webpubsub_triggers,
)
from shared.azure.runtime import ChannelRuntime

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
    from shared.core.docs import describe  # imported here too: a cold start pays for neither

    return json.dumps(describe(runtime.registry))


@functools.cache
def asyncapi() -> dict[str, Any]:
    """The app's AsyncAPI 3.0 document (`make clients` writes it and the clients to clients/).

    Its module (JSON Schema building) is imported on the first request, not at import."""
    from shared.core.asyncapi import asyncapi_document

    return asyncapi_document(
        runtime.registry,
        http_routes,
        title="Channels chat",
        version="1.0.0",
        description="The reference chat app: its channels, actions, pushed frames, HTTP routes.",
    )


@functools.cache
def asyncapi_json() -> str:
    from shared.core.asyncapi import document_json

    return document_json(asyncapi())


@app.route(route="channels", methods=["GET"])
def channel_docs(req: func.HttpRequest) -> func.HttpResponse:
    """Every channel, action, auth rule and JSON Schema: for docs and typed clients."""
    return func.HttpResponse(channel_docs_json(), mimetype="application/json")


@app.route(route="asyncapi.json", methods=["GET"])
def asyncapi_route(req: func.HttpRequest) -> func.HttpResponse:
    """The AsyncAPI 3.0 document the generated clients (clients/) are made from."""
    return func.HttpResponse(asyncapi_json(), mimetype="application/json")


CLIENT_MODULES = Path(__file__).parent / "clients" / "typescript" / "dist"


@functools.cache
def client_modules() -> dict[str, bytes]:
    """The generated TypeScript client as ES modules (`make clients`), read on first use."""
    return {path.name: path.read_bytes() for path in CLIENT_MODULES.glob("*.js")}


@app.route(route="client/{name}", methods=["GET"])
def client_module(req: func.HttpRequest) -> func.HttpResponse:
    """`import { connect } from "/api/client/api.js"`: the typed client for pages."""
    body = client_modules().get(req.route_params.get("name", ""))
    if body is None:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(body, mimetype="text/javascript", charset="utf-8")


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
