"""App settings for the local host: `local.settings.json` `Values`, as Core Tools reads them.

Like `func start`, a value already in the environment wins over the file (and is reported);
`--setting NAME=VALUE` on the command line wins over both.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack.funchost")

SETTINGS_FILE = "local.settings.json"
SAMPLE_FILE = "local.settings.sample.json"


def settings_file(root: Path, explicit: str | None = None) -> Path | None:
    """The explicit file, else local.settings.json, else the sample, else None."""
    if explicit:
        return Path(explicit)
    for name in (SETTINGS_FILE, SAMPLE_FILE):
        if (root / name).is_file():
            return root / name
    return None


def read_values(path: Path) -> dict[str, str]:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    values = data.get("Values", {}) if isinstance(data, dict) else {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: Values must be an object")
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def apply(
    file_values: Mapping[str, str],
    overrides: Mapping[str, str],
    env: MutableMapping[str, str] | None = None,
) -> None:
    env = os.environ if env is None else env
    for name, value in file_values.items():
        if name in env:
            log.info("Skipping '%s' from local settings: already set in the environment", name)
        else:
            env[name] = value
    env.update(overrides)


def parse_overrides(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--setting expects NAME=VALUE, got {item!r}")
        overrides[name] = value
    return overrides
