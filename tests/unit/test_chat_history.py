"""history pages back through a room with a cursor: every message once, in order, each reply
under Web PubSub's 1 MB message limit; a forged cursor is a 422 and reaches no other room."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

import channels  # noqa: F401 - wires the app's channels
from channels.chat import MESSAGE_KEYS, MESSAGES_TABLE
from shared.core.testing import ChannelCommunicator, ChannelTestEnvironment
from tests.support import chat_rows

SERVICE_MESSAGE_LIMIT = 1024 * 1024  # Azure Web PubSub's largest message


async def joined(env: ChannelTestEnvironment, user: str, room: str) -> ChannelCommunicator:
    client = env.communicator("chat", room=room)
    assert (await client.connect()).accepted
    await client.receive_json()  # welcome
    await client.send_json({"action": "authenticate", "token": env.token(userId=user)})
    assert (await client.receive_json())["authenticated"] is True
    return client


async def ask(client: ChannelCommunicator, frame: dict[str, Any]) -> Any:
    await client.send_json(frame)
    reply = await client.receive_json()
    while reply.get("type") == "presence":
        reply = await client.receive_json()
    return reply


async def store(env: ChannelTestEnvironment, room: str, count: int, text: str) -> list[str]:
    return await chat_rows.store(env.database, room, count, text)


async def every_page(client: ChannelCommunicator, limit: int) -> list[dict[str, Any]]:
    """history, then `before: next` until `next` is null: the replies, newest page first."""
    replies = [await ask(client, {"action": "history", "limit": limit})]
    while replies[-1]["next"] is not None:
        before = replies[-1]["next"]
        replies.append(await ask(client, {"action": "history", "limit": limit, "before": before}))
    return replies


async def test_200_messages_of_2000_emoji_page_back_once_each_in_order_under_1_mb() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    ids = await store(env, "general", 200, "😀" * 2000)

    replies = await every_page(ada, limit=200)

    # as the Azure trigger sends a reply: ASCII-escaped JSON, 12 bytes an emoji
    sizes = [len(json.dumps(reply, separators=(",", ":"))) for reply in replies]
    assert all(size < SERVICE_MESSAGE_LIMIT for size in sizes), sizes
    assert len(replies) >= 3  # 200 of them are 4.8 MB
    seen = [m["id"] for reply in reversed(replies) for m in reply["messages"]]
    assert seen == ids
    assert [reply["more"] for reply in replies] == [True] * (len(replies) - 1) + [False]


async def test_pages_are_bounded_by_the_limit_and_the_last_says_there_is_no_more() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    await store(env, "general", 5, "hi")

    replies = await every_page(ada, limit=2)

    assert [[m["timestamp"] for m in r["messages"]] for r in replies] == [
        [1003, 1004],
        [1001, 1002],
        [1000],
    ]
    assert [(r["more"], r["next"] is None) for r in replies] == [
        (True, False),
        (True, False),
        (False, True),
    ]


async def test_exactly_a_limit_of_messages_is_one_page_with_no_cursor() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    await store(env, "general", 3, "hi")
    reply = await ask(ada, {"action": "history", "limit": 3})
    assert (len(reply["messages"]), reply["more"], reply["next"]) == (3, False, None)


@pytest.mark.parametrize(
    "before",
    [
        "garbage",
        "msg-0000000000000000-x' or PartitionKey ne '",  # OData
        "msg-0000000000000000-a/b",  # a character keys refuse
        "id-general-1",  # another kind of row in the partition
        "msg-" + "9" * 16 + "-" + "x" * 65,  # an id longer than any
        "",
        42,
        ["msg-0000000000000000-x"],
    ],
)
async def test_a_forged_cursor_is_a_422_and_the_connection_stays(before: Any) -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    await store(env, "general", 2, "hi")

    refused = await ask(ada, {"action": "history", "before": before})

    assert (refused["status"], refused["errorName"]) == (422, "ValidationError")
    assert "before" in refused["error"]
    fine = await ask(ada, {"action": "history"})
    assert [m["timestamp"] for m in fine["messages"]] == [1000, 1001]


async def test_a_cursor_from_another_room_reads_only_this_room() -> None:
    env = ChannelTestEnvironment()
    await store(env, "general", 4, "in general")
    await store(env, "other", 4, "in other")
    eve = await joined(env, "eve", "other")
    cursor = (await ask(eve, {"action": "history", "limit": 1}))["next"]

    ada = await joined(env, "ada", "general")
    reply = await ask(ada, {"action": "history", "before": cursor})

    assert {m["message"] for m in reply["messages"]} == {"in general"}


async def test_history_shows_messages_and_never_their_id_rows() -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    await store(env, "general", 3, "hi")
    rows = await env.database.query(MESSAGES_TABLE, "general", page_size=100)
    assert len(rows.rows) == 6  # each message and its id row, in the one partition
    reply = await ask(ada, {"action": "history"})
    assert [m["id"] for m in reply["messages"]] == ["general-0", "general-1", "general-2"]
    assert len(await env.database.latest(MESSAGES_TABLE, "general", 10, prefix=MESSAGE_KEYS)) == 3


async def test_messages_sent_in_one_millisecond_come_back_in_the_order_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = ChannelTestEnvironment()
    ada = await joined(env, "ada", "general")
    start = time.time_ns() // 1_000_000 * 1_000_000
    ticks = itertools.count()
    monkeypatch.setattr(time, "time_ns", lambda: start + next(ticks) * 1_000)  # 1 µs a call
    ids = ["aa", "bb", "cc", "dd"]  # in one ms, a key by id alone would put "aa" newest
    for message_id in ids:
        sent = await ask(ada, {"action": "sendMessage", "message": message_id, "id": message_id})
        assert sent["timestamp"] == start // 1_000_000  # all in one millisecond
    monkeypatch.undo()
    first = await ask(ada, {"action": "history", "limit": 2})
    older = await ask(ada, {"action": "history", "limit": 2, "before": first["next"]})
    assert [m["id"] for m in older["messages"] + first["messages"]] == ids
