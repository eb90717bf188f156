"""The shared.local echo benchmark runs with small numbers and reports its figures."""

from __future__ import annotations

import asyncio

import pytest

from bench import local_echo


async def test_local_echo_benchmark_reports_every_round_trip(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In a worker thread: its asyncio.run leaves this session's loop alone.
    compared = await asyncio.to_thread(
        local_echo.main, ["--clients", "3", "--messages", "5", "--no-peer"]
    )
    assert compared.stack is None
    assert compared.local.round_trips == 15
    assert 0 < compared.local.p50_ms <= compared.local.p99_ms
    assert "shared.local :" in capsys.readouterr().out
