"""Azure Functions entry (Python v2 model): Web PubSub triggers, negotiate, HTTP routes."""

from __future__ import annotations

import azure.functions as func

from channels import chat  # importing wires the channels
from channels.auth import guest_token
from shared.azure_app import wire_http, wire_negotiate, wire_webpubsub_triggers
from shared.runtime import ChannelRuntime

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
runtime = ChannelRuntime()

wire_webpubsub_triggers(app, runtime)
wire_negotiate(app, runtime)
wire_http(app, runtime, chat.broadcast_to_room, route="broadcast", methods=["POST"])
wire_http(app, runtime, guest_token, route="token", methods=["POST"])
