"""The Web PubSub upstream protocol as the Functions extension reads it.

CloudEvents headers -> `ConnectionContext`; `ce-connectionState` encoding; the abuse-protection
and signature checks; the trigger payload (`request`, a Newtonsoft-indented JSON string).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from devstack.funchost.jsonwriter import Raw, compact, indented

SYSTEM_PREFIX = "azure.webpubsub.sys."
ORIGIN_HEADER = "WebHook-Request-Origin"
ALLOWED_ORIGIN_HEADER = "WebHook-Allowed-Origin"
STATE_HEADER = "ce-connectionState"
# The extension splits origin and signature lists on both characters.
_SEPARATORS = re.compile(r"[, ]+")
# .NET puts these in HttpContent.Headers, not HttpRequestMessage.Headers, so the extension's
# `connectionContext.headers` never shows them.
CONTENT_HEADERS = frozenset(
    {
        "allow",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    }
)


class BadRequest(ValueError):
    """The upstream request is not a valid Web PubSub CloudEvent (the extension answers 400)."""


@dataclass(frozen=True)
class ServiceAccess:
    """Endpoint host and access key from a Web PubSub connection string."""

    endpoint: str
    host: str
    access_key: str | None

    @classmethod
    @functools.lru_cache(maxsize=16)  # the same app setting, read for every event
    def parse(cls, connection_string: str) -> ServiceAccess:
        parts: dict[str, str] = {}
        for item in connection_string.split(";"):
            key, sep, value = item.partition("=")
            if sep:
                parts[key.strip().lower()] = value.strip()
        endpoint = parts.get("endpoint")
        if not endpoint:
            raise ValueError("connection string has no Endpoint")
        port = parts.get("port")
        if port:
            scheme, netloc, *_ = urlsplit(endpoint)
            endpoint = f"{scheme}://{netloc.split(':')[0]}:{port}"
        host = (urlsplit(endpoint).hostname or "").lower()
        return cls(endpoint=endpoint.rstrip("/"), host=host, access_key=parts.get("accesskey"))


def split_list(value: str | None) -> list[str]:
    return [v for v in _SEPARATORS.split(value or "") if v]


def handshake(origins: Sequence[str], access: ServiceAccess | None) -> str | None:
    """The `WebHook-Allowed-Origin` value to answer, or None to refuse (400).

    Extensions from 1.10 answer `*` once an origin matches (up to 1.9 they echoed it).
    """
    if access is None or any(origin.lower() == access.host for origin in origins):
        return "*"
    return None


def signature_valid(
    access: ServiceAccess | None, origin: str, signature: str | None, connection_id: str
) -> bool:
    """RequestValidator.IsValidSignature: checked only for a configured service's origin."""
    if access is None:
        return True
    for item in split_list(origin):
        if item.lower() != access.host:
            continue
        if not access.access_key:
            return True
        expected = _expected_signature(access.access_key, connection_id)
        return any(hmac.compare_digest(s.lower(), expected) for s in split_list(signature))
    return False


@functools.lru_cache(maxsize=4096)
def _expected_signature(access_key: str, connection_id: str) -> str:
    """Every event of a connection carries the same signature: computed once per connection."""
    digest = hmac.new(access_key.encode(), connection_id.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def decode_states(header: str | None) -> dict[str, str]:
    """`ce-connectionState` -> {key: raw JSON text}. Raises BadRequest when malformed."""
    if not header:
        return {}
    try:
        outer = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"malformed {STATE_HEADER}: {exc}") from exc
    # The extension's converter yields no states (rather than failing) when the inner
    # values are not base64.
    if not isinstance(outer, dict):
        return {}
    states: dict[str, str] = {}
    try:
        for key, value in outer.items():
            if not isinstance(value, str):
                return {}
            states[key] = base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except binascii.Error:
        return {}
    return states


def state_value(value: Any) -> str:
    """A state value from a returned dict, as the extension stores it (compact JSON)."""
    return compact(_plain(value))


def encode_states(states: Mapping[str, str]) -> str:
    inner = {k: base64.b64encode(v.encode()).decode() for k, v in states.items()}
    return base64.b64encode(json.dumps(inner, separators=(",", ":")).encode()).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class ConnectionContext:
    event_type: str  # "System" | "User"
    event_name: str
    hub: str
    connection_id: str
    user_id: str | None
    signature: str | None
    origin: str
    states: dict[str, str] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_system(self) -> bool:
        return self.event_type == "System"

    @property
    def request_type(self) -> str:
        """connect | connected | disconnected | user | ignored."""
        if not self.is_system:
            return "user"
        name = self.event_name.lower()
        return name if name in {"connect", "connected", "disconnected"} else "ignored"

    def to_json_value(self) -> dict[str, Any]:
        return {
            "eventType": self.event_type,
            "eventName": self.event_name,
            "hub": self.hub,
            "connectionId": self.connection_id,
            "userId": self.user_id,
            "signature": self.signature,
            "origin": self.origin,
            "states": {k: Raw(v) for k, v in self.states.items()},
            "headers": self.headers,
        }


def parse_context(
    headers: Mapping[str, Sequence[str]], shown: dict[str, list[str]] | None = None
) -> ConnectionContext:
    """Headers (lower-cased name -> values, in arrival order) -> ConnectionContext.

    `shown` becomes `connectionContext.headers` (default: none).

    Raises BadRequest for a missing or repeated required header or a malformed state.
    """

    def single(name: str, required: bool = True) -> str | None:
        values = headers.get(name.lower(), [])
        if len(values) > 1 or (required and not values):
            raise BadRequest(f"header {name} is missing or repeated")
        return values[0] if values else None

    connection_id = single("ce-connectionId")
    hub = single("ce-hub")
    ce_type = single("ce-type")
    event_name = single("ce-eventName")
    origins = headers.get(ORIGIN_HEADER.lower(), [])
    if not origins:
        raise BadRequest(f"header {ORIGIN_HEADER} is missing")
    signatures = headers.get("ce-signature")
    assert connection_id is not None and hub is not None
    assert ce_type is not None and event_name is not None
    return ConnectionContext(
        event_type="System" if ce_type.lower().startswith(SYSTEM_PREFIX) else "User",
        event_name=event_name,
        hub=hub,
        connection_id=connection_id,
        user_id=single("ce-userId", required=False),
        signature=",".join(signatures) if signatures else None,
        origin=",".join(origins),
        states=decode_states(single(STATE_HEADER, required=False)),
        headers=shown if shown is not None else {},
    )


def connect_fields(body: bytes) -> dict[str, Any]:
    """The connect request body -> the fields ConnectEventRequest adds (in its order)."""
    content = json.loads(body)
    if not isinstance(content, dict):
        raise ValueError("connect body is not a JSON object")
    certificates = content.get("clientCertificates")
    if isinstance(certificates, list):
        certificates = [_certificate(c) for c in certificates]
    return {
        "claims": content.get("claims"),
        "query": content.get("query"),
        "headers": content.get("headers"),
        "subprotocols": content.get("subprotocols"),
        "clientCertificates": certificates,
    }


def _certificate(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    thumbprint, content = item.get("thumbprint"), item.get("content")
    if thumbprint is None and content is None:
        return None
    # Newtonsoft writes the [DataMember] without a name in PascalCase.
    return {"Thumbprint": thumbprint, "content": content}


def disconnected_fields(body: bytes) -> dict[str, Any]:
    content = json.loads(body)
    if not isinstance(content, dict):
        raise ValueError("disconnected body is not a JSON object")
    return {"reason": content.get("reason")}


def user_fields(body: bytes, data_type: str) -> dict[str, Any]:
    # BinaryData.ToString(): a UTF-8 decode with replacement characters for binary frames.
    return {"data": body.decode("utf-8", "replace"), "dataType": data_type}


def request_payload(fields: Mapping[str, Any], context: ConnectionContext) -> str:
    """The `request` string: the event's own fields first, `connectionContext` last."""
    return indented({**fields, "connectionContext": context.to_json_value()})
