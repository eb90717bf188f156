"""Errors a client can act on: each has a name, an HTTP-style status and a message."""

from __future__ import annotations

from typing import Any, ClassVar


class ChannelError(Exception):
    """Base of every error the runtime turns into an error frame or an HTTP error body."""

    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_body(self) -> dict[str, Any]:
        return {"error": self.message, "errorName": self.name, "status": self.status}


class BadRequestError(ChannelError):
    status = 400


class UnauthorizedError(ChannelError):
    status = 401


class ForbiddenError(ChannelError):
    status = 403


class NotFoundError(ChannelError):
    status = 404


class ConflictError(ChannelError):
    """The thing to create exists already (a row with that key, say)."""

    status = 409


class PayloadTooLargeError(ChannelError):
    status = 413


class UnsupportedMediaTypeError(ChannelError):
    status = 415


class ValidationError(ChannelError):
    """Input or opening data did not match its model; the message names the fields."""

    status = 422


class InternalServerError(ChannelError):
    status = 500


class SettingsError(InternalServerError):
    """A required setting is missing or malformed. The message names the setting (never its
    value), so the operator reading a 500 knows what to fix."""


class ServiceUnavailableError(ChannelError):
    """A backing service (Table Storage, Web PubSub) failed; the client may retry."""

    status = 503


class WiringError(Exception):
    """A channel is wired wrongly. Raised at import, with what and where."""
