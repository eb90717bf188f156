"""Azure Functions entry (Python v2 model): Web PubSub triggers, negotiate, HTTP routes."""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

from channels import chat  # importing wires the channels
from channels.auth import guest_token
from channels.services import services
from shared.azure.functions_app import wire_http, wire_negotiate, wire_webpubsub_triggers
from shared.azure.runtime import ChannelRuntime
from shared.core.asyncapi import HttpRoute, asyncapi_document
from shared.core.docs import describe

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
runtime = ChannelRuntime(services=services)

wire_webpubsub_triggers(app, runtime)
wire_negotiate(app, runtime)
HTTP_ROUTES = (
    HttpRoute(chat.broadcast_to_room, route="broadcast", methods=["POST"]),
    HttpRoute(guest_token, route="token", methods=["POST"]),
)
for http_route in HTTP_ROUTES:
    wire_http(app, runtime, http_route.func, route=http_route.route, methods=http_route.methods)

CHANNEL_DOCS = json.dumps(describe(runtime.registry))
ASYNCAPI = asyncapi_document(
    runtime.registry,
    HTTP_ROUTES,
    title="Channels chat",
    version="1.0.0",
    description="The reference chat app: its channels, actions, pushed frames and HTTP routes.",
)
ASYNCAPI_JSON = json.dumps(ASYNCAPI, sort_keys=True, indent=2) + "\n"
CHAT_PAGE = (Path(__file__).parent / "channels" / "static" / "chat.html").read_bytes()


@app.route(route="channels", methods=["GET"])
def channel_docs(req: func.HttpRequest) -> func.HttpResponse:
    """Every channel, action, auth rule and JSON Schema: for docs and typed clients."""
    return func.HttpResponse(CHANNEL_DOCS, mimetype="application/json")


@app.route(route="asyncapi.json", methods=["GET"])
def asyncapi(req: func.HttpRequest) -> func.HttpResponse:
    """The AsyncAPI 3.0 document the generated clients (clients/) are made from."""
    return func.HttpResponse(ASYNCAPI_JSON, mimetype="application/json")


@app.route(route="chat", methods=["GET"])
def chat_page(req: func.HttpRequest) -> func.HttpResponse:
    """The reference chat page: pick a room and a name, then chat live."""
    return func.HttpResponse(CHAT_PAGE, mimetype="text/html", charset="utf-8")
