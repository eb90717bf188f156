"""history through the real message trigger on Table Storage (Azurite): the pages a cursor
walks hold every message once, in order, each reply as the trigger renders it under Web
PubSub's 1 MB message limit; a forged cursor is a 422 frame."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from shared.azure.database import TableDatabase
from shared.core.jwt_service import JwtService
from tests.conftest import JWT_SECRET
from tests.support import chat_rows, payloads

SERVICE_MESSAGE_LIMIT = 1024 * 1024  # Azure Web PubSub's largest message


async def signed_in(triggers: dict[str, Any], room: str) -> tuple[str, dict[str, Any]]:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "chat", "room": room})
    )
    states: dict[str, Any] = accepted["states"]
    await triggers["webpubsub_connected"](request=payloads.connected(cid, states))
    token = JwtService(JWT_SECRET).sign({"userId": "ada"})
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "authenticate", "token": token}, states)
    )
    states.update(reply["states"])
    return cid, states


async def history(
    triggers: dict[str, Any], cid: str, states: dict[str, Any], **ask: Any
) -> tuple[int, Any]:
    """The reply frame, and its size as the trigger hands it to the service."""
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "history", **ask}, states)
    )
    return len(reply["data"].encode()), json.loads(reply["data"])


async def test_200_messages_of_2000_emoji_page_back_through_table_storage(
    triggers: dict[str, Any], table_database: TableDatabase
) -> None:
    room = f"paging{uuid.uuid4().hex[:8]}"
    ids = await chat_rows.store(table_database, room, 200, "😀" * 2000)
    cid, states = await signed_in(triggers, room)

    sizes, pages = [], []
    cursor = None
    while True:
        ask = {"limit": 200} if cursor is None else {"limit": 200, "before": cursor}
        size, page = await history(triggers, cid, states, **ask)
        sizes.append(size)
        pages.append(page)
        cursor = page["next"]
        if cursor is None:
            break

    assert all(size < SERVICE_MESSAGE_LIMIT for size in sizes), sizes
    assert len(pages) >= 3
    assert [m["id"] for page in reversed(pages) for m in page["messages"]] == ids


@pytest.mark.parametrize(
    "before", ["msg-0000000000000000-x' or RowKey ne '", "id-x", "nope", 7, None]
)
async def test_a_forged_cursor_is_a_422_frame_on_table_storage(
    triggers: dict[str, Any], table_database: TableDatabase, before: Any
) -> None:
    room = f"forged{uuid.uuid4().hex[:8]}"
    await chat_rows.store(table_database, room, 2, "hi")
    cid, states = await signed_in(triggers, room)
    ask: dict[str, Any] = {"before": before}
    _, reply = await history(triggers, cid, states, **ask)
    if before is None:  # JSON null: the newest page, as when left out
        assert [m["id"] for m in reply["messages"]] == [f"{room}-0", f"{room}-1"]
    else:
        assert (reply["status"], reply["errorName"]) == (422, "ValidationError")
        assert "before" in reply["error"]
