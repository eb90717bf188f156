"""What a client's frame means: simple clients' `message` events and the JSON subprotocols."""

from __future__ import annotations

import json
import logging
from typing import Any

from .connection import JOIN_LEAVE_GROUP, SEND_TO_GROUP, Connection, ConnectionState
from .messages import (
    InvalidPayload,
    Outgoing,
    Payload,
    ack_message,
    data_type_of,
    payload_from_client,
)
from .service import POLICY_VIOLATION, Service
from .upstream import UpstreamError

log = logging.getLogger(__name__)

INTERNAL_ERROR = 1011


class InvalidMessage(ValueError):
    """A JSON-protocol frame that does not match the protocol."""


async def receive_frame(service: Service, connection: Connection, data: str | bytes) -> None:
    """Called by the socket's reader for each frame, in order.

    Pings and sequence acks are answered at once; a frame that raises an event waits in the
    connection's inbox for the events before it (the reader goes on reading).
    """
    if not connection.is_json:
        payload = (
            Payload("binary", data) if isinstance(data, bytes) else Payload("text", data.encode())
        )

        async def simple() -> None:
            await _user_event(service, connection, "message", payload)

        await connection.inbox.put(len(data), simple)
        return
    try:
        request = _parse(data)
    except InvalidMessage as exc:
        service.close_connection(connection, f"Invalid message: {exc}", POLICY_VIOLATION)
        return
    if request["type"] in {"ping", "sequenceAck"}:
        await _handle_checked(service, connection, request)
        return

    async def in_order() -> None:
        await _handle_checked(service, connection, request)

    await connection.inbox.put(len(data), in_order)


async def _handle_checked(
    service: Service, connection: Connection, request: dict[str, Any]
) -> None:
    if connection.state is ConnectionState.CLOSED:
        return
    try:
        await _handle_request(service, connection, request)
    except InvalidMessage as exc:
        service.close_connection(connection, f"Invalid message: {exc}", POLICY_VIOLATION)


def _parse(data: str | bytes) -> dict[str, Any]:
    try:
        request = json.loads(data)
    except ValueError as exc:
        raise InvalidMessage("the frame is not JSON") from exc
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise InvalidMessage("the frame has no type")
    ack_id = request.get("ackId")
    if ack_id is not None and (
        not isinstance(ack_id, int) or isinstance(ack_id, bool) or ack_id < 0
    ):
        raise InvalidMessage("ackId must be a non-negative integer")
    return request


def _group(request: dict[str, Any]) -> str:
    group = request.get("group")
    if not isinstance(group, str) or not group.strip() or len(group) > 1024:
        raise InvalidMessage("group must be a non-empty string of at most 1024 characters")
    return group


def _payload(request: dict[str, Any]) -> Payload:
    if "data" not in request:
        raise InvalidMessage("data is required")
    try:
        return payload_from_client(request.get("dataType"), request["data"])
    except InvalidPayload as exc:
        raise InvalidMessage(str(exc)) from exc


async def _handle_request(
    service: Service, connection: Connection, request: dict[str, Any]
) -> None:
    kind = request["type"]
    if kind == "sequenceAck":
        sequence_id = request.get("sequenceId")
        if not isinstance(sequence_id, int) or isinstance(sequence_id, bool):
            raise InvalidMessage("sequenceId must be an integer")
        if connection.is_reliable:
            connection.acknowledge(sequence_id)
        return
    if kind == "ping":
        connection.send_control('{"type":"pong"}', urgent=True)
        return
    if kind not in {"joinGroup", "leaveGroup", "sendToGroup", "event"}:
        raise InvalidMessage(f"unknown type {kind!r}")

    ack_id: int | None = request.get("ackId")
    # Validate before de-duplicating, so a malformed retry is not answered "Duplicate".
    group = _group(request) if kind != "event" else ""
    payload = _payload(request) if kind in {"sendToGroup", "event"} else None
    if kind == "event" and (not isinstance(request.get("event"), str) or not request["event"]):
        raise InvalidMessage("event must be a non-empty string")
    if ack_id is not None:
        if ack_id in connection.ack_ids:
            connection.send_control(
                ack_message(
                    ack_id, ("Duplicate", f"Message with ack-id: {ack_id} has been processed")
                )
            )
            return
        connection.ack_ids.add(ack_id)

    hub = service.hub(connection.hub)
    error: tuple[str, str] | None = None
    if kind in {"joinGroup", "leaveGroup"}:
        if not connection.can(JOIN_LEAVE_GROUP, group):
            error = ("Forbidden", f"The connection has no permission to join or leave {group!r}")
        elif kind == "joinGroup":
            hub.join(connection, group)
        else:
            hub.leave(connection, group)
    elif kind == "sendToGroup":
        assert payload is not None
        if not connection.can(SEND_TO_GROUP, group):
            error = ("Forbidden", f"The connection has no permission to send to {group!r}")
        else:
            excluded = [connection.id] if request.get("noEcho") is True else []
            hub.send(
                hub.group_connections(group),
                Outgoing(payload, group=group, from_user_id=connection.user_id),
                excluded=excluded,
                overflow=service.overflow,
            )
    else:
        assert payload is not None
        if not await _user_event(service, connection, request["event"], payload, ack_id):
            return
    if ack_id is not None:
        connection.send_control(ack_message(ack_id, error))


async def _user_event(
    service: Service,
    connection: Connection,
    event_name: str,
    payload: Payload,
    ack_id: int | None = None,
) -> bool:
    """Raise a blocking user event and hand the handler's answer to the caller.

    False when the event failed (the connection is being closed, or its answer was over the
    size limit); any ack has been sent then.
    """
    try:
        result = await service.user_event(
            connection, event_name, payload.body, payload.content_type
        )
    except UpstreamError as exc:
        log.warning("user event %s for %s failed: %s", event_name, connection.id, exc)
        if ack_id is not None:
            connection.send_control(ack_message(ack_id, ("InternalServerError", str(exc))))
        service.close_connection(connection, "The event handler failed", INTERNAL_ERROR)
        return False
    if result is None:
        return True
    if not result.ok:
        message = result.body[:200].decode(errors="replace")
        if ack_id is not None:
            connection.send_control(
                ack_message(ack_id, ("InternalServerError", f"{result.status}: {message}"))
            )
        service.close_connection(
            connection, f"The event handler answered {result.status}: {message}", INTERNAL_ERROR
        )
        return False
    limit = service.config.max_frame_size
    if len(result.body) > limit:
        # Not delivered, as the service delivers no message over 1 MB.
        log.warning(
            "the event handler's answer to %s is %d bytes, over the %d-byte message limit: "
            "not delivered",
            connection.id,
            len(result.body),
            limit,
        )
        if ack_id is not None:
            connection.send_control(
                ack_message(ack_id, ("InternalServerError", "the answer is over the size limit"))
            )
        return False
    if result.status != 204 and result.body:
        connection.deliver(Outgoing(_response_payload(result.content_type, result.body)))
    return True


def _response_payload(content_type: str | None, body: bytes) -> Payload:
    data_type = data_type_of(content_type) or "binary"
    if data_type == "json":
        try:
            json.loads(body)
        except ValueError:
            data_type = "text"
    if data_type == "text":
        try:
            body.decode()
        except UnicodeDecodeError:
            data_type = "binary"
    return Payload(data_type, body)
