"""The in-memory transport (the harness's and shared.local's) is as strict as Web PubSub."""

from __future__ import annotations

import json

import pytest

from shared.core.errors import NotFoundError
from shared.core.transport import MemoryTransport


def listening(transport: MemoryTransport, *ids: str) -> dict[str, list[object]]:
    got: dict[str, list[object]] = {i: [] for i in ids}
    for i in ids:
        transport.listen(i, lambda cid, text: got[cid].append(json.loads(text)))
    return got


async def test_a_connection_that_is_not_open_cannot_join_a_topic() -> None:
    # Web PubSub answers 404 to adding an unknown connection to a group.
    transport = MemoryTransport()
    with pytest.raises(NotFoundError, match="connection c-1 is not open: it cannot join 'room:a'"):
        await transport.subscribe("room:a", "c-1")
    listening(transport, "c-1")
    await transport.subscribe("room:a", "c-1")
    transport.forget("c-1")
    with pytest.raises(NotFoundError):
        await transport.subscribe("room:a", "c-1")


async def test_publish_reaches_every_subscriber_but_the_excluded_one() -> None:
    transport = MemoryTransport()
    got = listening(transport, "a", "b", "c")
    for cid in ("a", "b"):
        await transport.subscribe("room", cid)
    await transport.publish("room", {"n": 1}, exclude="a")
    await transport.publish("room", {"n": 2})
    assert got == {"a": [{"n": 2}], "b": [{"n": 1}, {"n": 2}], "c": []}


async def test_a_forgotten_connection_leaves_its_topics_and_empty_topics_go() -> None:
    transport = MemoryTransport()
    got = listening(transport, "a", "b")
    await transport.subscribe("one", "a")
    await transport.subscribe("two", "a")
    await transport.subscribe("two", "b")
    transport.forget("a")
    assert transport.topics == {"two": {"b"}}
    await transport.unsubscribe("two", "b")
    assert transport.topics == {}
    await transport.send("a", {"late": True})  # a frame for a gone connection is dropped
    assert got["a"] == []
