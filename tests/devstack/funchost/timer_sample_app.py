"""A function app with timer functions, for the host's timer tests.

`RUNS` records each run (function name, the TimerRequest it got); `ACTIVE` counts runs in
progress per function, `MOST` the highest it reached.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

RUNS: list[tuple[str, func.TimerRequest]] = []
ACTIVE: Counter[str] = Counter()
MOST: Counter[str] = Counter()


async def _record(name: str, timer: func.TimerRequest, seconds: float = 0.0) -> None:
    ACTIVE[name] += 1
    MOST[name] = max(MOST[name], ACTIVE[name])
    try:
        RUNS.append((name, timer))
        await asyncio.sleep(seconds)
    finally:
        ACTIVE[name] -= 1


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
async def every_second(timer: func.TimerRequest) -> None:
    await _record("every_second", timer)


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
async def slow(timer: func.TimerRequest) -> None:
    """Takes 2.5 s on a schedule of every second: its runs must never overlap."""
    await _record("slow", timer, 2.5)


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
def raises(timer: func.TimerRequest) -> None:
    RUNS.append(("raises", timer))
    raise RuntimeError("the timer function failed")


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
async def on_startup(timer: func.TimerRequest) -> None:
    """Once a year, and once when the host starts."""
    await _record("on_startup", timer)


@app.timer_trigger(schedule="%TIMER_SAMPLE_SCHEDULE%", arg_name="timer")
async def from_setting(timer: func.TimerRequest) -> None:
    """Its schedule is an app setting."""
    await _record("from_setting", timer)


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer")
async def yearly(timer: func.TimerRequest) -> None:
    """Monitored (a schedule of more than a minute): run through the admin endpoint."""
    await _record("yearly", timer)


@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")
