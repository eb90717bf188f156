"""Tokens and signatures: client access tokens, REST bearer tokens, `ce-signature`."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt

LEEWAY_SECONDS = 5


class TokenError(Exception):
    """The token is missing, malformed, expired, or not meant for this URL."""


def _decode(token: str, access_key: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            access_key,
            algorithms=["HS256"],
            options={"verify_aud": False, "require": ["exp", "aud"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the access token has expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid access token: {exc}") from exc
    return claims


def _audiences(claims: Mapping[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def verify_client_token(
    token: str, access_key: str, hub: str, hosts: Iterable[str]
) -> dict[str, Any]:
    """Claims of a client access token for `hub`, as `get_client_access_token` issues it.

    Its `aud` is `<endpoint>/client/hubs/<hub>`; the endpoint's host must be one of `hosts`
    (the request's `Host`, or the emulator's public endpoint), the scheme may be http or ws.
    """
    claims = _decode(token, access_key)
    allowed = {h.lower() for h in hosts}
    want_path = f"/client/hubs/{hub}".lower()
    for aud in _audiences(claims):
        parts = urlsplit(aud)
        if (
            parts.scheme.lower() in {"http", "https", "ws", "wss"}
            and parts.netloc.lower() in allowed
            and unquote(parts.path).rstrip("/").lower() == want_path
        ):
            return claims
    raise TokenError(f"the access token's audience is not this hub's client URL ({hub})")


def verify_rest_token(token: str, access_key: str, raw_path: str, hosts: Iterable[str]) -> None:
    """Check a REST bearer token: `aud` is the request URL (the SDK includes the query)."""
    claims = _decode(token, access_key)
    allowed = {h.lower() for h in hosts}
    path, _, query = raw_path.partition("?")
    for aud in _audiences(claims):
        parts = urlsplit(aud)
        if parts.netloc.lower() not in allowed:
            continue
        if unquote(parts.path) != unquote(path):
            continue
        # Transports re-encode the query (' vs %27), so compare it decoded; an
        # audience without a query is accepted too.
        if not parts.query or unquote(parts.query) == unquote(query):
            return
    raise TokenError("the bearer token's audience is not this request's URL")


def issue_client_token(
    access_key: str,
    audience: str,
    *,
    user_id: str | None = None,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
    minutes_to_expire: int = 60,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"aud": audience, "iat": now, "exp": now + 60 * minutes_to_expire}
    if user_id:
        payload["sub"] = user_id
    if roles:
        payload["role"] = roles
    if groups:
        payload["webpubsub.group"] = groups
    return jwt.encode(payload, access_key, algorithm="HS256")


def claim_list(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


@functools.lru_cache(maxsize=4096)
def connection_signature(access_key: str, connection_id: str) -> str:
    """`ce-signature` value: `sha256=<hex HMAC-SHA256(access key, connection id)>`.

    Kept per connection: every event of a connection carries the same value.
    """
    digest = hmac.new(access_key.encode(), connection_id.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"
