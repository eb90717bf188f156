"""The AsyncAPI document validates with the npm `@asyncapi/parser`, and the app serves it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devstack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "clients" / "asyncapi.json"
VALIDATE = Path(__file__).with_name("validate_asyncapi.mjs")


def validate(path: Path) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        ["node", str(VALIDATE), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, json.loads(result.stdout)


def test_the_committed_document_validates_with_the_asyncapi_parser() -> None:
    code, report = validate(DOCUMENT)
    errors = [d for d in report["diagnostics"] if d["severity"] == 0]
    assert (code, report["parsed"], errors) == (0, True, [])


def test_the_parser_reports_a_broken_document(tmp_path: Path) -> None:
    """The validation bites: an operation on a channel that does not exist is an error."""
    document = json.loads(DOCUMENT.read_text())
    document["operations"]["chat-sendMessage"]["channel"] = {"$ref": "#/channels/nowhere"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    code, report = validate(broken)
    assert code == 1
    assert any(d["severity"] == 0 for d in report["diagnostics"]), report


@pytest.mark.e2e
async def test_the_app_serves_the_committed_document(stack: LocalStack) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.host_url}/api/asyncapi.json") as response,
    ):
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.text() == DOCUMENT.read_text()
