"""The local host fires timer functions as the Functions timer extension does.

Microsoft's source these follow is cited in devstack/funchost/timers.py (TimerListener.cs,
TimerTriggerBinding.cs), schedule.py (TimerSchedule.cs, CronSchedule.cs, NCrontab) and
admin.py (FunctionsController.Invoke).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from azure.functions.timer import TimerRequest

from devstack.funchost.app import build_app
from devstack.funchost.loader import FunctionSpec, find_function_app, import_app_module, index
from devstack.funchost.schedule import ScheduleError
from devstack.funchost.worker_rules import FunctionLoadError, check_annotations
from devstack.serve import serve

ROOT = Path(__file__).resolve().parents[3]
APP = Path(__file__).with_name("timer_sample_app.py")
MASTER_KEY = "local-master-key"
SETTING = "TIMER_SAMPLE_SCHEDULE"
# `yearly` last ran on 1 Jan 2025 and was next due on 1 Jan 2026: the host was down then.
MISSED = {
    "Last": "2025-01-01T00:00:00",
    "Next": "2026-01-01T00:00:00",
    "LastUpdated": "2025-01-01T00:00:00",
}


@pytest.fixture(scope="module")
def timer_app() -> Iterator[tuple[ModuleType, list[FunctionSpec]]]:
    saved = os.environ.get(SETTING)
    os.environ[SETTING] = "*/2 * * * * *"
    module = import_app_module(str(APP), ROOT)
    yield module, index(find_function_app(module))
    if saved is None:
        os.environ.pop(SETTING, None)
    else:
        os.environ[SETTING] = saved


@pytest.fixture(scope="module")
async def timer_host(
    timer_app: tuple[ModuleType, list[FunctionSpec]], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    status = tmp_path_factory.mktemp("timers") / "timers.json"
    status.write_text(json.dumps({"yearly": MISSED}))
    module, specs = timer_app
    app = build_app(specs, ROOT, app_module=module, master_key=MASTER_KEY, timer_status=status)
    served = await serve(app)
    yield served.url
    await served.stop()


def runs(module: ModuleType, name: str) -> list[TimerRequest]:
    """What each run of `name` got: the library's TimerRequest, as the worker builds it."""
    found = [timer for fn, timer in module.RUNS if fn == name]
    assert all(isinstance(timer, TimerRequest) for timer in found)
    return found


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for `check` (events, not a time limit: the bound only keeps a broken run short)."""
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the timer did not fire")


async def test_a_timer_function_runs_on_its_schedule_with_a_timer_request(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "every_second")) >= 3)
    timer = runs(module, "every_second")[0]
    assert timer.past_due is False
    # More than once a minute: no schedule monitoring, so no status (TimerAttribute.UseMonitor).
    assert timer.schedule_status == {}
    assert timer.schedule == {"AdjustForDST": True}


async def test_runs_of_one_timer_function_never_overlap(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "slow")) >= 3, timeout=20)
    assert module.MOST["slow"] == 1


async def test_a_raising_timer_function_is_logged_and_keeps_its_schedule(
    timer_host: str,
    timer_app: tuple[ModuleType, list[FunctionSpec]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    module, _ = timer_app
    before = len(runs(module, "raises"))
    await until(lambda: len(runs(module, "raises")) >= before + 2)
    assert "Function 'raises' failed: RuntimeError: the timer function failed" in caplog.text
    async with aiohttp.ClientSession() as http, http.get(f"{timer_host}/api/ping") as response:
        assert await response.text() == "pong"  # the host serves on


async def test_run_on_startup_fires_once_at_start(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "on_startup")) == 1)
    (timer,) = runs(module, "on_startup")
    assert timer.past_due is False


async def test_a_schedule_may_name_an_app_setting(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "from_setting")) >= 2)


async def test_an_occurrence_missed_while_the_host_was_down_runs_at_start_past_due(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "yearly")) >= 1)
    timer = runs(module, "yearly")[0]
    assert timer.past_due is True
    assert {
        k: datetime.fromisoformat(v).replace(tzinfo=None) for k, v in timer.schedule_status.items()
    } == {k: datetime.fromisoformat(v) for k, v in MISSED.items()}


async def admin(url: str, name: str, body: Any = None, key: str | None = MASTER_KEY) -> int:
    headers = {"x-functions-key": key} if key else {}
    data = json.dumps(body).encode() if body is not None else b""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/admin/functions/{name}", data=data, headers=headers) as response,
    ):
        return response.status


async def test_the_admin_endpoint_runs_a_timer_function_now(
    timer_host: str, timer_app: tuple[ModuleType, list[FunctionSpec]]
) -> None:
    module, _ = timer_app
    await until(lambda: len(runs(module, "yearly")) >= 1)  # its past-due run came first
    before = len(runs(module, "yearly"))
    assert await admin(timer_host, "YEARLY", {"input": ""}) == 202  # names match in any case
    await until(lambda: len(runs(module, "yearly")) == before + 1)
    timer = runs(module, "yearly")[-1]
    assert timer.past_due is False
    # Monitored: the status it ran with, the one its past-due run left (next: 1 Jan 2027).
    assert datetime.fromisoformat(timer.schedule_status["Next"]).replace(tzinfo=None) == datetime(
        datetime.now().year + 1, 1, 1
    )


async def test_the_admin_endpoint_needs_the_master_key(timer_host: str) -> None:
    assert await admin(timer_host, "yearly", {"input": ""}, key=None) == 401
    assert await admin(timer_host, "yearly", {"input": ""}, key="wrong") == 401


async def test_host_status_is_an_admin_route_and_ping_answers_anyone(timer_host: str) -> None:
    # azure-functions-host, HostController.cs: status [Authorize(AdminAuthLevelOrInternal)],
    # ping none
    async def get(path: str, key: str | None) -> int:
        headers = {"x-functions-key": key} if key else {}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{timer_host}{path}", headers=headers) as response,
        ):
            return response.status

    assert await get("/admin/host/status", None) == 401
    assert await get("/admin/host/status", "wrong") == 401
    assert await get("/admin/host/status", MASTER_KEY) == 200
    assert await get("/admin/host/ping", None) == 200


async def test_the_admin_endpoint_refuses_what_it_cannot_run(timer_host: str) -> None:
    assert await admin(timer_host, "no_such_function", {"input": ""}) == 404
    assert await admin(timer_host, "yearly") == 400  # no FunctionInvocation body
    assert await admin(timer_host, "yearly", ["not", "an", "object"]) == 400
    assert await admin(timer_host, "ping", {"input": ""}) == 400  # an HTTP function


def test_a_schedule_setting_that_is_not_set_fails_the_host_start(
    timer_app: tuple[ModuleType, list[FunctionSpec]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, specs = timer_app
    monkeypatch.delenv(SETTING)
    with pytest.raises(ScheduleError) as raised:
        build_app(specs, ROOT, app_module=module)
    assert str(raised.value) == (
        "The 'from_setting' function is in error: '%TIMER_SAMPLE_SCHEDULE%' does not resolve "
        "to a value."
    )


def test_a_timer_parameter_annotated_other_than_timer_request_does_not_load() -> None:
    def handler(timer: str) -> None: ...

    with pytest.raises(FunctionLoadError) as raised:
        check_annotations("tick", handler, [("timer", "timerTrigger", "")])
    assert 'type of timer binding in function.json "timerTrigger" does not match its' in str(
        raised.value
    )
