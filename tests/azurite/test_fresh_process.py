"""Stateless by construction: a process that saw nothing of a connection serves its next event."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.azurite.test_trigger_flow import frame, open_connection, token
from tests.support import payloads

ROOT = Path(__file__).resolve().parents[2]

# Runs in a new interpreter: imports the app, handles one trigger payload, prints the result.
CHILD = """
import asyncio, json, sys
import function_app
by_name = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
result = asyncio.run(by_name[sys.argv[1]](request=sys.stdin.read()))
print(json.dumps(result))
"""


async def in_fresh_process(function: str, payload: str, settings: dict[str, str]) -> Any:
    # Async, so this loop keeps serving the REST recorder the child calls.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        function,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **settings, "PYTHONPATH": str(ROOT)},
    )
    out, err = await asyncio.wait_for(child.communicate(payload.encode()), 60)
    assert child.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_a_fresh_process_serves_the_next_event_with_the_same_opening_data_and_session(
    triggers: dict[str, Any], app_settings: dict[str, str]
) -> None:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    states = await open_connection(triggers, cid, room="lobby")
    reply = await triggers["webpubsub_message"](
        request=payloads.message(
            cid, {"action": "authenticate", "token": token(userId="erin", role="admin")}, states
        )
    )
    assert frame(reply)["authenticated"] is True

    # No states at all: the new process must read the connection from Table Storage.
    result = await in_fresh_process(
        "webpubsub_message",
        payloads.message(cid, {"action": "sendMessage", "message": "from elsewhere"}),
        app_settings,
    )
    sent = frame(result)
    assert sent["action"] == "sendMessage" and sent["message"] == "from elsewhere"
    copy = result["states"]["channel"]
    assert copy == {
        "name": "chat",
        "openingData": {"room": "lobby"},
        "session": {"userId": "erin", "role": "admin"},
    }

    history = frame(
        await in_fresh_process(
            "webpubsub_message", payloads.message(cid, {"action": "history"}), app_settings
        )
    )
    assert [m["message"] for m in history["messages"]][-1] == "from elsewhere"
    assert history["messages"][-1]["userId"] == "erin"


async def test_channel_state_set_by_one_action_is_read_by_a_fresh_process(
    triggers: dict[str, Any], app_settings: dict[str, str]
) -> None:
    cid = f"conn-{uuid.uuid4().hex[:12]}"
    accepted = await triggers["webpubsub_connect"](
        request=payloads.connect(cid, {"channel": "board", "room": "lobby"})
    )
    assert accepted is not None and "code" not in accepted
    reply = await triggers["webpubsub_message"](
        request=payloads.message(cid, {"action": "post", "text": "hello"}, accepted["states"])
    )
    assert frame(reply)["posts"] == 1

    # No states: the new process reads the state `post` set from Table Storage.
    result = await in_fresh_process(
        "webpubsub_message", payloads.message(cid, {"action": "seen"}), app_settings
    )
    assert frame(result) == {"action": "seen", "posts": 1}
    assert result["states"]["channel"]["state"] == {"posts": 1}  # the copy is back
