"""A tiny v2 function app the host tests load: HTTP routes, bindings, Web PubSub triggers.

`SEEN` records what each trigger function received; `REPLIES` sets what it returns next
(`RAISE` makes it raise).
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

HUB = "sample"
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

SEEN: list[tuple[str, Any]] = []
REPLIES: dict[str, Any] = {}
RAISE = "raise"


@app.route(route="hello/{name}", methods=["GET"])
async def hello(req: func.HttpRequest) -> func.HttpResponse:
    who = req.route_params["name"]
    return func.HttpResponse(f"hello {who} {req.params.get('greeting', '')}".strip())


@app.route(route="echo", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    body = {"method": req.method, "json": req.get_json(), "header": req.headers.get("x-probe")}
    return func.HttpResponse(
        json.dumps(body), status_code=201, mimetype="application/json", headers={"x-sync": "yes"}
    )


@app.route(route="text")
def text(req: func.HttpRequest) -> str:
    return "plain result"


@app.route(route="boom")
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")


@app.route(route="negotiate", methods=["GET"])
@app.generic_input_binding(
    arg_name="connection", type="webPubSubConnection", hub=HUB, userId="{query.userId}"
)
def negotiate(req: func.HttpRequest, connection: str) -> func.HttpResponse:
    return func.HttpResponse(connection, mimetype="application/json")


@app.route(route="broadcast", methods=["POST"])
@app.generic_output_binding(arg_name="actions", type="webPubSub", hub=HUB)
async def broadcast(req: func.HttpRequest, actions: func.Out[str]) -> func.HttpResponse:
    actions.set(req.get_body().decode())
    return func.HttpResponse("sent", status_code=202)


def _record(name: str, request: str) -> Any:
    SEEN.append((name, request))
    reply = REPLIES.pop(name, None)
    if reply == RAISE:
        raise RuntimeError(f"the app failed on {name}")
    return reply


@app.generic_trigger(
    arg_name="request", type="webPubSubTrigger", hub=HUB, eventType="system", eventName="connect"
)
def on_connect(request: str) -> Any:
    return _record("connect", request)


@app.generic_trigger(
    arg_name="request", type="webPubSubTrigger", hub=HUB, eventType="system", eventName="connected"
)
async def on_connected(request: str) -> Any:
    return _record("connected", request)


@app.generic_trigger(
    arg_name="request", type="webPubSubTrigger", hub=HUB, eventType="user", eventName="message"
)
async def on_message(request: str) -> Any:
    reply = _record("message", request)
    data = json.loads(request)["data"]
    if reply is None and data.startswith("echo "):
        # Lets a test through the real emulator see the trigger's reply as a frame.
        return {"data": data[len("echo ") :], "dataType": "text"}
    return reply


@app.generic_trigger(
    arg_name="request",
    type="webPubSubTrigger",
    hub=HUB,
    eventType="system",
    eventName="disconnected",
)
def on_disconnected(request: str) -> Any:
    return _record("disconnected", request)


@app.generic_trigger(
    arg_name="data", type="webPubSubTrigger", hub=HUB, eventType="user", eventName="raw"
)
def on_raw(data: str) -> Any:
    return _record("raw", data)
