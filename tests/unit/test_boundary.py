"""The core is transport-neutral: it loads no Azure package and knows no adapter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "shared" / "core").glob("*.py")
)
FORBIDDEN = ("azure", "shared.azure", "shared.local", "devstack", "function_app")


def test_the_core_has_modules_to_check() -> None:
    assert "shared.core.dispatcher" in CORE_MODULES and len(CORE_MODULES) > 10


@pytest.mark.parametrize("module", CORE_MODULES)
def test_a_core_module_imports_in_a_fresh_interpreter_without_azure(module: str) -> None:
    probe = (
        f"import {module}, sys; "
        "print(sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", f"{module} loads {out.stdout.strip()}"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "shared" / "core").rglob("*.py"), *(ROOT / "channels").rglob("*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_core_and_channels_import_no_adapter(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
