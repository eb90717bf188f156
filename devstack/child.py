"""One supervised child process: its output goes to a log file (and the terminal, if asked).

The child writes straight to its log file; the supervisor reads the file's last lines to show
when it stops. Only when the terminal shows its output does a thread read it through a pipe
(each line prefixed with the child's name): a reader thread in a busy supervisor (a benchmark,
a test run) lags, the pipe fills, and every log line the child writes waits for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

TAIL_LINES = 30
TAIL_BYTES = 64 * 1024  # enough for TAIL_LINES lines, tracebacks included


class Child:
    """`args` run in `cwd`; output in `log_path`, echoed when `echo`; the last lines kept."""

    def __init__(
        self, name: str, args: list[str], log_path: Path, *, echo: bool = False, cwd: Path
    ) -> None:
        self.name = name
        self.args = args
        self.log_path = log_path
        self.echo = echo
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own modules or the local Azurite
                self.args,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if self.echo else log,
                stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C reaches the supervisor alone, which stops children
                # in order.
                start_new_session=True,
            )
        if self.echo:
            self._pump = threading.Thread(target=self._copy, name=f"log-{self.name}", daemon=True)
            self._pump.start()

    def _copy(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "ab") as log:
            for raw in self.proc.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                print(f"[{self.name}] {line}", flush=True)

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def exited(self) -> int | None:
        """The exit code once the child has stopped, else None."""
        return None if self.proc is None else self.proc.poll()

    def tail(self) -> str:
        """Its last lines of output (all of them once it has stopped)."""
        if self._pump is not None and self.exited() is not None:
            self._pump.join(timeout=2)
        return "\n".join(self.output(TAIL_BYTES).splitlines()[-TAIL_LINES:])

    def output(self, limit: int = 200_000) -> str:
        """The end of its log file (what it has written so far), up to `limit` characters."""
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`; waits until its output is written."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"devstack: {self.name} did not stop in {timeout}s: killed", file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)
