"""`python -m devstack` / `make run` as a user meets it: supervised, strict about ports, quiet.

Each test runs the supervisor as a subprocess, as a terminal would, and reads what it prints.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devstack.azurite import AZURITE_BIN, free_port, listening
from devstack.funchost.__main__ import parse_args
from devstack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
needs_azurite = pytest.mark.skipif(not AZURITE_BIN.exists(), reason="npm ci has not been run")
pytestmark = needs_azurite
READY = "ready (Ctrl-C stops everything)"  # the banner's line ("already" holds "ready" too)
WARNINGS = ("Unclosed", "Traceback", "Warning", "Task was destroyed", "Exception ignored")


class Run:
    """A supervisor subprocess in its own process group; every line it prints is kept."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group, as a terminal's foreground job
        )
        self.lines: list[str] = []

    def wait_for(self, text: str, timeout: float = 60) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} not printed:\n{self.output}")

    def finish(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout=timeout)
        assert self.proc.stdout is not None
        self.lines.append(self.proc.stdout.read())
        return code

    def interrupt(self) -> None:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        os.killpg(self.proc.pid, signal.SIGINT)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def ports() -> list[int]:
    return [free_port(), free_port(), free_port()]


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def devstack(runs: list[Run], ports: list[int], *extra: str) -> Run:
    options = ["--host-port", str(ports[0]), "--emulator-port", str(ports[1])]
    options += ["--azurite-port", str(ports[2])]
    run = Run([sys.executable, "-m", "devstack", *options, *extra])
    runs.append(run)
    return run


def pid_listening_on(port: int) -> int:
    """The pid of the process whose command line names `port` (Azurite's --tablePort)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--tablePort" in args and str(port).encode() in args:
            return int(entry.name)
    raise AssertionError(f"no Azurite process for port {port}")


def test_help_shows_every_port_and_its_default() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option, default in [
        ("--host-port", "7071"),
        ("--emulator-port", "8080"),
        ("--azurite-port", "10002"),
        ("--upstream-timeout", "30.0"),
    ]:
        assert option in text and f"({default})" in text
    assert "--data-dir" in text


@pytest.mark.parametrize("busy", [0, 1, 2], ids=["host", "emulator", "azurite"])
def test_a_busy_port_is_refused_before_anything_starts(
    runs: list[Run], ports: list[int], busy: int
) -> None:
    option = ["--host-port", "--emulator-port", "--azurite-port"][busy]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[busy]))
        taken.listen()
        run = devstack(runs, ports)
        assert run.finish() == 1
    assert f"port {ports[busy]}" in run.output
    assert "already in use" in run.output
    assert option in run.output
    # Nothing started: no child printed a line, no other port was taken.
    assert "[azurite]" not in run.output and "[funchost]" not in run.output
    assert not any(listening(p) for i, p in enumerate(ports) if i != busy)


def test_azurite_killed_under_a_running_stack_stops_it_naming_azurite(
    runs: list[Run], ports: list[int]
) -> None:
    run = devstack(runs, ports)
    run.wait_for(READY)
    os.kill(pid_listening_on(ports[2]), signal.SIGKILL)
    started = time.monotonic()
    assert run.finish() == 1
    assert time.monotonic() - started < 15  # "within seconds" (a bound, not a benchmark)
    assert "devstack: azurite stopped (exit code -9)" in run.output
    assert "its last lines:" in run.output
    kept = next(line for line in run.output.splitlines() if "logs of this run are kept" in line)
    log_dir = Path(kept.rsplit(" ", 1)[1])
    assert (log_dir / "azurite.log").exists() and (log_dir / "funchost.log").exists()
    assert not any(listening(p) for p in ports)


async def _chat_round_trip(host_port: int) -> None:
    """Token, negotiate, connect, authenticate, send: the host's SDK clients get created."""
    base = f"http://127.0.0.1:{host_port}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/token", json={"name": "ada"}) as response:
            token = (await response.json())["token"]
        params = {"channel": "chat", "room": "lobby"}
        async with http.get(f"{base}/api/negotiate", params=params) as response:
            url = (await response.json())["url"]
        async with http.ws_connect(url) as ws:
            await ws.receive_json(timeout=10)  # welcome
            await ws.send_json({"action": "authenticate", "token": token})
            assert (await ws.receive_json(timeout=10))["authenticated"] is True
            await ws.send_json({"action": "sendMessage", "message": "hello"})
            reply = await ws.receive_json(timeout=10)
            assert (reply["action"], reply["message"]) == ("sendMessage", "hello")


async def test_ctrl_c_stops_children_in_order_without_warnings_and_exits_0(
    runs: list[Run], ports: list[int]
) -> None:
    run = devstack(runs, ports)
    run.wait_for(READY)
    await _chat_round_trip(ports[0])
    run.interrupt()
    assert run.finish() == 0
    out = run.output
    order = [out.index(f"devstack: stopped {name}") for name in ("funchost", "webpubsub")]
    order.append(out.index("devstack: stopped azurite"))
    assert order == sorted(order), out
    assert not [w for w in WARNINGS if w in out], out
    assert not any(listening(p) for p in ports)


def test_a_clean_run_leaves_no_log_folder(runs: list[Run], ports: list[int]) -> None:
    run = devstack(runs, ports)
    run.wait_for(READY)
    said = next(line for line in run.lines if "logs of this run:" in line)
    log_dir = Path(said.split("logs of this run: ")[1].split(" ")[0])
    assert (log_dir / "funchost.log").is_file()
    run.interrupt()
    assert run.finish() == 0
    assert not log_dir.exists()
    assert "kept in" not in run.output


def test_make_run_takes_ports_on_the_command_line(
    runs: list[Run], ports: list[int], tmp_path: Path
) -> None:
    data = tmp_path / "azurite-data"
    args = f"--host-port {ports[0]} --emulator-port {ports[1]} --data-dir {data}"
    # -o: setup is done (this checkout shares its .venv and node_modules); do not redo it.
    run = Run(
        [
            "make",
            "--no-print-directory",
            *("-o", ".venv/.installed", "-o", "node_modules/.installed"),
            "run",
            f"AZURITE_PORT={ports[2]}",
            f"ARGS={args}",
        ]
    )
    runs.append(run)
    run.wait_for(READY)
    with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/admin/host/status") as response:
        assert json.load(response)["state"] == "Running"
    assert listening(ports[1]) and listening(ports[2])
    assert f"Azurite data       {data}" in run.output
    run.interrupt()
    run.finish()  # make itself ends by the SIGINT it got; devstack stopped cleanly first
    assert "devstack: stopped" in run.output
    assert not [w for w in WARNINGS if w in run.output], run.output
    assert data.is_dir()  # a given data folder is the user's: kept


FAILING_TEST = """
import pytest
from devstack.stack import LocalStack

@pytest.fixture
def stack():
    running = LocalStack(azurite=False)
    yield running
    running.stop()

def test_something_the_stack_got_wrong(stack):
    assert "the reply" == "another reply"
"""


def test_a_failing_test_that_used_the_stack_shows_its_log_folder(tmp_path: Path) -> None:
    """tests/conftest.py's report hook: the failure names the stack's logs, which are kept."""
    (tmp_path / "test_uses_stack.py").write_text(FAILING_TEST)
    args = ["-p", "tests.conftest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args, str(tmp_path / "test_uses_stack.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "local stack logs" in result.stdout
    shown = next(line for line in result.stdout.splitlines() if "logs of this run:" in line)
    log_dir = Path(shown.split("logs of this run: ")[1].strip())
    try:
        assert log_dir.is_dir()  # kept, because the test failed
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


def test_a_webhook_key_that_begins_with_a_dash_reaches_the_host() -> None:
    # secrets.token_urlsafe makes one about once in 64: every stack test then failed to start
    stack = LocalStack(azurite=False, webhook_key="-starts-with-a-dash")
    host = dict(stack._commands())["funchost"]
    assert parse_args(host[3:]).webhook_key == "-starts-with-a-dash"
