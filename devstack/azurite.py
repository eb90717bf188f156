"""Run Azurite's Table service (npm package `azurite`) as a supervised child process."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType

from devstack.child import Child
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


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Azurite:
    """Azurite's table service on `port`, data in `location` (a temporary folder by default).

    Its output goes to `log_dir`/azurite.log (default: beside the data, in a temporary folder).
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        location: str | None = None,
        *,
        log_dir: Path | None = None,
        echo: bool = False,
    ) -> None:
        self.port = port
        self._own_location = location is None
        self.location = location or tempfile.mkdtemp(prefix="azurite-")
        self._own_logs = log_dir is None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="azurite-logs-"))
        self.child = Child(
            "azurite", self.command(), self.log_dir / "azurite.log", echo=echo, cwd=ROOT
        )

    @property
    def connection_string(self) -> str:
        return connection_string(port=self.port)

    def command(self) -> list[str]:
        return [
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
            "--disableTelemetry",  # Azurite reports usage to Microsoft by default: no traffic out
        ]

    def start(self, timeout: float = 30.0) -> None:
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} is missing: run `make setup` (it runs npm ci)")
        self.child.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.child.exited()
            if code is not None:
                raise RuntimeError(f"Azurite exited with {code}:\n{self.child.tail()}")
            if listening(self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        self.child.stop()
        if self._own_location:
            shutil.rmtree(self.location, ignore_errors=True)
        if self._own_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
