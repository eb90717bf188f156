"""The README's Python examples run as written."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


async def test_the_readme_channel_and_its_harness_test_run() -> None:
    channel, harness_test = python_blocks()
    # A new interpreter: the README's channel is wired into a registry of its own process.
    program = "\n".join(
        [
            channel,
            harness_test,
            "import asyncio",
            "asyncio.run(test_welcome_and_auth())",
            "print('ok')",
        ]
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        program,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    assert out.decode().strip() == "ok"
