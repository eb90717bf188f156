"""sendMessage stores the message and its id in one transaction, then publishes. A retry with
the same id never stores twice (exactly once in storage) and publishes the first try's message
again (at least once for receivers, who drop an id they have seen)."""

from __future__ import annotations

from typing import Any

import pytest

import channels  # noqa: F401 - wires the app's channels
from channels.chat import MESSAGE_KEYS, MESSAGES_TABLE
from shared.core.errors import ServiceUnavailableError
from shared.core.testing import ChannelCommunicator, ChannelTestEnvironment
from shared.core.transport import Jsonable


async def joined(env: ChannelTestEnvironment, user: str) -> ChannelCommunicator:
    client = env.communicator("chat", room="general")
    assert (await client.connect()).accepted
    await client.receive_json()  # welcome
    await client.send_json({"action": "authenticate", "token": env.token(userId=user)})
    assert (await client.receive_json())["authenticated"] is True
    return client


async def ask(client: ChannelCommunicator, frame: dict[str, Any]) -> Any:
    await client.send_json(frame)
    return await client.receive_json()


def fail_publish_once(env: ChannelTestEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    publish = env.transport.publish
    failures = [ServiceUnavailableError("realtime service failed to publish")]

    async def flaky(topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        if failures:
            raise failures.pop()
        await publish(topic, frame, exclude)

    monkeypatch.setattr(env.transport, "publish", flaky)


async def test_a_retry_after_a_failed_publish_broadcasts_once_and_stores_one_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = ChannelTestEnvironment()
    ada, bob = await joined(env, "ada"), await joined(env, "bob")
    assert (await ada.receive_json())["event"] == "join"  # bob's presence notice
    fail_publish_once(env, monkeypatch)
    frame = {"action": "sendMessage", "message": "hello", "id": "msg-1"}

    failed = await ask(ada, frame)
    assert (failed["status"], failed["errorName"]) == (503, "ServiceUnavailableError")
    retried = await ask(ada, frame)

    assert retried == {
        "action": "sendMessage",
        "id": "msg-1",
        "message": "hello",
        "timestamp": retried["timestamp"],
    }
    expected = {"type": "message", "id": "msg-1", "message": "hello", "userId": "ada"}
    assert await bob.receive_json() == {**expected, "timestamp": retried["timestamp"]}
    history = await ask(bob, {"action": "history"})
    assert history["messages"] == [{**expected, "timestamp": retried["timestamp"]}]
    rows = await env.database.latest(MESSAGES_TABLE, "general", 10, prefix=MESSAGE_KEYS)
    assert [row["id"] for row in rows] == ["msg-1"]


async def test_a_retry_after_success_replies_the_same_and_publishes_the_same_message_again() -> (
    None
):
    env = ChannelTestEnvironment()
    ada, bob = await joined(env, "ada"), await joined(env, "bob")
    assert (await ada.receive_json())["event"] == "join"  # bob's presence notice
    first = await ask(ada, {"action": "sendMessage", "message": "once", "id": "m-2"})
    again = await ask(ada, {"action": "sendMessage", "message": "edited?", "id": "m-2"})
    assert again == first  # the first try's message and time
    pushed = [await bob.receive_json(), await bob.receive_json()]
    assert pushed[0] == pushed[1]  # the same message, id and all: bob drops the second
    assert (pushed[0]["id"], pushed[0]["message"]) == ("m-2", "once")
    assert pushed[0]["timestamp"] == first["timestamp"]
    history = await ask(bob, {"action": "history"})
    assert [(m["id"], m["message"]) for m in history["messages"]] == [("m-2", "once")]
    with pytest.raises(TimeoutError):
        await bob.receive_json(timeout=0.1)


async def test_a_message_and_its_id_are_written_in_one_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada")
    calls: list[str] = []
    for name in ("insert", "upsert", "merge", "get", "transact"):
        method = getattr(env.database, name)

        async def counted(*args: Any, _name: str = name, _method: Any = method, **kw: Any) -> Any:
            calls.append(_name)
            return await _method(*args, **kw)

        monkeypatch.setattr(env.database, name, counted)
    await ask(ada, {"action": "sendMessage", "message": "hi", "id": "one-call"})
    assert calls == ["transact"]


async def test_without_an_id_the_server_makes_one_and_returns_it() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada")
    first = await ask(ada, {"action": "sendMessage", "message": "a"})
    second = await ask(ada, {"action": "sendMessage", "message": "a"})
    assert first["id"] and second["id"] and first["id"] != second["id"]
    history = await ask(ada, {"action": "history"})
    assert [m["timestamp"] for m in history["messages"]] == [
        first["timestamp"],
        second["timestamp"],
    ]


async def test_another_users_message_id_is_a_409_and_changes_nothing() -> None:
    env = ChannelTestEnvironment()
    ada, eve = await joined(env, "ada"), await joined(env, "eve")
    await ask(ada, {"action": "sendMessage", "message": "mine", "id": "shared-id"})
    await eve.receive_json()  # ada's broadcast
    taken = await ask(eve, {"action": "sendMessage", "message": "hijack", "id": "shared-id"})
    assert (taken["status"], taken["errorName"]) == (409, "ConflictError")
    assert "shared-id" in taken["error"]
    history = await ask(eve, {"action": "history"})
    assert [(m["message"], m["userId"]) for m in history["messages"]] == [("mine", "ada")]
    pushed = []
    while not ada.receive_nothing():
        pushed.append(await ada.receive_json())
    assert [p for p in pushed if p.get("type") == "message"] == []  # nothing of eve's


async def test_a_message_id_that_cannot_be_a_key_is_a_422() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada")
    refused = await ask(ada, {"action": "sendMessage", "message": "x", "id": "a/b"})
    assert (refused["status"], refused["errorName"]) == (422, "ValidationError")
    assert "id" in refused["error"]
