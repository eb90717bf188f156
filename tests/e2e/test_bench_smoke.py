"""The stack benchmarks run end to end with small numbers and return their figures.

Each `main()` starts and stops its own stack. It runs in a worker thread: `asyncio.run`
there leaves this session's event loop alone.
"""

from __future__ import annotations

import asyncio

import pytest

from bench import stack_echo, stack_fanout

pytestmark = pytest.mark.e2e


async def test_echo_benchmark_reports_every_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    figures = await asyncio.to_thread(stack_echo.main, ["--clients", "3", "--messages", "5"])
    assert figures.clients == 3
    assert figures.round_trips == 15
    assert len(figures.latencies_ms) == 15
    assert all(ms > 0 for ms in figures.latencies_ms)
    assert 0 < figures.p50_ms <= figures.p99_ms
    assert figures.per_second > 0
    printed = capsys.readouterr().out
    assert "msgs/s" in printed
    assert "p99" in printed


async def test_fanout_benchmark_reports_delivery_to_every_subscriber(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = await asyncio.to_thread(stack_fanout.main, ["--subscribers", "10"])
    assert figures.subscribers == 10
    assert figures.delivered == 10
    assert 0 < figures.p50_ms <= figures.last_ms
    printed = capsys.readouterr().out
    assert "delivered   :         10  of 10" in printed
    assert "last one" in printed


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert stack_echo.percentile(values, 50) == 50.0
    assert stack_echo.percentile(values, 99) == 99.0
    assert stack_echo.percentile([7.0], 99) == 7.0
    assert stack_echo.percentile([], 50) == 0.0


async def test_the_python_socketio_peer_does_the_same_two_workloads() -> None:
    from bench import socketio_peer

    echoed, fanned = await asyncio.to_thread(
        socketio_peer.main, ["--clients", "3", "--messages", "4", "--subscribers", "5"]
    )
    assert echoed.round_trips == 12 and echoed.per_second > 0
    assert fanned.delivered == 5 and fanned.last_ms > 0


async def test_the_cold_start_benchmark_times_the_app_against_its_packages() -> None:
    from bench import cold_start

    figures = await asyncio.to_thread(cold_start.main, ["--runs", "1"])
    assert figures.runs == 1
    assert figures.app_s > 0 and figures.packages_s > 0
    assert figures.ratio == figures.app_s / figures.packages_s
