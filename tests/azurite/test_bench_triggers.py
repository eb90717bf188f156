"""The trigger benchmark runs, and each event kind costs exactly the calls it should."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_CALLS = {
    # connect runs on_connect and writes the record; the room subscription rides in the
    # response's groups (no REST call)
    "connect": (1, 0),
    # states carry the record and the welcome on_connect returned: send it, read nothing
    "connected": (0, 1),
    # states carry the session slot from connect on: only the new session is written; joins
    # the user's topic (send_to_user), the room, and tells the room (presence)
    "message: authenticate (sets the session)": (1, 3),
    # the hot path: states carry the record, so only the history query itself
    "message: history (states carry the record)": (1, 0),
    "message: history (no states: reads the table)": (2, 0),
    # the message and its id row in one transaction (a retry is a conflict: stored once,
    # issue 10 row 3), then one publish however many subscribers
    "message: sendMessage (store + publish)": (1, 1),
    # deletes the record; tells the room who left
    "disconnected": (1, 1),
}


async def test_trigger_benchmark_prints_figures_and_the_calls_per_event() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.triggers",
        "--events",
        "200",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, err.decode()
    text = out.decode()
    assert re.search(r"runtime : +[\d,]+ events/s", text)
    assert re.search(r"ratio   : +[\d.]+ x the floor's cost \(telemetry off\)", text)
    assert re.search(r"ratio on: +[\d.]+ x the floor's cost \(telemetry on\)", text)
    calls = {
        m["kind"].strip(): (int(m["table"]), int(m["rest"]))
        for m in re.finditer(
            r"^  (?P<kind>\S.*?) +table=(?P<table>\d+)  rest=(?P<rest>\d+)$", text, re.M
        )
    }
    assert calls == EXPECTED_CALLS
