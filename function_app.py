"""Azure Functions entry (Python v2 model): Web PubSub triggers, negotiate, HTTP routes."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import azure.functions as func

from channels import chat  # importing wires the channels
from channels.auth import guest_token
from channels.services import services
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
wire_http(app, runtime, chat.broadcast_to_room, route="broadcast", methods=["POST"])
wire_http(app, runtime, guest_token, route="token", methods=["POST"])

CHAT_PAGE = Path(__file__).parent / "channels" / "static" / "chat.html"


@functools.cache
def channel_docs_json() -> str:
    """Built on the first request, not at import: every cold start would pay for the schemas."""
    return json.dumps(describe(runtime.registry))


@app.route(route="channels", methods=["GET"])
def channel_docs(req: func.HttpRequest) -> func.HttpResponse:
    """Every channel, action, auth rule and JSON Schema: for docs and typed clients."""
    return func.HttpResponse(channel_docs_json(), mimetype="application/json")


@app.route(route="chat", methods=["GET"])
def chat_page(req: func.HttpRequest) -> func.HttpResponse:
    """The reference chat page: pick a room and a name, then chat live."""
    return func.HttpResponse(_chat_page(), mimetype="text/html", charset="utf-8")


@functools.cache
def _chat_page() -> bytes:
    return CHAT_PAGE.read_bytes()
