"""The REST data plane under `/api`, as `azure-messaging-webpubsubservice` calls it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from aiohttp import web

from .auth import TokenError, issue_client_token, verify_rest_token
from .client_endpoint import HUB_NAME, SERVICE_KEY
from .connection import PERMISSIONS, Connection
from .hub import Hub
from .messages import InvalidPayload, Outgoing, payload_from_http
from .odata import FilterError, Predicate, parse_filter
from .service import Service

DEFAULT_REASON = "The connection was closed by the server"
MAX_PAGE_SIZE = 200


@dataclass
class Call:
    """One REST request, resolved to its hub and path parameters."""

    request: web.Request
    service: Service
    hub: Hub
    params: dict[str, str]

    def query_list(self, name: str) -> list[str]:
        return list(self.request.query.getall(name, []))

    def connection(self) -> Connection | None:
        return self.hub.connections.get(self.params["connection"])


Handler = Callable[[Call], Awaitable[web.Response]]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _exists(found: bool) -> web.Response:
    return web.Response(status=200 if found else 404)


# -- sending ------------------------------------------------------------------------------


async def _outgoing(call: Call, group: str | None = None) -> Outgoing | web.Response:
    body = await call.request.read()
    limit = call.service.config.max_frame_size
    if len(body) > limit:
        # The service's largest message is 1 MB, whoever sends it.
        return _error(
            413, "PayloadTooLarge", f"the message is {len(body)} bytes; the limit is {limit}"
        )
    try:
        payload = payload_from_http(call.request.headers.get("Content-Type"), body)
    except InvalidPayload as exc:
        return _error(400, "InvalidPayload", str(exc))
    return Outgoing(payload, group=group)


def _filter(call: Call) -> Predicate | web.Response | None:
    source = call.request.query.get("filter")
    if not source:
        return None
    try:
        return parse_filter(source)
    except FilterError as exc:
        return _error(400, "InvalidFilter", str(exc))


async def _send(call: Call, targets: list[Connection], group: str | None = None) -> web.Response:
    message = await _outgoing(call, group)
    if isinstance(message, web.Response):
        return message
    predicate = _filter(call)
    if isinstance(predicate, web.Response):
        return predicate
    call.hub.send(
        targets,
        message,
        excluded=call.query_list("excluded"),
        predicate=predicate,
        overflow=call.service.overflow,
    )
    return web.Response(status=202)


async def send_to_all(call: Call) -> web.Response:
    return await _send(call, list(call.hub.connections.values()))


async def send_to_connection(call: Call) -> web.Response:
    connection = call.connection()
    return await _send(call, [connection] if connection is not None else [])


async def send_to_user(call: Call) -> web.Response:
    return await _send(call, call.hub.user_connections(call.params["user"]))


async def send_to_group(call: Call) -> web.Response:
    group = call.params["group"]
    return await _send(call, call.hub.group_connections(group), group)


# -- closing ------------------------------------------------------------------------------


def _close(call: Call, targets: list[Connection]) -> web.Response:
    reason = call.request.query.get("reason") or DEFAULT_REASON
    excluded = set(call.query_list("excluded"))
    for connection in targets:
        if connection.id not in excluded:
            call.service.close_connection(connection, reason)
    return _no_content()


async def close_all(call: Call) -> web.Response:
    return _close(call, list(call.hub.connections.values()))


async def close_connection(call: Call) -> web.Response:
    connection = call.connection()
    return _close(call, [connection] if connection is not None else [])


async def close_group(call: Call) -> web.Response:
    return _close(call, call.hub.group_connections(call.params["group"]))


async def close_user(call: Call) -> web.Response:
    return _close(call, call.hub.user_connections(call.params["user"]))


# -- existence ----------------------------------------------------------------------------


async def connection_exists(call: Call) -> web.Response:
    return _exists(call.connection() is not None)


async def group_exists(call: Call) -> web.Response:
    return _exists(bool(call.hub.group_connections(call.params["group"])))


async def user_exists(call: Call) -> web.Response:
    return _exists(bool(call.hub.user_connections(call.params["user"])))


# -- groups -------------------------------------------------------------------------------


async def add_connection_to_group(call: Call) -> web.Response:
    connection = call.connection()
    if connection is None:
        return _error(404, "NotFound", f"connection {call.params['connection']!r} not found")
    call.hub.join(connection, call.params["group"])
    return web.Response(status=200)


async def remove_connection_from_group(call: Call) -> web.Response:
    connection = call.connection()
    if connection is not None:
        call.hub.leave(connection, call.params["group"])
    return _no_content()


async def remove_connection_from_all_groups(call: Call) -> web.Response:
    connection = call.connection()
    if connection is not None:
        for group in list(connection.groups):
            call.hub.leave(connection, group)
    return _no_content()


async def add_user_to_group(call: Call) -> web.Response:
    call.hub.add_user_to_group(call.params["user"], call.params["group"])
    return web.Response(status=200)


async def remove_user_from_group(call: Call) -> web.Response:
    call.hub.remove_user_from_group(call.params["user"], call.params["group"])
    return _no_content()


async def remove_user_from_all_groups(call: Call) -> web.Response:
    call.hub.remove_user_from_all_groups(call.params["user"])
    return _no_content()


async def list_connections(call: Call) -> web.Response:
    query = call.request.query
    try:
        page_size = min(int(query.get("maxpagesize", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)
        top = int(query["top"]) if "top" in query else None
        offset = int(query.get("continuationToken", "0"))
    except ValueError:
        return _error(400, "InvalidParameter", "maxpagesize, top and continuationToken are numbers")
    if page_size < 1 or (top is not None and top < 1) or offset < 0:
        return _error(400, "InvalidParameter", "maxpagesize and top must be positive")
    group = call.params["group"]
    members = sorted(call.hub.group_connections(group), key=lambda c: c.id)
    limit = len(members) if top is None else min(top, len(members))
    end = min(offset + page_size, limit)
    page = members[offset:end]
    body: dict[str, object] = {"value": [{"connectionId": c.id, "userId": c.user_id} for c in page]}
    if end < limit:
        link = (
            f"/api/hubs/{quote(call.hub.name, safe='')}/groups/{quote(group, safe='')}"
            f"/connections?maxpagesize={page_size}&continuationToken={end}"
        )
        if top is not None:
            link += f"&top={top}"
        body["nextLink"] = link
    return web.json_response(body)


# -- permissions --------------------------------------------------------------------------


def _permission(call: Call) -> tuple[str, str | None] | web.Response:
    permission = call.params["permission"]
    if permission not in PERMISSIONS:
        return _error(400, "InvalidPermission", f"permission must be one of {PERMISSIONS}")
    return permission, call.request.query.get("targetName") or None


def _role(permission: str, target: str | None) -> str:
    return f"webpubsub.{permission}" + (f".{target}" if target else "")


async def grant_permission(call: Call) -> web.Response:
    parsed = _permission(call)
    if isinstance(parsed, web.Response):
        return parsed
    connection = call.connection()
    if connection is None:
        return _error(404, "NotFound", f"connection {call.params['connection']!r} not found")
    connection.roles.add(_role(*parsed))
    return web.Response(status=200)


async def revoke_permission(call: Call) -> web.Response:
    parsed = _permission(call)
    if isinstance(parsed, web.Response):
        return parsed
    connection = call.connection()
    if connection is not None:
        connection.roles.discard(_role(*parsed))
    return _no_content()


async def has_permission(call: Call) -> web.Response:
    parsed = _permission(call)
    if isinstance(parsed, web.Response):
        return parsed
    permission, target = parsed
    connection = call.connection()
    if connection is None:
        return _exists(False)
    if target is None:
        return _exists(_role(permission, None) in connection.roles)
    return _exists(connection.can(permission, target))


# -- tokens -------------------------------------------------------------------------------


async def generate_token(call: Call) -> web.Response:
    query = call.request.query
    try:
        minutes = int(query.get("minutesToExpire", "60"))
    except ValueError:
        return _error(400, "InvalidParameter", "minutesToExpire must be a number")
    audience = f"http://{call.request.host}/client/hubs/{call.hub.name}"
    token = issue_client_token(
        call.service.config.access_key,
        audience,
        user_id=query.get("userId"),
        roles=call.query_list("role"),
        groups=call.query_list("group"),
        minutes_to_expire=minutes,
    )
    return web.json_response({"token": token})


# -- routing ------------------------------------------------------------------------------

ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", ":send", send_to_all),
    ("POST", ":closeConnections", close_all),
    ("POST", ":generateToken", generate_token),
    ("DELETE", "connections/{connection}", close_connection),
    ("HEAD", "connections/{connection}", connection_exists),
    ("POST", "connections/{connection}/:send", send_to_connection),
    ("DELETE", "connections/{connection}/groups", remove_connection_from_all_groups),
    ("HEAD", "groups/{group}", group_exists),
    ("POST", "groups/{group}/:closeConnections", close_group),
    ("POST", "groups/{group}/:send", send_to_group),
    ("GET", "groups/{group}/connections", list_connections),
    ("PUT", "groups/{group}/connections/{connection}", add_connection_to_group),
    ("DELETE", "groups/{group}/connections/{connection}", remove_connection_from_group),
    ("PUT", "permissions/{permission}/connections/{connection}", grant_permission),
    ("DELETE", "permissions/{permission}/connections/{connection}", revoke_permission),
    ("HEAD", "permissions/{permission}/connections/{connection}", has_permission),
    ("HEAD", "users/{user}", user_exists),
    ("POST", "users/{user}/:closeConnections", close_user),
    ("POST", "users/{user}/:send", send_to_user),
    ("DELETE", "users/{user}/groups", remove_user_from_all_groups),
    ("PUT", "users/{user}/groups/{group}", add_user_to_group),
    ("DELETE", "users/{user}/groups/{group}", remove_user_from_group),
]

_VARIABLE = re.compile(r"^\{(\w+)\}$")


def _match(pattern: str, segments: list[str]) -> dict[str, str] | None:
    parts = pattern.split("/")
    if len(parts) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        variable = _VARIABLE.match(part)
        if variable is not None:
            if not segment:
                return None
            params[variable.group(1)] = segment
        elif part != segment:
            return None
    return params


def _authorize(request: web.Request, service: Service) -> web.Response | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "Unauthorized", "a bearer token is required")
    hosts = {request.host}
    if request.url.port is not None:
        hosts.add(f"{service.config.public_host}:{request.url.port}")
    try:
        verify_rest_token(token.strip(), service.config.access_key, request.raw_path, hosts)
    except TokenError as exc:
        return _error(401, "Unauthorized", str(exc))
    return None


async def rest_endpoint(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE_KEY]
    path = request.raw_path.partition("?")[0]
    segments = [unquote(s) for s in path.split("/")[1:]]  # ["api", ...]
    if segments[1:] == ["health"]:
        return web.Response(status=200)
    if len(segments) < 4 or segments[1] != "hubs":
        return _error(404, "NotFound", f"no such API: {request.method} {path}")
    hub_name, rest = segments[2], segments[3:]
    for method, pattern, handler in ROUTES:
        params = _match(pattern, rest)
        if params is None or method != request.method:
            continue
        if not HUB_NAME.match(hub_name):
            return _error(400, "InvalidHub", f"invalid hub name {hub_name!r}")
        denied = _authorize(request, service)
        if denied is not None:
            return denied
        if "api-version" not in request.query:
            return _error(400, "MissingApiVersion", "the api-version query parameter is required")
        return await handler(Call(request, service, service.hub(hub_name), params))
    allowed = sorted({m for m, p, _ in ROUTES if _match(p, rest) is not None})
    if allowed:
        return _error(405, "MethodNotAllowed", f"use {', '.join(allowed)}")
    return _error(404, "NotFound", f"no such API: {request.method} {path}")
