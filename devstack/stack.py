"""The whole local stack: Azurite, the Web PubSub emulator and the Functions host.

    with LocalStack() as stack:          # free ports; LocalStack(host_port=7071, ...) for fixed
        stack.host_url, stack.emulator_url, stack.webpubsub_connection_string

Each piece runs as a supervised child process (`azurite-table`, `python -m devstack.webpubsub`,
`python -m devstack.funchost`): `check()` raises StackError naming the one that stopped, with
its last log lines. The emulator's upstream points at the host's webhook (with the webhook key
when the host checks one); the host's settings point at the emulator and at Azurite.

Logs go to a temporary folder, removed by `stop()` unless the run failed; then its path is
printed and kept.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from devstack.azurite import Azurite, free_port
from devstack.child import Child
from shared.azure.settings import EMULATOR_CONNECTION_STRING

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_KEY = EMULATOR_CONNECTION_STRING.split("AccessKey=")[1].split(";")[0]
WEBHOOK_PATH = "/runtime/webhooks/webpubsub"


class StackError(RuntimeError):
    """A piece of the stack did not start, or stopped on its own."""


def port_in_use(port: int) -> bool:
    """Something listens on `port` (loopback, IPv4 or IPv6), so a piece could not bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers bind: an old connection in TIME_WAIT does not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    try:
        with socket.create_connection(("::1", port), timeout=0.2):
            return True  # "localhost" may reach this listener before ours
    except OSError:
        return False


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
        webhook_key: str | None = None,
        master_key: str | None = None,
        upstream_timeout: float | None = None,
        echo: bool = False,
    ) -> None:
        """`webhook_key` turns on the host's key checks: the webhook's `?code=`, and the admin
        API's master key (`master_key`, made up when not given); `echo` prints children's
        output."""
        self.app = app
        self.host_port = host_port or free_port()
        self.emulator_port = emulator_port or free_port()
        self.log_dir = Path(tempfile.mkdtemp(prefix="devstack-logs-"))
        self.azurite = (
            Azurite(azurite_port or free_port(), azurite_location, log_dir=self.log_dir, echo=echo)
            if azurite
            else None
        )
        self.settings_file = settings_file
        self.extra_settings = dict(settings or {})
        self.webhook_key = webhook_key
        self.master_key = master_key or (secrets.token_urlsafe(24) if webhook_key else None)
        self.upstream_timeout = upstream_timeout
        self.echo = echo
        self.children: list[Child] = []
        self.failed = False

    @property
    def host_url(self) -> str:
        return f"http://localhost:{self.host_port}"

    @property
    def webhook_url(self) -> str:
        """The event handler URL, as the emulator calls it (with `?code=` when checked)."""
        code = f"?code={self.webhook_key}" if self.webhook_key else ""
        return f"{self.host_url}{WEBHOOK_PATH}{code}"

    def admin_headers(self) -> dict[str, str]:
        """Headers for the host's admin API (`POST /admin/functions/{name}`)."""
        return {"x-functions-key": self.master_key} if self.master_key else {}

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

    def ports(self) -> list[tuple[int, str, str]]:
        """(port, what listens there, the option that changes it)."""
        found = [
            (self.host_port, "the Functions host", "--host-port"),
            (self.emulator_port, "the Web PubSub emulator", "--emulator-port"),
        ]
        if self.azurite:
            found.append((self.azurite.port, "Azurite", "--azurite-port"))
        return found

    def _commands(self) -> list[tuple[str, list[str]]]:
        emulator = [
            sys.executable,
            *("-m", "devstack.webpubsub", "--port", str(self.emulator_port)),
            *("--default-upstream", self.webhook_url),
        ]
        if self.upstream_timeout is not None:
            emulator += ["--upstream-timeout", str(self.upstream_timeout)]
        host = [
            sys.executable,
            *("-m", "devstack.funchost", "--port", str(self.host_port), "--app", self.app),
        ]
        if self.webhook_key:
            host.append(f"--webhook-key={self.webhook_key}")  # a key may begin with "-"
        if self.master_key:
            host.append(f"--master-key={self.master_key}")
        # In the run's folder: a host restarted within the run finds its timers' status.
        host += ["--timer-status", str(self.log_dir / "timers.json")]
        if self.settings_file:
            host += ["--settings", self.settings_file]
        for name, value in self.host_settings().items():
            host += ["--setting", f"{name}={value}"]
        return [("webpubsub", emulator), ("funchost", host)]

    def check_ports(self) -> None:
        """Raise StackError naming the first busy port and the option that changes it."""
        seen: dict[int, str] = {}
        for port, what, option in self.ports():
            if port in seen:
                raise StackError(f"port {port} is given to both {seen[port]} and {what}")
            seen[port] = what
            if port_in_use(port):
                raise StackError(
                    f"port {port} ({what}) is already in use: stop what listens there, "
                    f"or choose another port with {option}"
                )

    def start(self, timeout: float = 60.0) -> LocalStack:
        try:
            self.check_ports()
            self._say(f"logs of this run: {self.log_dir} (removed when it ends cleanly)")
            if self.azurite:
                try:
                    self.azurite.start(timeout=timeout)
                except RuntimeError as exc:
                    raise StackError(str(exc)) from exc
                self.children.append(self.azurite.child)
            for name, args in self._commands():
                child = Child(name, args, self.log_dir / f"{name}.log", echo=self.echo, cwd=ROOT)
                self.children.append(child)
                child.start()
            self._wait(f"http://127.0.0.1:{self.emulator_port}/api/health", "HEAD", timeout)
            self._wait(f"http://127.0.0.1:{self.host_port}/admin/host/ping", "GET", timeout)
        except BaseException as exc:
            self.failed = isinstance(exc, StackError)
            self.stop()
            if self.failed and str(self.log_dir) not in str(exc):
                raise StackError(f"{exc}\n(logs of this run: {self.log_dir})") from None
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
        """Raise StackError when a child has stopped: which one, its exit code, its last lines."""
        for child in self.children:
            code = child.exited()
            if code is not None:
                self.failed = True
                raise StackError(
                    f"{child.name} stopped (exit code {code}); its last lines:\n"
                    f"{_indent(child.tail())}\n(logs of this run: {self.log_dir})"
                )

    def tails(self) -> str:
        """Every child's last lines, for a failure report."""
        parts = [f"logs of this run: {self.log_dir}"]
        for child in self.children:
            parts.append(f"--- {child.name} (last lines) ---\n{child.tail()}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the host, then the emulator, then Azurite; remove the logs unless failed."""
        for child in reversed(self.children):
            if self.azurite is None or child is not self.azurite.child:
                child.stop()
                self._say(f"stopped {child.name}")
        if self.azurite:
            started = self.azurite.child in self.children
            self.azurite.stop()
            if started:
                self._say("stopped azurite")
        self.children.clear()
        if self.failed:
            print(f"devstack: the logs of this run are kept in {self.log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def _say(self, text: str) -> None:
        if self.echo:
            print(f"devstack: {text}", flush=True)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines()) or "  (no output)"
