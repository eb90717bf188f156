"""The app's Web PubSub trigger functions load in the Python worker as written.

The worker (azure-functions-python-worker, functions.py `Registry.add_function`) resolves every
annotation with `typing.get_type_hints` and refuses a generic binding's parameter annotated
other than `str`, `bytes` or nothing; for a generic trigger's implicit output it keeps the
return annotation without checking it (only an explicit `$return` binding's annotation must be
a class). So the triggers keep their typed `-> dict[str, Any] | None`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, typing
import function_app
from devstack.funchost.worker_rules import check_annotations
out = {}
for f in function_app.app.get_functions():
    (trigger,) = [b for b in json.loads(f.get_function_json())["bindings"] if b["direction"] == "IN"]
    if trigger["type"] != "webPubSubTrigger":
        continue
    fn = f.get_user_function()
    hints = typing.get_type_hints(fn)  # as the worker does: must resolve
    check_annotations(f.get_function_name(), fn, [(trigger["name"], trigger["type"], "")])
    out[f.get_function_name()] = [trigger["name"], str(hints.get("request")), "return" in hints]
print(json.dumps(out))
"""


def test_the_trigger_functions_pass_the_worker_s_load_checks() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    functions = json.loads(found.stdout)
    assert set(functions) == {
        "webpubsub_connect",
        "webpubsub_connected",
        "webpubsub_message",
        "webpubsub_disconnected",
    }
    # `request` (the whole event) as a str, and the typed return kept
    assert all(v == ["request", "<class 'str'>", True] for v in functions.values())
