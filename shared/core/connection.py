"""What an event knows of its connection: the record, from the states copy or from the table.

Table Storage holds the truth; the service's connection states carry a copy (under one key) so
that the message hot path reads nothing. A copy too big to carry is cleared and the table
serves; an event that had to read the table returns a fresh copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.core.errors import NotFoundError
from shared.core.session import Session
from shared.core.stores import ConnectionStore
from shared.core.validation import validate_model, validate_opening_data
from shared.core.wiring import ChannelDefinition, ChannelRegistry

STATE_KEY = "channel"  # the connection state holding our copy of the record
MAX_STATE_BYTES = 2048  # beyond this, the table alone holds the record


@dataclass(eq=False)  # internal to one event: never compared (one generated method less)
class Context:
    """What an event knows of its connection: the record, from the states copy or the table."""

    channel: ChannelDefinition
    opening_data: dict[str, Any]  # JSON form, as stored
    opening: Any  # validated (a model when the channel declares one)
    session: Session | None
    state: Any = None  # the channel state, JSON form
    pending: tuple[Any, ...] = ()  # on_connect's frames, not yet delivered
    from_states: bool = False  # the states copy served this event


def context_from_states(registry: ChannelRegistry, states: dict[str, Any]) -> Context | None:
    """The connection from its states copy when complete (the hot path: nothing to read)."""
    copy = states.get(STATE_KEY)
    if not isinstance(copy, dict) or "session" not in copy:
        return None
    channel = registry.get(str(copy.get("name")))
    if channel is None:
        return None
    opening_data = copy.get("openingData") or {}
    session = validate_model(Session, copy["session"]) if copy["session"] else None
    opening = validate_opening_data(channel.opening_data_type, opening_data)
    pending = tuple(copy.get("pending") or ())
    return Context(channel, opening_data, opening, session, copy.get("state"), pending, True)


async def load_context(
    registry: ChannelRegistry, store: ConnectionStore, channel_id: str, states: dict[str, Any]
) -> Context | None:
    """The connection of an event: from its states copy when complete, else from the table."""
    found_in_states = context_from_states(registry, states)
    if found_in_states is not None:
        return found_in_states
    record = await store.get(channel_id)
    if record is None:
        return None
    found = registry.get(record.channel)
    if found is None:
        raise NotFoundError(f"channel '{record.channel}' is no longer wired")
    opening = validate_opening_data(found.opening_data_type, record.opening_data)
    session = Session.model_validate(record.session) if record.session else None
    return Context(found, record.opening_data, opening, session, record.state, record.pending)


def states_copy(ctx: Context) -> dict[str, Any]:
    """The states to return: the copy of the record, or None when it is too big to carry."""
    copy: dict[str, Any] = {
        "name": ctx.channel.name,
        "openingData": ctx.opening_data,
        "session": dump_session(ctx.session),
    }
    if ctx.state is not None:
        copy["state"] = ctx.state
    if ctx.pending:
        copy["pending"] = list(ctx.pending)
    if len(json.dumps(copy)) > MAX_STATE_BYTES:
        return {STATE_KEY: None}  # too big to carry: clear any older copy; the table serves
    return {STATE_KEY: copy}


def dump_session(session: Session | None) -> dict[str, Any] | None:
    return session.model_dump(mode="json", by_alias=True) if session else None
