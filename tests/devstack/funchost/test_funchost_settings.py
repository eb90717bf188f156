"""App settings (local.settings.json as Core Tools reads it) and the invocation log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from devstack.funchost import settings

from .conftest import Host


def test_settings_file_prefers_local_settings_then_the_sample(tmp_path: Path) -> None:
    assert settings.settings_file(tmp_path) is None
    (tmp_path / "local.settings.sample.json").write_text('{"Values": {}}')
    assert settings.settings_file(tmp_path) == tmp_path / "local.settings.sample.json"
    (tmp_path / "local.settings.json").write_text('{"Values": {}}')
    assert settings.settings_file(tmp_path) == tmp_path / "local.settings.json"
    assert settings.settings_file(tmp_path, "other.json") == Path("other.json")


def test_environment_wins_over_the_file_and_overrides_win_over_both(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"A": "file", "B": "file", "C": "file", "N": None}}))
    env = {"B": "env", "C": "env"}
    settings.apply(settings.read_values(path), settings.parse_overrides(["C=cli=x"]), env)
    assert env == {"A": "file", "B": "env", "C": "cli=x", "N": ""}


def test_malformed_override_is_refused() -> None:
    with pytest.raises(ValueError, match="NAME=VALUE"):
        settings.parse_overrides(["no-equals-sign"])


async def test_each_invocation_is_logged_with_name_status_and_time(
    host: Host, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="devstack.funchost"):
        async with host.session.get(f"{host.url}/api/hello/ada") as response:
            assert response.status == 200
        async with host.session.get(f"{host.url}/api/boom") as response:
            assert response.status == 500
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Executed")]
    assert lines[0].startswith("Executed 'Functions.hello' (Succeeded, 200, ")
    assert lines[0].endswith(" ms)")
    assert lines[1].startswith("Executed 'Functions.boom' (Failed, 500, ")
