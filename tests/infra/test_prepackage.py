"""The azd prepackage hook ships the app's bytecode, and the package keeps it.

A Flex Consumption app runs from its package, mounted read-only: Python cannot write
__pycache__ there, so without shipped bytecode every cold start compiles the app from source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP = ("function_app.py", "host.json", "shared", "channels")


def _package(into: Path) -> Path:
    for name in APP:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, into / name)
    return into


def _code_objects(app: Path) -> list[str]:
    """Where `import function_app` took each of the app's code objects from (python -v)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # as a read-only package
    env.pop("PYTHONPYCACHEPREFIX", None)
    done = subprocess.run(
        [sys.executable, "-v", "-c", "import function_app"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        line for line in done.stderr.splitlines() if "code object from" in line and str(app) in line
    ]


def test_after_the_hook_every_app_module_loads_from_bytecode(tmp_path: Path) -> None:
    app = _package(tmp_path)
    before = _code_objects(app)
    assert before and all(line.endswith(".py") for line in before)  # compiled from source

    hook = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]["prepackage"]
    done = subprocess.run(
        ["sh", str(ROOT / hook["run"])],
        cwd=app,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "compiled the app's modules" in done.stdout

    after = _code_objects(app)
    assert len(after) == len(before)
    assert all(".pyc'" in line for line in after), [x for x in after if ".pyc'" not in x]


def test_a_source_changed_after_the_hook_is_not_run_from_stale_bytecode(tmp_path: Path) -> None:
    # checked-hash: the pyc holds the source's hash, so it is used only while it matches
    app = _package(tmp_path)
    subprocess.run(
        ["sh", str(ROOT / "infra/hooks/prepackage.sh")],
        cwd=app,
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        capture_output=True,
    )
    main = app / "function_app.py"
    main.write_text(main.read_text() + "\nCHANGED_AFTER_THE_HOOK = True\n")
    out = subprocess.run(
        [sys.executable, "-c", "import function_app; print(function_app.CHANGED_AFTER_THE_HOOK)"],
        cwd=app,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_the_package_keeps_the_bytecode() -> None:
    ignored = (ROOT / ".funcignore").read_text().split()
    assert "__pycache__" not in ignored and "*.pyc" not in ignored
