"""Azurite is started so that it sends nothing off the machine."""

from __future__ import annotations

from devstack.azurite import Azurite


def test_azurite_runs_with_its_telemetry_off_and_on_loopback() -> None:
    # Azurite reports usage to Application Insights unless told not to; tests reach loopback only.
    command = Azurite(port=10099).command()
    assert "--disableTelemetry" in command
    assert command[command.index("--tableHost") + 1] == "127.0.0.1"
