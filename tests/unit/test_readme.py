"""The README's Python examples run as written."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs every `test_*` coroutine function a program defined, in definition order.
RUN_TESTS = """
import asyncio
_tests = [f for n, f in list(globals().items()) if n.startswith("test_") and callable(f)]
assert _tests, "the example defines no test"
for _test in _tests:
    asyncio.run(_test())
print("ok")
"""


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def guide_examples() -> list[str]:
    """The channel guide's examples: every block after the channel and its harness test."""
    return python_blocks()[2:]


async def run(program: str) -> None:
    # A new interpreter: the example's channels are wired into a registry of its own process.
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
    assert out.decode().strip().splitlines()[-1] == "ok"


async def test_the_readme_channel_and_its_harness_test_run() -> None:
    channel, harness_test = python_blocks()[:2]
    await run("\n".join([channel, harness_test, RUN_TESTS]))


def test_the_channel_guide_shows_each_feature() -> None:
    text = "\n".join(guide_examples())
    for feature in (
        "raise ForbiddenError",  # on_connect refuses
        "set_state",  # channel state
        "send_text",  # on_message taking text
        "frame_middleware",  # frame middleware
        "permissions=",  # permissions
        "Topic(",  # typed topics
        "Base64Bytes",  # the alternative to binary frames
    ):
        assert feature in text, feature


@pytest.mark.parametrize("index", range(len(guide_examples())))
async def test_each_channel_guide_example_runs_with_its_test(index: int) -> None:
    await run("\n".join([guide_examples()[index], RUN_TESTS]))
