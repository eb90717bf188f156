"""The seed's `rooms` example and the chat channel share rooms but not their stored messages."""

from __future__ import annotations

import channels  # noqa: F401 - wires the app's channels
from channels.examples import ROOM_MESSAGES_TABLE
from shared.core.testing import ChannelTestEnvironment


async def test_chat_history_works_in_a_room_the_rooms_example_also_wrote_to() -> None:
    env = ChannelTestEnvironment()
    visitor = env.communicator("rooms", room="general")
    assert (await visitor.connect()).accepted
    assert await visitor.receive_json() == {"welcome": "Joined general"}
    await visitor.send_json({"message": "from the rooms example"})
    stored = await visitor.receive_json()
    assert stored["message"] == "from the rooms example"

    ada = env.communicator("chat", room="general")
    assert (await ada.connect()).accepted
    await ada.receive_json()  # welcome
    await ada.send_json({"action": "authenticate", "token": env.token(userId="ada")})
    assert (await ada.receive_json())["authenticated"] is True
    await ada.send_json({"action": "sendMessage", "message": "from chat"})
    sent = await ada.receive_json()
    await ada.send_json({"action": "history"})

    history = await ada.receive_json()
    assert history == {
        "action": "history",
        "messages": [
            {
                "type": "message",
                "id": sent["id"],
                "message": "from chat",
                "userId": "ada",
                "timestamp": sent["timestamp"],
            }
        ],
        "more": False,
        "next": None,
    }
    kept = await env.database.latest(ROOM_MESSAGES_TABLE, "general", 10)
    assert [row["message"] for row in kept] == ["from the rooms example"]
