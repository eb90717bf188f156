"""Plain functions over HTTP, and the negotiate step, free of any web framework.

Each returns an `HttpResult`; an adapter (shared/azure/functions_app.py, shared/local) turns it
into its web framework's response.
"""

from __future__ import annotations

import logging
import math
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python

from shared.core import telemetry
from shared.core.decoding import decode_json
from shared.core.errors import (
    BadRequestError,
    ChannelError,
    InternalServerError,
    NotFoundError,
    UnauthorizedError,
    WiringError,
    cause_of,
)
from shared.core.event_hub import EventHub
from shared.core.functions import ChannelFunction, FunctionKind
from shared.core.jwt_service import JwtService
from shared.core.logs import channel_logger
from shared.core.middleware import invoke
from shared.core.outbound import Outbound
from shared.core.ratelimit import RateLimit
from shared.core.runtime import Runtime
from shared.core.session import SESSION_KEY, Session, UserSession
from shared.core.validation import opening_data_from_query, validate_opening_data
from shared.core.wiring import ChannelDefinition

log = channel_logger("channels.http")
NEGOTIATE_ROUTE = "/api/negotiate"  # its name in telemetry

ACCESS_MINUTES = 60  # an access token's life when no Bearer token bounds it


def require_plain(fn: ChannelFunction, where: str) -> None:
    """Only a plain `@func` can be served over HTTP: a channel function may use
    `services.channel`, which an HTTP request has not."""
    if fn.kind is not FunctionKind.PLAIN:
        raise WiringError(
            f"{where}: {fn.name} ({fn.location}) is a {fn.kind.value} function; "
            "only a plain @func can be served over HTTP"
        )


@dataclass(frozen=True)
class HttpRoute:
    """A plain function an app serves at `/api/<route>`, whatever adapter runs it.

    An app lists its routes once (`http_routes = [HttpRoute("POST", "token", guest_token)]`);
    every adapter serves that list. Auth: `auth`, else the function's own, else required.
    """

    method: str
    route: str
    fn: ChannelFunction
    auth: bool | None = None

    def __post_init__(self) -> None:
        require_plain(self.fn, f"HttpRoute({self.method!r}, {self.route!r})")
        if not self.route or self.route.startswith("/") or not self.method.isupper():
            raise WiringError(
                f"HttpRoute({self.method!r}, {self.route!r}): give an upper-case method and "
                "a route without a leading '/' (it is served at /api/<route>)"
            )


@dataclass(frozen=True)
class HttpResult:
    """What an HTTP function answers: a status and a JSON body."""

    status: int
    body: Any = None  # JSON-able; None means no body

    def headers(self) -> dict[str, str]:
        """Retry-After (whole seconds, rounded up) on a 429."""
        wait = self.body.get("retryAfter") if isinstance(self.body, dict) else None
        return {"Retry-After": str(math.ceil(wait))} if isinstance(wait, int | float) else {}


def error_result(exc: ChannelError) -> HttpResult:
    if exc.status >= 500:  # the client reads the message; the log also says why
        log.warning("%s: %s%s", exc.name, exc.message, cause_of(exc))
    return HttpResult(exc.status, exc.to_body())


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer <JWT>` header; None without one; 401 when it is malformed."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Authorization must be 'Bearer <token>'")
    return token.strip()


def bearer_session(jwt: JwtService, authorization: str | None) -> Session | None:
    """The session a `Bearer <JWT>` header carries; None without one; 401 when it is bad."""
    token = bearer_token(authorization)
    return jwt.session(token) if token else None


async def call_function(
    runtime: Runtime,
    fn: ChannelFunction,
    *,
    route: str,
    body: bytes,
    authorization: str | None,
    auth: bool | None = None,
    rate_limit: str | RateLimit | None = None,
) -> HttpResult:
    """Run a plain function for an HTTP request: JSON body in, JSON result out.

    Auth: the given `auth`, else the function's own, else required (a Bearer JWT). App-wide
    rules (by the function's tags) apply as in a channel; a failed permission is a 403.
    Rate limit: the given one, else the function's own, counted per user (a request with no
    session is not counted).
    """
    if telemetry.state.instruments is not None:
        return await telemetry.observe_http(
            route,
            lambda: _call_function(runtime, fn, route, body, authorization, auth, rate_limit),
        )
    return await _call_function(runtime, fn, route, body, authorization, auth, rate_limit)


async def _call_function(
    runtime: Runtime,
    fn: ChannelFunction,
    route: str,
    body: bytes,
    authorization: str | None,
    auth: bool | None,
    rate_limit: str | RateLimit | None,
) -> HttpResult:
    needs_auth = auth if auth is not None else fn.auth if fn.auth is not None else True
    limit = RateLimit.parse(rate_limit) or fn.rate_limit
    try:
        parts = runtime.parts
        session = bearer_session(parts.jwt, authorization)
        unauthorized = f"{route} needs 'Authorization: Bearer <token>'" if needs_auth else None
        if unauthorized is not None and session is None and not fn.middleware:
            # Refused before the body is read: an anonymous caller costs no parsing. (A
            # middleware may establish the session from the body, so it gets the body.)
            raise UnauthorizedError(unauthorized)
        if limit is not None and session is not None:
            parts.user_limits.take(route, session.user_id, limit)
        data = decode_json(body, "request body") if body else {}
        rules = runtime.registry.rules.resolve(fn.docs.tags if fn.docs else ())
        outbound = Outbound(
            parts.transport, middleware=rules.frame_middleware, strict=parts.dispatcher.strict
        )
        services = parts.services.build(
            fn.services_type,
            logger=logging.LoggerAdapter(log, {"route": route}),
            user_session=UserSession(session),
            event_hub=EventHub(outbound, parts.store),
        )
        if outbound.intercepts:  # only frame middleware needs them (and no cycle otherwise)
            outbound.services = services
        result = await invoke(
            fn,
            services,
            data,
            middleware=(*rules.middleware, *fn.middleware),
            channel=None,
            action=route,
            unauthorized=unauthorized,
            permissions=rules.permissions,
        )
    except ChannelError as exc:
        return error_result(exc)
    except Exception:
        log.exception("%s failed", route)
        return error_result(InternalServerError("internal error"))
    out = to_jsonable_python(result, by_alias=True)
    return HttpResult(204) if out is None else HttpResult(200, out)


async def negotiate(
    runtime: Runtime,
    query: Mapping[str, str],
    authorization: str | None,
    path: str = "",
) -> HttpResult:
    """`{url, baseUrl, accessToken}` for `/<channel route>` or `?channel=<name>`, plus opening data.

    A route's parameters are opening data (`/chat/:room` makes `/chat/general` give
    `{room: "general"}`), as are the other query keys. The opening data is checked here, so a
    client learns about a bad room before it connects. A valid `Bearer` token makes its userId
    the connection's user id.
    """
    if telemetry.state.instruments is not None:
        return await telemetry.observe_http(
            NEGOTIATE_ROUTE, lambda: _negotiate(runtime, query, authorization, path)
        )
    return await _negotiate(runtime, query, authorization, path)


async def _negotiate(
    runtime: Runtime, query: Mapping[str, str], authorization: str | None, path: str
) -> HttpResult:
    try:
        channel, opening = _channel_of(runtime, query, path)
        validate_opening_data(
            channel.opening_data_type,
            opening_data_from_query({k: [v] for k, v in opening.items()}),
        )
        parts = runtime.parts
        token = bearer_token(authorization)
        # The connect event learns only the user id from the service: the rest of the session
        # (the role) rides in the URL, signed, so it is the same session `authenticate` gives.
        session, carried = parts.jwt.connect_token(token) if token else (None, None)
        if parts.negotiator is None:
            raise InternalServerError("this runtime has no negotiate step")
        access = await parts.negotiator.client_access(
            user_id=session.user_id if session else None,
            minutes_to_expire=_access_minutes(session),
        )
    except ChannelError as exc:
        return error_result(exc)
    except Exception:
        log.exception("negotiate failed")
        return error_result(InternalServerError("internal error"))
    passed = {"channel": channel.name, **opening}
    passed = {k: v for k, v in passed.items() if k not in ("access_token", SESSION_KEY)}
    extra = urllib.parse.urlencode({**passed, SESSION_KEY: carried} if carried else passed)
    return HttpResult(
        200,
        {
            "url": f"{access.url}&{extra}",
            "baseUrl": access.base_url,
            "accessToken": access.token,
        },
    )


def _channel_of(
    runtime: Runtime, query: Mapping[str, str], path: str
) -> tuple[ChannelDefinition, dict[str, str]]:
    """The channel a negotiate request names, and its opening data (route parameters win)."""
    opening = {k: v for k, v in query.items() if k != "channel"}
    if path.strip("/"):
        found = runtime.registry.match(path)
        if found is None:
            raise NotFoundError(f"no channel has the route /{path.strip('/')}")
        channel, params = found
        named = query.get("channel")
        if named is not None and named != channel.name:
            raise BadRequestError(f"/{path.strip('/')} is channel '{channel.name}', not '{named}'")
        return channel, {**opening, **params}
    name = query.get("channel", "")
    by_name = runtime.registry.get(name)
    if by_name is None:
        raise NotFoundError(
            f"unknown channel '{name}'"
            if name
            else "name a channel: /api/negotiate/<route> or ?channel=<name>"
        )
    return by_name, opening


def _access_minutes(session: Session | None) -> int:
    """An access token never outlives the Bearer token it came from (whole minutes, down)."""
    if session is None or session.expires_at is None:
        return ACCESS_MINUTES
    minutes = min(ACCESS_MINUTES, int(session.expires_at - time.time()) // 60)
    if minutes < 1:
        raise UnauthorizedError("the token expires within a minute: get a new one to connect")
    return minutes
