"""The README's client examples (the ```ts and ```py blocks) run against the local stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def block(language: str) -> str:
    (found,) = re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return str(found)


def expect_chat(stdout: str) -> None:
    lines = stdout.splitlines()
    assert lines[0] == "Welcome to general!"
    assert re.fullmatch(r"sent at \d{13}", lines[-1]), stdout


def test_the_readme_python_client_example_runs(stack: LocalStack) -> None:
    env = {**os.environ, "BASE_URL": stack.host_url, "PYTHONPATH": str(ROOT / "clients/python")}
    result = subprocess.run(
        [sys.executable, "-c", block("py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expect_chat(result.stdout)


def test_the_readme_typescript_client_example_compiles_strict_and_runs(
    stack: LocalStack, tmp_path: Path
) -> None:
    # The example as written, beside a copy of the client at the path it imports.
    shutil.copytree(ROOT / "clients/typescript", tmp_path / "clients/typescript")
    (tmp_path / "example.ts").write_text(block("ts"))
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")  # `ws` and its types
    compiled = subprocess.run(
        [
            str(ROOT / "node_modules/.bin/tsc"),
            *("--strict", "--target", "es2022", "--module", "nodenext", "--types", "node"),
            *("--outDir", "out", "--rootDir", "."),
            "example.ts",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = {**os.environ, "BASE_URL": stack.host_url}
    result = subprocess.run(
        ["node", "out/example.js"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    expect_chat(result.stdout)
