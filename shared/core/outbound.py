"""One event's way out: frames to its connection, publishes, subscriptions.

Every frame the app sends (`channel.send`, a reply, on_connect's result, a publish) passes the
frame middleware first: app-wide, by tag, then the channel's. Error frames do not: a
middleware cannot hide a failure. While `connect` runs the socket does not exist yet, so frames
wait in `pending` (delivered on `connected`) and the connection's own subscriptions wait in
`topics` (they ride in the connect response: no call to the service).

`strict` checks frames against what the code declares (the function's output for
`channel.send`, a typed topic's payload for a publish) and raises on a mismatch: the test
harness sets it, so a mismatch fails the test. Without it a mismatch is logged and sent.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_jsonable_python

from shared.core.errors import InternalServerError
from shared.core.services import FrameMiddleware, Logger, Outgoing, Services
from shared.core.topics import payload_adapter
from shared.core.transport import Jsonable, Transport
from shared.core.validation import describe

_log = logging.getLogger("channels")


class FrameTypeError(InternalServerError):
    """A frame does not match its declared type (raised only in strict mode: tests)."""


class Outbound:
    __slots__ = (
        "_connecting",
        "_logger",
        "_middleware",
        "_output",
        "_strict",
        "_transport",
        "channel",
        "channel_id",
        "pending",
        "services",
        "topics",
    )

    def __init__(
        self,
        transport: Transport,
        *,
        channel: str | None = None,
        channel_id: str | None = None,
        middleware: tuple[FrameMiddleware, ...] = (),
        output: TypeAdapter[Any] | None = None,
        connecting: bool = False,
        strict: bool = False,
        logger: Logger | None = None,
    ) -> None:
        self._transport = transport
        self.channel = channel
        self.channel_id = channel_id
        self._middleware = middleware
        self._output = output
        self._connecting = connecting
        self._strict = strict
        self._logger = logger or _log
        self.services: Services | None = None  # set once the event's services exist
        self.pending: list[Jsonable] = []
        self.topics: list[str] = []

    @property
    def intercepts(self) -> bool:
        """Whether frames pass any frame middleware."""
        return bool(self._middleware)

    # -- this event's connection (services.channel) -------------------------------------------

    async def to_client(self, frame: object) -> None:
        """`channel.send`: checked against the function's output, through the middleware."""
        if self._output is not None:
            self._check(self._output, frame, "the function's declared output")
        await self.reply(frame)

    async def reply(self, frame: object) -> None:
        """A frame to this event's connection, through the middleware (no output check)."""
        assert self.channel_id is not None
        await self._through(Outgoing(frame, self.channel, self.channel_id, None), self._deliver)

    async def final(self, frame: Any) -> Any:
        """A message's reply after the frame middleware: None when dropped; when it became
        several frames, all but the last are sent first and the last is the reply."""
        if frame is None or not self._middleware:
            return frame
        assert self.channel_id is not None
        out: list[Jsonable] = []

        async def collect(item: Jsonable) -> None:
            out.append(item)

        await self._through(Outgoing(frame, self.channel, self.channel_id, None), collect)
        for extra in out[:-1]:
            await self._transport.send(self.channel_id, extra)
        return out[-1] if out else None

    async def _deliver(self, frame: Jsonable) -> None:
        assert self.channel_id is not None
        if self._connecting:
            self.pending.append(frame)
        else:
            await self._transport.send(self.channel_id, frame)

    async def close_client(self, reason: str | None) -> None:
        assert self.channel_id is not None
        await self._transport.close(self.channel_id, reason)

    # -- the Transport the event hub of this event uses ---------------------------------------

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        await self._transport.close(channel_id, reason)

    async def connection_exists(self, channel_id: str) -> bool:
        return await self._transport.connection_exists(channel_id)

    async def send(self, channel_id: str, frame: Jsonable) -> None:
        if channel_id == self.channel_id:
            await self.reply(frame)
            return

        async def deliver(out: Jsonable) -> None:
            await self._transport.send(channel_id, out)

        await self._through(
            Outgoing(frame, self.channel, channel_id, None), deliver, json_ready=True
        )

    async def subscribe(self, topic: str, channel_id: str) -> None:
        if self._connecting and channel_id == self.channel_id:
            if topic not in self.topics:
                self.topics.append(topic)
            return
        await self._transport.subscribe(topic, channel_id)

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        if self._connecting and channel_id == self.channel_id:
            if topic in self.topics:
                self.topics.remove(topic)
            return
        await self._transport.unsubscribe(topic, channel_id)

    async def publish(self, topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        adapter = payload_adapter(topic)
        if adapter is not None:
            self._check(adapter, frame, f"the payload of topic {str(topic)!r}")

        async def deliver(out: Jsonable) -> None:
            await self._transport.publish(topic, out, exclude)

        outgoing = Outgoing(frame, self.channel, None, str(topic))
        await self._through(outgoing, deliver, json_ready=True)

    # -- helpers ------------------------------------------------------------------------------

    async def _through(self, outgoing: Outgoing, deliver: Any, *, json_ready: bool = False) -> None:
        """Run the frame middleware around `deliver`; each `next_(frame)` goes one step in.

        `json_ready`: the frame is JSON already (the event hub serialized it): not again."""
        frame = outgoing.frame if json_ready else to_jsonable_python(outgoing.frame, by_alias=True)
        if not self._middleware:
            await deliver(frame)
            return
        assert self.services is not None
        services = self.services
        chain = self._middleware

        async def step(i: int, out: Any) -> None:
            if i == len(chain):
                await deliver(out)
                return
            here = Outgoing(out, outgoing.channel, outgoing.channel_id, outgoing.topic)
            # A middleware may pass on a model: the next step sees JSON, as the client will.
            await chain[i](
                services, here, lambda nxt: step(i + 1, to_jsonable_python(nxt, by_alias=True))
            )

        await step(0, frame)

    def _check(self, adapter: TypeAdapter[Any], frame: object, what: str) -> None:
        try:
            adapter.validate_python(frame)
        except PydanticValidationError as exc:
            message = f"a frame does not match {what}: {describe(exc)}"
            if self._strict:
                raise FrameTypeError(message) from exc
            self._logger.warning("%s (sent anyway)", message)
