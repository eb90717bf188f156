"""The client WebSocket endpoint: `/client/hubs/{hub}` (and `/client?hub=`)."""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WebSocketError, WSMsgType, web

from .auth import TokenError, claim_list, verify_client_token
from .config import UpstreamConfig
from .connection import KNOWN_PROTOCOLS, Connection, ConnectionState
from .messages import connected_message
from .protocols import receive_frame
from .service import POLICY_VIOLATION, Service, new_connection_id
from .upstream import SYSTEM_PREFIX, EventContext, UpstreamError, merge_states

log = logging.getLogger(__name__)

HUB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_`,.\[\]]{0,127}$")
SERVICE_KEY = web.AppKey("service", Service)
MESSAGE_TOO_BIG = 1009
# No permessage-deflate: the service answers without it, as ASP.NET Core does unless
# WebSocketAcceptContext.DangerousEnableCompression is set, and as Microsoft's own simulator
# does (azure-sdk-for-js sdk/web-pubsub/web-pubsub-simulator: a `ws` WebSocketServer, whose
# perMessageDeflate is off by default). Compressing every frame was also a third of the
# emulator's time under bench.stack_echo (py-spy).
COMPRESS = False


def _requested_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def _multi(items: Any) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in items:
        result.setdefault(key, []).append(value)
    return result


def _claims_for_event(claims: dict[str, Any]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in claims.items():
        values = value if isinstance(value, list) else [value]
        result[key] = [v if isinstance(v, str) else json.dumps(v) for v in values]
    return result


def _access_token(request: web.Request) -> str | None:
    token = request.query.get("access_token")
    if token:
        return token
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _hosts(request: web.Request, service: Service) -> set[str]:
    public = urlsplit(f"http://{service.config.public_host}")
    hosts = {request.host}
    if request.url.port is not None:
        hosts.add(f"{service.config.public_host}:{request.url.port}")
        hosts.add(f"{public.hostname}:{request.url.port}")
    return hosts


def _choose_protocol(requested: list[str], selected: str | None) -> str | None:
    if selected:
        return selected if selected in requested else None
    return next((p for p in requested if p in KNOWN_PROTOCOLS), None)


async def client_endpoint(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE_KEY]
    hub = request.match_info.get("hub") or request.query.get("hub", "")
    if not HUB_NAME.match(hub):
        return web.Response(status=400, text=f"invalid hub name {hub!r}")
    probe = web.WebSocketResponse(protocols=tuple(_requested_protocols(request)))
    if not probe.can_prepare(request).ok:
        return web.Response(status=400, text="expected a WebSocket upgrade request")
    if "awps_connection_id" in request.query:
        return await _recover(request, service, hub)

    token = _access_token(request)
    if token is None:
        return web.Response(status=401, text="an access token is required")
    try:
        claims = verify_client_token(
            token, service.config.access_key, hub, _hosts(request, service)
        )
    except TokenError as exc:
        return web.Response(status=401, text=str(exc))

    connection_id = new_connection_id()
    user_id: str | None = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    roles = set(claim_list(claims, "role"))
    groups = claim_list(claims, "webpubsub.group")
    requested = _requested_protocols(request)
    selected: str | None = None
    states: str | None = None

    handler = service.handler(hub)
    if handler is not None and "connect" in handler.system_events:
        outcome = await _connect_event(
            request, service, handler, hub, connection_id, user_id, claims
        )
        if isinstance(outcome, web.Response):
            return outcome
        answer, states = outcome
        if isinstance(answer.get("userId"), str) and answer["userId"]:
            user_id = answer["userId"]
        roles.update(r for r in answer.get("roles") or [] if isinstance(r, str))
        groups.extend(g for g in answer.get("groups") or [] if isinstance(g, str))
        if isinstance(answer.get("subprotocol"), str):
            selected = answer["subprotocol"]

    protocol = _choose_protocol(requested, selected)
    if selected and protocol is None:
        return web.Response(
            status=500, text=f"the event handler chose subprotocol {selected!r}, not requested"
        )
    ws = web.WebSocketResponse(
        protocols=(protocol,) if protocol else (),
        max_msg_size=service.config.max_frame_size,
        compress=COMPRESS,
    )
    await ws.prepare(request)

    reliable = protocol == KNOWN_PROTOCOLS[0]
    connection = Connection(
        connection_id=connection_id,
        hub=hub,
        user_id=user_id,
        subprotocol=protocol,
        roles=roles,
        claims=claims,
        states=states,
        reconnection_token=secrets.token_urlsafe(32) if reliable else None,
        max_unacked=service.config.max_unacked,
    )
    first = (
        [connected_message(connection.id, user_id, connection.reconnection_token)]
        if connection.is_json
        else []
    )
    connection.attach(request, ws, first)
    service.hub(hub).add(connection, groups)
    service.fire_connected(connection)
    await _serve(service, connection, ws)
    return ws


async def _connect_event(
    request: web.Request,
    service: Service,
    handler: UpstreamConfig,
    hub: str,
    connection_id: str,
    user_id: str | None,
    claims: dict[str, Any],
) -> web.Response | tuple[dict[str, Any], str | None]:
    """Raise `connect`; the handler's answer and states, or the response refusing the socket."""
    body = {
        "claims": _claims_for_event(claims),
        "query": _multi(request.query.items()),
        "headers": _multi(request.headers.items()),
        "subprotocols": _requested_protocols(request),
        "clientCertificates": [],
    }
    context = EventContext(hub, connection_id, user_id, None, None)
    try:
        result = await service.upstream.send(
            handler.url,
            context,
            ce_type=SYSTEM_PREFIX + "connect",
            event_name="connect",
            body=json.dumps(body).encode(),
            content_type="application/json; charset=utf-8",
        )
    except UpstreamError as exc:
        log.warning("connect event failed: %s", exc)
        return web.Response(status=500, text=f"the connect event handler failed: {exc}")
    if not result.ok:
        return web.Response(
            status=result.status if result.status >= 400 else 500,
            body=result.body,
            content_type="text/plain",
        )
    answer: dict[str, Any] = {}
    if result.status != 204 and result.body.strip():
        try:
            parsed = json.loads(result.body)
        except ValueError:
            return web.Response(status=500, text="the connect event handler answered invalid JSON")
        if isinstance(parsed, dict):
            answer = parsed
    return answer, merge_states(None, result.states)


async def _recover(request: web.Request, service: Service, hub: str) -> web.StreamResponse:
    """Re-attach a dropped reliable connection, or close the socket with 1008."""
    connection_id = request.query.get("awps_connection_id", "")
    token = request.query.get("awps_reconnection_token", "")
    connection = service.find(hub, connection_id)
    valid = (
        connection is not None
        and connection.state is not ConnectionState.CLOSED
        and connection.reconnection_token is not None
        and secrets.compare_digest(connection.reconnection_token, token)
        and connection.subprotocol in _requested_protocols(request)
    )
    if connection is None or not valid:
        ws = web.WebSocketResponse(
            protocols=tuple(_requested_protocols(request))[:1], compress=COMPRESS
        )
        await ws.prepare(request)
        await ws.close(code=POLICY_VIOLATION, message=b"The connection cannot be recovered")
        return ws
    ws = web.WebSocketResponse(
        protocols=(connection.subprotocol or "",),
        max_msg_size=service.config.max_frame_size,
        compress=COMPRESS,
    )
    await ws.prepare(request)
    first = [connected_message(connection.id, connection.user_id, connection.reconnection_token)]
    connection.attach(request, ws, first)
    await _serve(service, connection, ws)
    return ws


async def _serve(service: Service, connection: Connection, ws: web.WebSocketResponse) -> None:
    """Read frames until the socket ends, then finalize the connection or await recovery."""
    reason = "The client closed the connection"
    lost = False
    while True:
        message = await ws.receive()
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            if connection.state is not ConnectionState.CLOSED:
                await receive_frame(service, connection, message.data)
            continue
        if message.type is WSMsgType.CLOSED:
            lost, reason = True, "The connection was lost"
        elif message.type is WSMsgType.ERROR:
            error = message.data
            if isinstance(error, WebSocketError) and error.code == MESSAGE_TOO_BIG:
                reason = "The message is larger than the maximum frame size"
            else:
                lost, reason = True, f"The connection failed: {error}"
        break
    if connection.attachment is None or connection.attachment.ws is not ws:
        return  # a recovery attached a newer socket
    if not (lost and connection.is_reliable):
        # The events of frames the client sent before it left are raised before `disconnected`.
        await connection.inbox.drained()
        if connection.attachment is None or connection.attachment.ws is not ws:
            return
    if lost and connection.is_reliable and connection.state is ConnectionState.CONNECTED:
        service.socket_lost(connection, reason)
        return
    if connection.state is ConnectionState.CLOSED:
        await connection.finish_writing()
    connection.detach(abort=False)
    service.finalize(connection, reason)
