"""The sweep timer function, on Table Storage: records of gone connections go, live ones stay."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.data.tables.aio import TableServiceClient

from devstack.rest_recorder import RestRecorder
from shared.azure.functions_app import SWEEP_SCHEDULE
from shared.core.stores import UNCONFIRMED_WINDOW
from shared.core.sweep import sweep
from tests.azurite.test_trigger_flow import connection_entity, new_id
from tests.support import payloads

ROOT = Path(__file__).resolve().parents[2]


async def test_the_sweep_removes_records_of_connections_the_service_no_longer_has(
    triggers: dict[str, Any], recorder: RestRecorder, tables: TableServiceClient
) -> None:
    import function_app

    live, aborted = new_id(), new_id()
    for cid in (live, aborted):  # connect accepted, then the handshake is aborted for one
        accepted = await triggers["webpubsub_connect"](
            request=payloads.connect(cid, {"channel": "chat", "room": "sweep"})
        )
        assert accepted is not None and "code" not in accepted
    recorder.gone.add(aborted)
    recorder.calls.clear()

    later = datetime.now(UTC) + UNCONFIRMED_WINDOW + timedelta(seconds=5)
    result = await sweep(function_app.runtime.parts.dispatcher, now=later)

    assert result.removed >= 1 and result.failed == 0
    assert await connection_entity(tables, aborted) is None
    kept = await connection_entity(tables, live)
    assert kept is not None and kept["CheckAfter"] > later  # not asked again for a while
    asked = {c.path.rsplit("/", 1)[-1] for c in recorder.calls if c.kind == "connection_exists"}
    assert {live, aborted} <= asked


def test_the_sweep_is_a_timer_function_of_the_app() -> None:
    # A fresh interpreter: the app's functions can be indexed once per process.
    probe = (
        "import json, function_app\n"
        "print(json.dumps({f.get_function_name(): json.loads(f.get_function_json())['bindings']"
        " for f in function_app.app.get_functions()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    (binding,) = json.loads(out.stdout)["sweep_connections"]
    assert binding["type"] == "timerTrigger"
    assert binding["schedule"] == SWEEP_SCHEDULE
