"""`python -m shared.local` as a user runs it: one command, then negotiate and a socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect

from devstack.azurite import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0  # the child imports pydantic and the app first


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.local", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_help_shows_the_defaults() -> None:
    result = run("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--host HOST address to listen on (default: 127.0.0.1)" in text
    assert "(default: 8000)" in text
    assert "(default: channels)" in text


def test_an_unknown_app_module_is_named_and_exits_2() -> None:
    result = run("--app", "no_such_app", "--port", "0")
    assert result.returncode == 2
    assert (
        "shared.local: no app module 'no_such_app' (run from the project folder)" in result.stderr
    )


@pytest.mark.parametrize("setting", ["JWT_SECRET", "JWT_SECRET_PREVIOUS"])
def test_a_short_jwt_secret_stops_the_start_naming_the_setting(setting: str) -> None:
    env = {**os.environ, "JWT_SECRET": "s" * 40, setting: "too-short"}
    result = subprocess.run(
        [sys.executable, "-m", "shared.local", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert f"shared.local: app setting {setting} must be at least 32 characters" in result.stderr
    assert "too-short" not in result.stderr + result.stdout


async def test_the_command_serves_negotiate_and_the_chat_channel_then_stops_on_sigterm() -> None:
    port = free_port()
    env = {**os.environ, "GUEST_LOGIN": "true"}
    env.pop("JWT_SECRET", None)  # a random one for the run
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shared.local",
        "--port",
        str(port),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        banner: list[str] = []
        while not banner or banner[-1] != "ready":
            line = await asyncio.wait_for(child.stdout.readline(), TIMEOUT)
            assert line, f"exited early: {banner}"
            banner.append(line.decode().strip())
        assert f"http://127.0.0.1:{port}/api/chat" in banner

        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            params = {"channel": "chat", "room": "cli"}
            async with http.get(f"{base}/api/negotiate", params=params) as response:
                assert response.status == 200
                info = await response.json()
        assert info["baseUrl"] == f"ws://127.0.0.1:{port}/client"
        async with connect(info["url"], open_timeout=TIMEOUT) as ws:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert welcome == {"welcome": "Welcome to cli!"}
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(child.communicate(), TIMEOUT)
    assert child.returncode == 0, stderr.decode()
    assert "JWT_SECRET is not set: a random secret signs this run's tokens" in stderr.decode()
