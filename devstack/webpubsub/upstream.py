"""CloudEvents over HTTP (binary mode) to a hub's event handler, as the service sends them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .auth import connection_signature
from .http1 import Http1Client, HttpError, HttpResponse

log = logging.getLogger(__name__)

SYSTEM_PREFIX = "azure.webpubsub.sys."
USER_PREFIX = "azure.webpubsub.user."
STATE_HEADER = "ce-connectionState"


class UpstreamError(Exception):
    """The event handler could not be reached, timed out, or failed validation."""


@dataclass(frozen=True)
class EventContext:
    hub: str
    connection_id: str
    user_id: str | None
    subprotocol: str | None
    states: str | None


@dataclass(frozen=True)
class EventResult:
    status: int
    body: bytes
    content_type: str | None
    states: str | None  # the response's ce-connectionState, if it sent one

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def merge_states(current: str | None, update: str | None) -> str | None:
    """Apply a response's `ce-connectionState` to the connection's.

    When both are the base64 JSON object the Functions extension writes
    (`{key: base64(json(value))}`), keys merge; otherwise the new value replaces the old,
    as the service does with an opaque state. An empty value clears the state.
    """
    if update is None or update == current:  # the same states again (each event's answer)
        return current
    if not update:
        return None
    old, new = _decode_states(current), _decode_states(update)
    if old is None or new is None:
        return update
    merged = {**old, **new}
    return base64.b64encode(json.dumps(merged, separators=(",", ":")).encode()).decode()


def _decode_states(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


def shown(url: str) -> str:
    """An event handler URL fit for a log line or an error: its query (`?code=`) left out."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class UpstreamClient:
    """Sends events upstream. Each event's timeout counts from when its request is sent.

    At most `max_in_flight` requests are outstanding (one local host is not an autoscaled
    Function App: a thousand invocations at once only make each one slow). Events wait for a
    slot in arrival order, and that wait is not counted against their timeout. A connection
    has at most one blocking event waiting (its frames are handled in order), so a slot goes
    to each connection in turn: fair queuing.
    """

    def __init__(
        self, access_key: str, origin: str, timeout: float, max_in_flight: int = 64
    ) -> None:
        self.access_key = access_key
        self.origin = origin
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        # Keep-alive connections to the event handlers, as the service keeps them.
        self._http = Http1Client(connect_timeout=timeout)
        self._validated: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        self._http.close()

    async def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes = b""
    ) -> HttpResponse:
        """One request, its answer within the timeout (counted from when it is sent)."""
        return await self._http.request(method, url, headers, body, self.timeout)

    async def validate(self, url: str) -> None:
        """The abuse-protection handshake, once per URL (retried after a failure)."""
        if url in self._validated:
            return
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url in self._validated:
                return
            headers = {"WebHook-Request-Origin": self.origin, "ce-awpsversion": "1.0"}
            try:
                response = await self._request("OPTIONS", url, headers)
                allowed = response.headers.get("webhook-allowed-origin", [])
                status = response.status
            except (HttpError, TimeoutError) as exc:
                raise UpstreamError(f"event handler {shown(url)} unreachable: {exc!r}") from exc
            origins = {o.strip().lower() for value in allowed for o in value.split(",")}
            if not (200 <= status < 300) or not ({"*", self.origin.lower()} & origins):
                raise UpstreamError(
                    f"event handler {shown(url)} failed abuse-protection validation "
                    f"(status {status}, WebHook-Allowed-Origin {allowed!r})"
                )
            self._validated.add(url)

    async def send(
        self,
        url: str,
        context: EventContext,
        *,
        ce_type: str,
        event_name: str,
        body: bytes,
        content_type: str,
    ) -> EventResult:
        await self.validate(url)
        headers = {
            "Content-Type": content_type,
            "WebHook-Request-Origin": self.origin,
            "ce-specversion": "1.0",
            "ce-type": ce_type,
            "ce-source": f"/hubs/{context.hub}/client/{context.connection_id}",
            "ce-id": uuid.uuid4().hex,
            "ce-time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "ce-awpsversion": "1.0",
            "ce-hub": context.hub,
            "ce-connectionId": context.connection_id,
            "ce-eventName": event_name,
            "ce-signature": connection_signature(self.access_key, context.connection_id),
        }
        if context.user_id is not None:
            headers["ce-userId"] = context.user_id
        if context.subprotocol:
            headers["ce-subprotocol"] = context.subprotocol
        if context.states:
            headers[STATE_HEADER] = context.states
        try:
            async with self._slots:  # the wait for a slot is not counted against the timeout
                response = await self._request("POST", url, headers, body)
            return EventResult(
                status=response.status,
                body=response.body,
                content_type=response.header("Content-Type"),
                states=response.header(STATE_HEADER),
            )
        except (HttpError, TimeoutError) as exc:
            raise UpstreamError(f"event {ce_type} to {shown(url)} failed: {exc!r}") from exc
