"""The whole stack as child processes: LocalStack for tests, `python -m devstack` for `make run`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devstack.azurite import AZURITE_BIN, free_port
from devstack.stack import LocalStack

from .conftest import ROOT, SAMPLE

needs_azurite = pytest.mark.skipif(not AZURITE_BIN.exists(), reason="npm ci has not been run")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(app=str(SAMPLE), settings={"WebPubSubHub": "sample"}) as running:
        yield running


@needs_azurite
async def test_local_stack_wires_emulator_host_and_azurite(stack: LocalStack) -> None:
    assert stack.storage_connection_string is not None
    assert f"127.0.0.1:{stack.azurite.port}" in stack.storage_connection_string  # type: ignore[union-attr]
    assert _listening(stack.azurite.port)  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{stack.host_url}/api/negotiate?userId=ada") as response:
            info = json.loads(await response.text())
        assert info["baseUrl"] == f"ws://localhost:{stack.emulator_port}/client/hubs/sample"
        # Through the real emulator: connect (accepted by the host), then a message whose
        # trigger reply comes back as a frame.
        async with session.ws_connect(info["url"]) as ws:
            await ws.send_str("echo round trip")
            message = await ws.receive(timeout=10)
    assert message.type == aiohttp.WSMsgType.TEXT
    assert message.data == "round trip"


@needs_azurite
def test_local_stack_stop_frees_every_port() -> None:
    stack = LocalStack(app=str(SAMPLE)).start()
    ports = [stack.host_port, stack.emulator_port, stack.azurite.port]  # type: ignore[union-attr]
    assert all(_listening(p) for p in ports)
    stack.stop()
    assert not any(_listening(p) for p in ports)


def _run_devstack(*extra: str) -> tuple[subprocess.Popen[str], list[int]]:
    ports = [free_port(), free_port(), free_port()]
    args = [
        sys.executable,
        "-m",
        "devstack",
        "--host-port",
        str(ports[0]),
        "--emulator-port",
        str(ports[1]),
        "--azurite-port",
        str(ports[2]),
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return proc, ports


def _wait_for(proc: subprocess.Popen[str], text: str, timeout: float = 45) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{text!r} not printed:\n{''.join(lines)}")


@needs_azurite
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_python_m_devstack_starts_prints_urls_and_stops_cleanly(sig: signal.Signals) -> None:
    app = "function_app" if (ROOT / "function_app.py").exists() else str(SAMPLE)
    proc, ports = _run_devstack("--app", app)
    try:
        # the banner line: "already set in the environment" would match a bare "ready"
        lines = "".join(_wait_for(proc, "ready (Ctrl-C"))
        assert f"http://localhost:{ports[0]}/api/chat" in lines
        assert f"http://localhost:{ports[1]}" in lines
        assert all(_listening(p) for p in ports)
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not any(_listening(p) for p in ports)


@needs_azurite
def test_python_m_devstack_stops_everything_when_a_piece_crashes(tmp_path: Path) -> None:
    broken = tmp_path / "broken_app.py"
    broken.write_text("raise RuntimeError('this app does not import')\n")
    proc, ports = _run_devstack("--app", str(broken))
    try:
        assert proc.wait(timeout=45) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stdout is not None
    output = proc.stdout.read()
    assert "funchost exited" in output
    assert "this app does not import" in output
    assert not any(_listening(p) for p in ports)
