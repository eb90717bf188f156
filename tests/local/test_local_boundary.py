"""shared.local is an adapter over shared.core alone: no Azure package, no devstack.

(That the core and channels import no adapter is tests/unit/test_boundary.py's.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = sorted(
    f"shared.local.{p.stem}"
    for p in (ROOT / "shared" / "local").glob("*.py")
    if p.stem != "__init__"
)

CHILD = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(*names: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_serving_the_reference_app_locally_loads_no_azure_module() -> None:
    loaded = modules_loaded_by("shared.local", *LOCAL, "channels")
    assert "shared.local.server" in loaded  # the check saw the adapter
    assert [m for m in loaded if m == "azure" or m.startswith("azure.")] == []
    assert [m for m in loaded if m.startswith(("shared.azure", "devstack", "function_app"))] == []
