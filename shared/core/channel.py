"""`services.channel`: the connection a channel function is serving."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Generic, Protocol

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_jsonable_python
from typing_extensions import TypeVar

from shared.core.errors import BadRequestError, ValidationError
from shared.core.validation import describe

OpeningT = TypeVar("OpeningT")
StateT = TypeVar("StateT", default=Any)  # `ChannelServices[Room]` leaves the state untyped


class ChannelStatus(Enum):
    CONNECTING = "connecting"  # on_connect runs: the socket does not exist yet
    OPEN = "open"
    CLOSED = "closed"


_ALLOWED = {
    ChannelStatus.CONNECTING: {ChannelStatus.OPEN},
    ChannelStatus.OPEN: {ChannelStatus.CLOSED},
    ChannelStatus.CLOSED: set[ChannelStatus](),
}


class ChannelLink(Protocol):
    """How a channel reaches its client (the dispatcher's outbound step)."""

    async def to_client(self, frame: object) -> None: ...
    async def close_client(self, reason: str | None) -> None: ...


StateSaver = Callable[[Any], Awaitable[None]]


class Channel(Generic[OpeningT, StateT]):
    """One client connection: its id, its opening data, its state, and a way to reach it."""

    __slots__ = (
        "_link",
        "_save_state",
        "_state_adapter",
        "_state_json",
        "_status",
        "channel_id",
        "name",
        "opening_data",
        "state_changed",
    )

    def __init__(
        self,
        channel_id: str,
        opening_data: OpeningT,
        link: ChannelLink,
        *,
        name: str,
        status: ChannelStatus = ChannelStatus.OPEN,
        state: Any = None,  # JSON form, as stored
        state_adapter: TypeAdapter[Any] | None = None,
        save_state: StateSaver | None = None,
    ) -> None:
        self.channel_id = channel_id
        self.opening_data = opening_data
        self.name = name
        self._link = link
        self._status = status
        self._state_json = state
        self._state_adapter = state_adapter
        self._save_state = save_state
        self.state_changed = False

    @property
    def status(self) -> ChannelStatus:
        return self._status

    def _move(self, to: ChannelStatus) -> None:
        if to not in _ALLOWED[self._status]:
            raise RuntimeError(
                f"channel {self.channel_id} cannot go from {self._status.value} to {to.value}"
            )
        self._status = to

    async def send(self, data: object) -> None:
        """Send one frame to this client (during on_connect: once the connection is open)."""
        if self._status is ChannelStatus.CLOSED:
            raise BadRequestError(f"channel {self.channel_id} is closed; cannot send")
        await self._link.to_client(data)

    async def close(self, reason: str | None = None) -> None:
        if self._status is ChannelStatus.CLOSED:
            return
        if self._status is ChannelStatus.CONNECTING:
            raise RuntimeError("on_connect refuses a connection by raising, not by closing it")
        await self._link.close_client(reason)
        self._move(ChannelStatus.CLOSED)

    # -- per-connection state (Pikku's setState / getState / clearState) ---------------------

    def get_state(self) -> StateT | None:
        """This connection's state, as the channel's state model types it; None when unset."""
        if self._state_json is None:
            return None
        if self._state_adapter is None:
            return self._state_json  # type: ignore[no-any-return]
        return self._state_adapter.validate_python(self._state_json)  # type: ignore[no-any-return]

    async def set_state(self, state: StateT) -> None:
        """Keep `state` with the connection: the next event, on any instance, reads it."""
        if self._state_adapter is not None:
            try:
                state = self._state_adapter.validate_python(state)
            except PydanticValidationError as exc:
                raise ValidationError(f"invalid channel state: {describe(exc)}") from exc
        await self._store(to_jsonable_python(state, by_alias=True))

    async def clear_state(self) -> None:
        await self._store(None)

    async def _store(self, state_json: Any) -> None:
        if self._save_state is not None:
            await self._save_state(state_json)
        self._state_json = state_json
        self.state_changed = True

    @property
    def state_json(self) -> Any:
        return self._state_json
