"""infra/hooks/postdeploy.sh, azd's postdeploy hook, run for real against the local stack.

Only `az` is replaced (Azure is not reachable here): a recording stand-in that, like a host
which has just received its code, has no `webpubsub_extension` key at first and then has one.
The hook must wait for the key, deploy event-handler.bicep with main.bicep's outputs, and then
run infra/verify.py, which must pass, without ever printing the key.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "infra" / "hooks" / "postdeploy.sh"
KEY = "host-made-extension-key-0123456789abcdef"
FAKE_AZ = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AZ_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:3] == ["functionapp", "keys", "list"]:
    with open(os.environ["FAKE_AZ_LOG"]) as log:
        asked = sum('"keys"' in line for line in log)
    if asked >= 3:  # the host made its key on its first start
        print({KEY!r})
    sys.exit(0)
sys.exit(0 if args[:3] == ["deployment", "group", "create"] else 2)
"""


async def test_postdeploy_waits_for_the_key_wires_the_event_handler_then_verifies(
    stack: LocalStack, tmp_path: Path
) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "az.log"
    bin_dir.mkdir()
    (bin_dir / "az").write_text(FAKE_AZ)
    (bin_dir / "az").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_LOG": str(log),
        "KEY_POLL_SECONDS": "0",
        "VERIFY_VENV": str(Path(sys.executable).parents[1]),  # this run's environment
        "AZURE_RESOURCE_GROUP": "rg-chat",
        "functionAppName": "func-chat-x",
        "webPubSubName": "wps-chat-x",
        "hubName": "channels",
        "appUrl": stack.host_url,
    }
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(HOOK),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 180)
    output = out.decode()
    assert process.returncode == 0, output
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c[:3] for c in calls] == [
        ["functionapp", "keys", "list"],  # no key yet: wait
        ["functionapp", "keys", "list"],
        ["functionapp", "keys", "list"],  # the key is there
        ["deployment", "group", "create"],
        ["functionapp", "keys", "list"],  # for the verifier's webhook handshake
    ]
    deploy = calls[3]
    assert deploy[deploy.index("--template-file") + 1] == str(
        ROOT / "infra" / "event-handler.bicep"
    )
    parameters = deploy[deploy.index("--parameters") + 1 : deploy.index("--output")]
    assert parameters == [
        "functionAppName=func-chat-x",
        "webPubSubName=wps-chat-x",
        "hubName=channels",
    ]
    assert "verify: all steps passed" in output
    assert KEY not in output
