"""The README's Python examples run as written."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

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


# The channel guide: one example per feature, each with its test.
GUIDE = {
    "test_refuse_or_welcome": "raise ForbiddenError",  # on_connect decides at connect time
    "test_state_survives_between_events": "set_state",  # channel state
    "test_unknown_actions_and_text_reach_on_message": "send_text",  # routing
    "test_frames_are_dropped_or_changed": "frame_middleware",  # frame middleware, app rules
    "test_only_the_owner_may_edit": "permissions=",  # permissions
    "test_a_publish_of_the_wrong_type_fails_under_the_harness": "Topic(",  # typed frames
    "test_bytes_travel_as_base64_in_json": "Base64Bytes",  # the alternative to binary
}


@pytest.mark.parametrize("name", GUIDE)
async def test_each_channel_guide_example_shows_its_feature_and_runs_on_its_own(
    name: str,
) -> None:
    block = _blocks()[name]
    assert GUIDE[name] in block
    await _run(block, "import asyncio", f"asyncio.run({name}())")


def test_every_make_target_the_docs_name_exists_and_runs_something() -> None:
    # `make soak` and `make fuzz` were once lost in a merge while the README still named them.
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    docs = [ROOT / "README.md", *sorted((ROOT / "infra").glob("*.md"))]
    named = {t for doc in docs for t in re.findall(r"`make ([a-z][\w-]*)", doc.read_text())}
    assert named, "the README names no make target"
    assert named <= targets, f"named in the docs but not in the Makefile: {named - targets}"
    phony = set(re.findall(r"^\.PHONY:(.*)$", makefile, re.M)[0].split())
    assert phony <= targets, f"declared .PHONY with no rule: {phony - targets}"
