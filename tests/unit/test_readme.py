"""The README's Python examples run as written."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


async def _run(*parts: str) -> None:
    # A new interpreter each: a block must run on its own, with only its own imports.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "\n".join([*parts, "print('ok')"]),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    assert out.decode().strip().endswith("ok")


def _blocks() -> dict[str, str]:
    """Each README block by the name of the function it defines (or its first test)."""
    out = {}
    for block in python_blocks():
        name = re.search(r"^async def (test_\w+)", block, re.M)
        out[name.group(1) if name else "channel"] = block
    return out


def test_the_readme_has_its_examples() -> None:
    assert {"channel", "test_welcome_and_auth", "test_what_time"} <= set(_blocks())


async def test_the_readme_channel_runs_as_printed() -> None:
    await _run(_blocks()["channel"])


async def test_the_readme_harness_test_runs_as_printed_on_its_own() -> None:
    # The block alone: it must import what wires the channel it tests.
    block = _blocks()["test_welcome_and_auth"]
    await _run(block, "import asyncio", "asyncio.run(test_welcome_and_auth())")


async def test_the_readme_app_services_example_runs_as_printed() -> None:
    block = _blocks()["test_what_time"]
    await _run(block, "import asyncio", "asyncio.run(test_what_time())")
