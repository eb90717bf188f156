"""Work the hot path and the cold start must not do (their speed is measured in bench/, never
asserted here): garbage left for the cyclic collector per event, docs or telemetry loaded at
import."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import channels  # noqa: F401 - wires the app's channels
from shared.azure.telemetry import CONNECTION_STRING, LOCAL_SWITCH
from shared.core.testing import ChannelTestEnvironment

ROOT = Path(__file__).resolve().parents[2]


async def test_a_message_event_leaves_no_reference_cycle_for_the_garbage_collector() -> None:
    # A cycle (services -> channel -> outbound -> services) kept a dozen objects per event
    # alive until the cyclic collector ran: on the hot path, that collector's time was the
    # largest single cost after parsing.
    env = ChannelTestEnvironment()
    client = env.communicator("echo", room="r")
    assert (await client.connect()).accepted
    await client.send_json({"message": "warm"})
    assert await client.receive_json() == {"message": "Echo: warm"}
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for n in range(3):
            await client.send_json({"message": f"hello {n}"})
        gc.collect()
        left = sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []
    assert [await client.receive_json() for _ in range(3)] == [
        {"message": f"Echo: hello {n}"} for n in range(3)
    ]


def test_importing_the_function_app_builds_no_docs_and_loads_no_telemetry_sdk() -> None:
    # Every cold start pays its import: the AsyncAPI document and JSON Schemas are built on
    # their first request, OpenTelemetry is loaded only when telemetry is switched on.
    probe = (
        "import sys, function_app; print(sorted(m for m in sys.modules if m.startswith("
        "('opentelemetry', 'shared.core.asyncapi', 'shared.core.docs', 'shared.core.json_schemas'"
        "))))"
    )
    env = {k: v for k, v in os.environ.items() if k not in (CONNECTION_STRING, LOCAL_SWITCH)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
