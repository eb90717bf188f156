"""Payloads and the frames the JSON subprotocols exchange.

A `Payload` is data with its type (`json`, `text`, `binary`) as the REST API, the client
protocols and the upstream `Content-Type` all describe it; `Outgoing` is one message to many
connections, rendered once per protocol.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

DataType = Literal["json", "text", "binary"]

CONTENT_TYPES: dict[DataType, str] = {
    "json": "application/json",
    "text": "text/plain",
    "binary": "application/octet-stream",
}


class InvalidPayload(ValueError):
    """Data that does not match its declared type."""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Payload:
    data_type: DataType
    body: bytes  # json: the serialized value; text: UTF-8; binary: the bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.data_type]

    def envelope_data(self) -> Any:
        """The `data` field of a JSON-protocol message."""
        if self.data_type == "json":
            return json.loads(self.body)
        if self.data_type == "text":
            return self.body.decode()
        return base64.b64encode(self.body).decode()

    def simple_frame(self) -> str | bytes:
        """What a client without subprotocol receives: text frames, binary for binary."""
        if self.data_type == "binary":
            return self.body
        return self.body.decode()


def data_type_of(content_type: str | None) -> DataType | None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json":
        return "json"
    if media == "text/plain":
        return "text"
    if media == "application/octet-stream":
        return "binary"
    return None


def payload_from_http(content_type: str | None, body: bytes) -> Payload:
    """A REST request body or an upstream response body, typed by its `Content-Type`."""
    data_type = data_type_of(content_type)
    if data_type is None:
        raise InvalidPayload(
            f"unsupported content type {content_type!r}: use application/json, text/plain "
            "or application/octet-stream"
        )
    if data_type == "json":
        try:
            json.loads(body)
        except ValueError as exc:
            raise InvalidPayload(f"the body is not valid JSON: {exc}") from exc
    elif data_type == "text":
        try:
            body.decode()
        except UnicodeDecodeError as exc:
            raise InvalidPayload("the text body is not valid UTF-8") from exc
    return Payload(data_type, body)


def payload_from_client(data_type: Any, data: Any) -> Payload:
    """The `dataType`/`data` pair of a `sendToGroup` or `event` request."""
    if data_type is None or data_type == "json":
        return Payload("json", _dumps(data).encode())
    if data_type == "text":
        if not isinstance(data, str):
            raise InvalidPayload("data must be a string when dataType is text")
        return Payload("text", data.encode())
    if data_type == "binary":
        if not isinstance(data, str):
            raise InvalidPayload("data must be a base64 string when dataType is binary")
        try:
            return Payload("binary", base64.b64decode(data, validate=True))
        except binascii.Error as exc:
            raise InvalidPayload("data is not valid base64") from exc
    raise InvalidPayload(f"unsupported dataType {data_type!r}")


class Outgoing:
    """One data message, rendered lazily and once for each kind of client."""

    def __init__(
        self,
        payload: Payload,
        *,
        group: str | None = None,
        from_user_id: str | None = None,
    ) -> None:
        self.payload = payload
        self.group = group
        self.from_user_id = from_user_id

    @cached_property
    def simple_frame(self) -> str | bytes:
        return self.payload.simple_frame()

    @cached_property
    def envelope(self) -> str:
        message: dict[str, Any] = {"type": "message"}
        if self.group is None:
            message["from"] = "server"
        else:
            message["from"] = "group"
            message["group"] = self.group
        message["dataType"] = self.payload.data_type
        message["data"] = self.payload.envelope_data()
        if self.group is not None and self.from_user_id is not None:
            message["fromUserId"] = self.from_user_id
        return _dumps(message)

    def sequenced(self, sequence_id: int) -> str:
        # The envelope always starts with '{"type"', so splicing keeps it valid JSON.
        return f'{{"sequenceId":{sequence_id},{self.envelope[1:]}'


def connected_message(
    connection_id: str, user_id: str | None, reconnection_token: str | None
) -> str:
    message: dict[str, Any] = {
        "type": "system",
        "event": "connected",
        "userId": user_id,
        "connectionId": connection_id,
    }
    if reconnection_token is not None:
        message["reconnectionToken"] = reconnection_token
    return _dumps(message)


def disconnected_message(reason: str) -> str:
    return _dumps({"type": "system", "event": "disconnected", "message": reason})


def ack_message(ack_id: int, error: tuple[str, str] | None = None) -> str:
    if error is None:
        return _dumps({"type": "ack", "ackId": ack_id, "success": True})
    name, text = error
    return _dumps(
        {"type": "ack", "ackId": ack_id, "success": False, "error": {"name": name, "message": text}}
    )
