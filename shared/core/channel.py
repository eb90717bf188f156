"""`services.channel`: the connection a channel function is serving."""

from __future__ import annotations

from enum import Enum
from typing import Generic, TypeVar

from pydantic_core import to_jsonable_python

from shared.core.errors import BadRequestError
from shared.core.transport import Transport

OpeningT = TypeVar("OpeningT")


class ChannelState(Enum):
    INITIAL = "initial"
    OPEN = "open"
    CLOSED = "closed"


_ALLOWED = {
    ChannelState.INITIAL: {ChannelState.OPEN, ChannelState.CLOSED},
    ChannelState.OPEN: {ChannelState.CLOSED},
    ChannelState.CLOSED: set[ChannelState](),
}


class Channel(Generic[OpeningT]):
    """One client connection: its id, its opening data, and a way to reach it."""

    def __init__(
        self,
        channel_id: str,
        opening_data: OpeningT,
        transport: Transport,
        *,
        name: str,
        state: ChannelState = ChannelState.OPEN,
    ) -> None:
        self.channel_id = channel_id
        self.opening_data = opening_data
        self.name = name
        self._transport = transport
        self._state = state

    @property
    def state(self) -> ChannelState:
        return self._state

    def _move(self, to: ChannelState) -> None:
        if to not in _ALLOWED[self._state]:
            raise RuntimeError(
                f"channel {self.channel_id} cannot go from {self._state.value} to {to.value}"
            )
        self._state = to

    async def send(self, data: object) -> None:
        """Send one frame to this client now (before the function's own result)."""
        if self._state is not ChannelState.OPEN:
            raise BadRequestError(f"channel {self.channel_id} is {self._state.value}; cannot send")
        await self._transport.send(self.channel_id, to_jsonable_python(data, by_alias=True))

    async def close(self, reason: str | None = None) -> None:
        if self._state is ChannelState.CLOSED:
            return
        await self._transport.close(self.channel_id, reason)
        self._move(ChannelState.CLOSED)

    def mark_closed(self) -> None:
        if self._state is not ChannelState.CLOSED:
            self._move(ChannelState.CLOSED)
