"""`/runtime/webhooks/webpubsub`, answered as the Web PubSub extension's dispatcher does.

First the host's own check (HostController.ExtensionWebHookHandler): with a webhook key set,
`?code=` or `x-functions-key` must be the `webpubsub_extension` system key, else 401.
Then the extension's order (WebPubSubTriggerDispatcher.ExecuteAsync): abuse-protection
handshake; CloudEvents headers (400); function lookup by hub + event type + event name (404);
signature (401); POST only (400); user-event content type (400); invoke; build the answer.

A function that raises on `connect` or a user event never completes the extension's return
value: the request is left waiting (here, until the caller gives up: the service's upstream
timeout). `connected` and `disconnected` answer 200 whatever happens.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy

from devstack.funchost import wps_protocol as wps
from devstack.funchost.admin import key_matches
from devstack.funchost.host import FunctionHost
from devstack.funchost.invoke import invocation_label
from devstack.funchost.jsonwriter import indented
from devstack.funchost.loader import FunctionSpec
from devstack.funchost.wps_bindings import DEFAULT_CONNECTION_SETTING, HUB_SETTING
from devstack.funchost.wps_response import ServiceReply, build_reply

log = logging.getLogger("devstack.funchost")
TRIGGER_TYPE = "webPubSubTrigger"
_NOT_SUPPORTED = "Message data only supports text, binary, json. Current value is: "
# The longest a request is held for a raising function (the host's own functionTimeout bound).
HANG_LIMIT_SECONDS = 600.0
_DATA_TYPES = {
    "text/plain": "Text",
    "application/json": "Json",
    "application/octet-stream": "Binary",
}


def _headers(raw: CIMultiDictProxy[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The request headers by lower-cased name (for the CloudEvents fields), and as the
    extension's `connectionContext.headers` shows them: every header except .NET's content
    headers, under its first spelling. One pass makes both."""
    by_name: dict[str, list[str]] = {}
    shown: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in raw.items():
        lowered = name.lower()
        by_name.setdefault(lowered, []).append(value)
        if lowered in wps.CONTENT_HEADERS:
            continue
        key = spelling.get(lowered)
        if key is None:
            key = spelling[lowered] = str(name)
        shown.setdefault(key, []).append(value)
    return by_name, shown


def _event_parts(fields: Mapping[str, Any], context: wps.ConnectionContext) -> dict[str, Any]:
    """What a trigger parameter gets by name (WebPubSubTriggerEvent properties)."""
    parts: dict[str, Any] = {"connectioncontext": indented(context.to_json_value())}
    for key, value in fields.items():
        if key in {"data", "dataType", "reason"} or value is None:
            parts[key.lower()] = value
        else:
            parts[key.lower()] = indented(value)
    return parts


async def _hold_until_caller_leaves(request: web.Request) -> None:
    """Answer nothing until the caller closes the connection (or the hang limit passes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_LIMIT_SECONDS
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            break
        await asyncio.sleep(0.2)


class WebPubSubWebhook:
    def __init__(
        self, host: FunctionHost, key: str | None = None, master_key: str | None = None
    ) -> None:
        self.host = host
        self.key = key
        self.master_key = master_key
        self.functions = [s for s in host.specs if s.trigger.type == TRIGGER_TYPE]
        self._table: dict[tuple[str, str, str], FunctionSpec] | None = None
        self._table_hub = ""

    def _authorized(self, request: web.Request) -> bool:
        return not self.key or key_matches(request, self.key, self.master_key)

    @staticmethod
    def _access() -> wps.ServiceAccess | None:
        connection_string = os.environ.get(DEFAULT_CONNECTION_SETTING)
        return wps.ServiceAccess.parse(connection_string) if connection_string else None

    def _lookup(self, context: wps.ConnectionContext) -> FunctionSpec | None:
        """The function for the event's hub, type and name (compared case-insensitively)."""
        hub_setting = os.environ.get(HUB_SETTING, "")
        if self._table is None or self._table_hub != hub_setting:
            # Built once (again only if the hub setting changes), not per event.
            table: dict[tuple[str, str, str], FunctionSpec] = {}
            for spec in self.functions:
                hub = str(spec.trigger.get("hub") or hub_setting).lower()
                event_type = str(spec.trigger.get("eventType") or "").lower()
                event_name = str(spec.trigger.get("eventName") or "").lower()
                table.setdefault((hub, event_type, event_name), spec)  # the first one wins
            self._table, self._table_hub = table, hub_setting
        key = (context.hub.lower(), context.event_type.lower(), context.event_name.lower())
        return self._table.get(key)

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            log.warning(
                "Web PubSub webhook: refused a request without the webpubsub_extension key "
                "(?code= missing or wrong): 401"
            )
            return web.Response(status=401)
        access = self._access()
        if request.method in {"OPTIONS", "GET"}:
            return self._handshake(request, access)
        by_name, shown = _headers(request.headers)
        try:
            context = wps.parse_context(by_name, shown)
        except wps.BadRequest as exc:
            log.warning("Web PubSub webhook: %s", exc)
            return web.Response(status=400)
        invocation_label.set(f"{context.event_name} conn={context.connection_id}")
        spec = self._lookup(context)
        if spec is None:
            log.warning(
                "Web PubSub webhook: no function for hub=%s %s/%s",
                context.hub,
                context.event_type,
                context.event_name,
            )
            return web.Response(status=404)
        if not wps.signature_valid(
            access, context.origin, context.signature, context.connection_id
        ):
            log.warning("Web PubSub webhook: invalid ce-signature for %s", context.connection_id)
            return web.Response(status=401)
        if request.method != "POST":
            return web.Response(status=400)
        kind = context.request_type
        body = await request.read()
        fields: dict[str, Any] | None
        try:
            if kind == "connect":
                fields = wps.connect_fields(body)
            elif kind == "disconnected":
                fields = wps.disconnected_fields(body)
            elif kind == "user":
                has_type = "Content-Type" in request.headers
                media_type = request.content_type.lower() if has_type else ""
                if media_type not in _DATA_TYPES:
                    return web.Response(status=400, text=f"{_NOT_SUPPORTED}{media_type}")
                fields = wps.user_fields(body, _DATA_TYPES[media_type])
            elif kind == "connected":
                fields = {}
            else:
                fields = None
        except ValueError as exc:
            log.warning("Web PubSub webhook: unreadable %s body: %s", kind, exc)
            return web.Response(status=500)
        trigger_value = self._trigger_value(spec, fields, context)

        def respond(result: Any) -> web.Response:
            if kind not in {"connect", "user"}:
                return web.Response(status=200)
            return _to_web(build_reply(result, kind, context))

        async def on_error(exc: BaseException) -> web.Response | None:
            if kind not in {"connect", "user"}:
                return web.Response(status=200)
            log.error(
                "Function '%s' raised on a blocking event: no answer is sent, as on Azure; the "
                "service gives up at its upstream timeout (connect refused / client dropped)",
                spec.name,
            )
            await _hold_until_caller_leaves(request)
            return None

        return await self.host.run(spec, trigger_value, {}, respond, on_error)

    @staticmethod
    def _trigger_value(
        spec: FunctionSpec, fields: Mapping[str, Any] | None, context: wps.ConnectionContext
    ) -> Any:
        name = spec.trigger.name.lower()
        if name == "request":
            return None if fields is None else wps.request_payload(fields, context)
        return _event_parts(fields or {}, context).get(name)

    def _handshake(self, request: web.Request, access: wps.ServiceAccess | None) -> web.Response:
        origins = [
            o for v in request.headers.getall(wps.ORIGIN_HEADER, []) for o in wps.split_list(v)
        ]
        if not origins:
            return web.Response(status=400)
        if not self.functions:
            log.warning("Web PubSub handshake refused: no Web PubSub trigger is loaded")
            return web.Response(status=400)
        allowed = wps.handshake(origins, access)
        if allowed is None:
            log.warning("Web PubSub handshake refused for origin %s", ",".join(origins))
            return web.Response(status=400)
        return web.Response(status=200, headers={wps.ALLOWED_ORIGIN_HEADER: allowed})


def _to_web(reply: ServiceReply) -> web.Response:
    response = web.Response(status=reply.status, body=reply.body, headers=reply.headers)
    if reply.content_type:
        response.headers["Content-Type"] = reply.content_type
    return response
