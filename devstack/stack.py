"""The whole local stack: Azurite, the Web PubSub emulator and the Functions host.

    with LocalStack() as stack:          # free ports; LocalStack(host_port=7071, ...) for fixed
        stack.host_url, stack.emulator_url, stack.webpubsub_connection_string

The emulator and the host each run as a child process (`python -m devstack.webpubsub`,
`python -m devstack.funchost`), so a crash is visible; the emulator's upstream points at the
host's webhook and the host's settings point at the emulator and at Azurite.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from devstack.azurite import Azurite, free_port
from shared.azure.settings import EMULATOR_CONNECTION_STRING

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_KEY = EMULATOR_CONNECTION_STRING.split("AccessKey=")[1].split(";")[0]
WEBHOOK_PATH = "/runtime/webhooks/webpubsub"


class StackError(RuntimeError):
    """A piece of the stack did not start, or stopped on its own."""


class Child:
    """One child process with its output in a log file (or the terminal)."""

    def __init__(self, name: str, args: list[str], log: IO[bytes] | None) -> None:
        self.name = name
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(  # noqa: S603 - our own modules, run with this Python
            self.args,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log else None,
            # Its own session: Ctrl-C reaches the supervisor, which stops children in order.
            start_new_session=True,
        )

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def output(self) -> str:
        if self.log is None:
            return ""
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _answers(url: str, method: str = "GET") -> bool:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback http only
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


class LocalStack:
    """Start Azurite, the emulator and the host (ports 0 = free ports); stop them all."""

    def __init__(
        self,
        *,
        app: str = "function_app",
        host_port: int = 0,
        emulator_port: int = 0,
        azurite_port: int = 0,
        azurite: bool = True,
        azurite_location: str | None = None,
        settings_file: str | None = None,
        settings: dict[str, str] | None = None,
        log_dir: str | None = "",
    ) -> None:
        """`log_dir=""` keeps child output in a temporary folder; None prints it to the terminal."""
        self.app = app
        self.host_port = host_port or free_port()
        self.emulator_port = emulator_port or free_port()
        self.azurite = Azurite(azurite_port or free_port(), azurite_location) if azurite else None
        self.settings_file = settings_file
        self.extra_settings = dict(settings or {})
        self._log_dir = tempfile.mkdtemp(prefix="devstack-logs-") if log_dir == "" else log_dir
        self.children: list[Child] = []

    @property
    def host_url(self) -> str:
        return f"http://localhost:{self.host_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.host_url}{WEBHOOK_PATH}"

    @property
    def emulator_url(self) -> str:
        return f"http://localhost:{self.emulator_port}"

    @property
    def webpubsub_connection_string(self) -> str:
        return f"Endpoint={self.emulator_url};AccessKey={EMULATOR_KEY};Version=1.0;"

    @property
    def storage_connection_string(self) -> str | None:
        return self.azurite.connection_string if self.azurite else None

    def host_settings(self) -> dict[str, str]:
        values = {"WebPubSubConnectionString": self.webpubsub_connection_string}
        if self.storage_connection_string:
            values["AzureWebJobsStorage"] = self.storage_connection_string
        values.update(self.extra_settings)
        return values

    def _log(self, name: str) -> IO[bytes] | None:
        if self._log_dir is None:
            return None
        return open(Path(self._log_dir) / f"{name}.log", "wb")  # closed in stop()

    def _commands(self) -> list[tuple[str, list[str]]]:
        emulator = [
            sys.executable,
            "-m",
            "devstack.webpubsub",
            "--port",
            str(self.emulator_port),
            "--default-upstream",
            f"http://localhost:{self.host_port}{WEBHOOK_PATH}",
        ]
        host = [
            sys.executable,
            "-m",
            "devstack.funchost",
            "--port",
            str(self.host_port),
            "--app",
            self.app,
        ]
        if self.settings_file:
            host += ["--settings", self.settings_file]
        for name, value in self.host_settings().items():
            host += ["--setting", f"{name}={value}"]
        return [("webpubsub", emulator), ("funchost", host)]

    def start(self, timeout: float = 60.0) -> LocalStack:
        try:
            if self.azurite:
                self.azurite.start(timeout=timeout)
            for name, args in self._commands():
                child = Child(name, args, self._log(name))
                self.children.append(child)
                child.start()
            self._wait(f"http://127.0.0.1:{self.emulator_port}/api/health", "HEAD", timeout)
            self._wait(f"http://127.0.0.1:{self.host_port}/admin/host/status", "GET", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, url: str, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            if _answers(url, method):
                return
            time.sleep(0.1)
        raise StackError(f"{url} did not answer within {timeout}s")

    def check(self) -> None:
        """Raise StackError when a child has exited."""
        for child in self.children:
            code = child.exited()
            if code is not None:
                raise StackError(f"{child.name} exited with {code}\n{child.output()}")

    def stop(self) -> None:
        """Stop the host, then the emulator, then Azurite."""
        for child in reversed(self.children):
            child.stop()
            if child.log:
                child.log.close()
        self.children.clear()
        if self.azurite:
            with contextlib.suppress(Exception):
                self.azurite.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
