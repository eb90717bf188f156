"""Run Azurite's Table service (npm package `azurite`) as a child process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from shared.azure.settings import AZURITE_CONNECTION_STRING

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite-table"
DEFAULT_PORT = 10002


def connection_string(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    return AZURITE_CONNECTION_STRING.replace("127.0.0.1:10002", f"{host}:{port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Azurite:
    """Azurite's table service on `port`, data in `location` (a temporary folder by default)."""

    def __init__(self, port: int = DEFAULT_PORT, location: str | None = None) -> None:
        self.port = port
        self._own_location = location is None
        self.location = location or tempfile.mkdtemp(prefix="azurite-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(port=self.port)

    def start(self, timeout: float = 30.0) -> None:
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} is missing: run `npm ci` (make setup does)")
        self._proc = subprocess.Popen(  # noqa: S603 - fixed local binary
            [
                str(AZURITE_BIN),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(self.port),
                "--location",
                self.location,
                "--skipApiVersionCheck",
                "--disableProductStyleUrl",
                "--silent",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"Azurite exited with {self._proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._own_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
