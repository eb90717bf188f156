"""Timer triggers, fired on schedule as the Functions timer extension fires them.

Read from azure-webjobs-sdk-extensions `Timers/Listener/TimerListener.cs`:
- one invocation at a time per function (`_invocationLock`); the next occurrence is computed
  after a run ends, so a run longer than the interval skips occurrences instead of overlapping;
- a function that raises is logged and the schedule goes on;
- at start: `runOnStartup` fires once at once; with schedule monitoring, an occurrence missed
  while the host was down fires at once with `IsPastDue` true (ScheduleMonitor.CheckPastDue);
- `ScheduleStatus` (Last, Next, LastUpdated) reaches the function only when monitored.
`Timers/Bindings/TimerTriggerBinding.cs` (BindAsync): an invocation from outside the schedule
(the admin endpoint) gets a fresh TimerInfo, not past due, and does not move the schedule.
The worker receives the TimerInfo as JSON (Newtonsoft, PascalCase) and the library builds
`func.TimerRequest` from it (azure-functions `timer.py` TimerRequestConverter.decode).
Status is kept in a JSON file when the host is given one (Azure keeps it in storage), so a
restart can tell a missed occurrence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack.funchost.loader import FunctionSpec
from devstack.funchost.schedule import (
    ConstantSchedule,
    Schedule,
    ScheduleError,
    monitored_by_default,
    parse_schedule,
)

log = logging.getLogger("devstack.funchost")
TIMER_TRIGGER = "timerTrigger"
DEFAULT_TIME = datetime.min  # .NET's default(DateTime), the "never" of a fresh status


@dataclass(frozen=True)
class ScheduleStatus:
    last: datetime
    next: datetime
    last_updated: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "Last": _dotnet_time(self.last),
            "Next": _dotnet_time(self.next),
            "LastUpdated": _dotnet_time(self.last_updated),
        }

    @classmethod
    def from_json(cls, value: dict[str, str]) -> ScheduleStatus:
        return cls(*(_read_time(value[k]) for k in ("Last", "Next", "LastUpdated")))


def _dotnet_time(value: datetime) -> str:
    """A local DateTime as Newtonsoft writes it (default(DateTime) has no offset)."""
    if value == DEFAULT_TIME:
        return "0001-01-01T00:00:00"
    return value.astimezone().isoformat()


def _read_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is None else parsed.astimezone().replace(tzinfo=None)


def timer_info(schedule: Schedule, status: ScheduleStatus | None, past_due: bool) -> str:
    """The JSON the worker gets for a TimerInfo."""
    return json.dumps(
        {
            "Schedule": {"AdjustForDST": not isinstance(schedule, ConstantSchedule)},
            "ScheduleStatus": status.to_json() if status else None,
            "IsPastDue": past_due,
        }
    )


class StatusFile:
    """Schedule status per function in one JSON file (Azure: a blob per timer in storage)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, name: str) -> ScheduleStatus | None:
        value = self._all().get(name)
        try:
            return ScheduleStatus.from_json(value) if isinstance(value, dict) else None
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, name: str, status: ScheduleStatus) -> None:
        data = self._all()
        data[name] = status.to_json()
        self.path.write_text(json.dumps(data), encoding="utf-8")


# Runs the function with the TimerInfo JSON; True when it succeeded.
Runner = Callable[[FunctionSpec, str], Awaitable[bool]]


class TimerListener:
    """Fires one timer function on its schedule, one run at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        run: Runner,
        status_file: StatusFile | None = None,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.spec = spec
        self._run = run
        self._now = now
        started = now()
        self.schedule = parse_schedule(str(spec.trigger.get("schedule") or ""))
        self.run_on_startup = bool(spec.trigger.get("runOnStartup") or False)
        use_monitor = spec.trigger.get("useMonitor")
        self.monitored = (
            monitored_by_default(self.schedule, started) if use_monitor is None else use_monitor
        )
        self.status_file = status_file if self.monitored else None
        self.status = self._fresh_status(started)
        self.lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def _fresh_status(self, now: datetime) -> ScheduleStatus:
        return ScheduleStatus(DEFAULT_TIME, self._next(now), DEFAULT_TIME)

    def _next(self, after: datetime) -> datetime:
        try:
            return self.schedule.next_after(after) or datetime.max
        except OverflowError:  # past year 9999
            return datetime.max

    def _past_due(self, now: datetime) -> bool:
        """ScheduleMonitor.CheckPastDue: the recorded next occurrence has passed."""
        if self.status_file is None:
            return False
        recorded = self.status_file.get(self.spec.name)
        if recorded is None:
            self.status_file.put(self.spec.name, self.status)
            return False
        basis = recorded.last if recorded.last != DEFAULT_TIME else recorded.last_updated
        if basis != DEFAULT_TIME and self._next(basis) != recorded.next:
            return False  # the schedule changed: start afresh
        self.status = recorded
        return now > recorded.next

    def start(self) -> None:
        now = self._now()
        past_due = self._past_due(now)
        log.info(
            "Timer '%s': %s, next %s%s",
            self.spec.name,
            self.schedule,
            self.status.next.isoformat(sep=" "),
            " (past due: runs now)" if past_due else " (runs on startup)" * self.run_on_startup,
        )
        self._task = asyncio.create_task(self._loop(past_due), name=f"timer {self.spec.name}")

    async def _loop(self, past_due: bool) -> None:
        if past_due:
            await asyncio.shield(self._fire(self._now(), past_due=True))
        elif self.run_on_startup:
            await asyncio.shield(self._fire(self._now(), on_startup=True))
        while True:
            delay = (self.status.next - self._now()).total_seconds()
            if delay > 0:
                # Sleep in bounded steps: the wall clock may move under a long sleep.
                await asyncio.sleep(min(delay, 60.0))
                continue
            # Shielded: stopping the host lets a run in progress finish (as the listener's
            # StopAsync waits for its invocation lock) instead of cutting the function off.
            await asyncio.shield(self._fire(self._now()))

    async def _fire(self, when: datetime, past_due: bool = False, on_startup: bool = False) -> None:
        async with self.lock:
            if self._stopped:
                return
            status = self.status if self.monitored else None
            try:
                await self._run(self.spec, timer_info(self.schedule, status, past_due))
            except Exception:  # the schedule goes on whatever the run did
                log.exception("Error occurred during scheduled invocation for '%s'", self.spec.name)
            # Fired a little early (clock skew): count from the occurrence, or it fires twice.
            if not (past_due or on_startup) and self.status.next > when:
                basis = self.status.next
            else:
                basis = when
            self.status = ScheduleStatus(basis, self._next(basis), basis)
            if self.status_file is not None:
                self.status_file.put(self.spec.name, self.status)

    async def run_now(self) -> bool:
        """An invocation from outside the schedule: fresh TimerInfo, the schedule unchanged."""
        async with self.lock:
            status = self.status if self.monitored else None
            return await self._run(self.spec, timer_info(self.schedule, status, False))

    async def stop(self) -> None:
        """Stop firing; a run in progress is waited for."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self.lock:
            pass


def listeners(
    specs: list[FunctionSpec], run: Runner, status_file: Path | None
) -> list[TimerListener]:
    """A listener per timer function; ScheduleError names the function whose schedule is bad."""
    store = StatusFile(status_file) if status_file else None
    found = []
    for spec in specs:
        if spec.trigger.type != TIMER_TRIGGER:
            continue
        try:
            found.append(TimerListener(spec, run, store))
        except ScheduleError as exc:
            raise ScheduleError(f"The '{spec.name}' function is in error: {exc}") from None
    return found
