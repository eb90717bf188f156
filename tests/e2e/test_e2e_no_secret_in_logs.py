"""No access token, signature or key appears in any log of the local stack.

A whole session goes through the stack (guest token, negotiate with a Bearer token, connect,
authenticate, messages, history, an HTTP broadcast, refused tokens and a wrong webhook key),
then every log the stack wrote in this run is searched for each secret it used.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from devstack.stack import EMULATOR_KEY, LocalStack
from devstack.webpubsub.auth import connection_signature
from shared.azure.settings import AZURITE_CONNECTION_STRING
from tests.conftest import STACK_SETTINGS
from tests.e2e.chat_client import guest_token, join, negotiate

pytestmark = pytest.mark.e2e

AZURITE_KEY = AZURITE_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.")
CONNECTION_ID = re.compile(r"conn=([A-Za-z0-9_-]{10,})")


def stack_logs(stack: LocalStack) -> str:
    logs = sorted(Path(stack.log_dir).glob("*.log"))
    assert {p.name for p in logs} >= {"azurite.log", "webpubsub.log", "funchost.log"}
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)


async def test_no_token_signature_or_key_in_any_log_of_the_stack(
    stack: LocalStack, http: aiohttp.ClientSession, room: str
) -> None:
    secrets: dict[str, str] = {
        "emulator access key": EMULATOR_KEY,
        "Azurite account key": AZURITE_KEY,
        "app JWT secret": STACK_SETTINGS["JWT_SECRET"],
    }
    assert stack.webhook_key
    secrets["webhook system key"] = stack.webhook_key

    ada = await join(http, stack.host_url, room, "ada")
    bob = await join(http, stack.host_url, room, "bob")
    secrets["ada's token"], secrets["bob's token"] = ada.token, bob.token
    await ada.call("sendMessage", message="hello bob")
    await bob.broadcast()
    await bob.call("history")
    # negotiate with a Bearer token: the access token the client connects with.
    info = await negotiate(http, stack.host_url, "chat", room, ada.token)
    secrets["client access token"] = info["accessToken"]
    async with http.ws_connect(info["url"]) as ws:
        await ws.receive_json(timeout=10)
    headers = {"Authorization": f"Bearer {ada.token}"}
    async with http.post(
        f"{stack.host_url}/api/broadcast", json={"room": room, "message": "hi"}, headers=headers
    ) as response:
        assert response.status < 500
    # Refused attempts log too: a forged access token, a wrong token frame, a wrong key.
    forged = info["url"].replace(info["accessToken"], info["accessToken"][:-4] + "AAAA")
    secrets["forged access token"] = info["accessToken"][:-4] + "AAAA"
    with pytest.raises(aiohttp.WSServerHandshakeError):
        async with http.ws_connect(forged):
            pass
    bad = await guest_token(http, stack.host_url, "mallory")
    secrets["mallory's token"] = bad
    reply = await ada.call("authenticate", token=bad[:-3] + "xyz")
    assert reply.get("error")
    async with http.options(
        stack.webhook_url.split("?")[0] + "?code=not-the-key",
        headers={"WebHook-Request-Origin": "localhost"},
    ) as response:
        assert response.status == 401
    await ada.close()
    await bob.close()
    await asyncio.sleep(1.0)  # the disconnected events are logged

    text = stack_logs(stack)
    found = {name for name, value in secrets.items() if value and value in text}
    assert found == set(), f"secrets in the stack's logs ({stack.log_dir}): {found}"
    assert JWT_SHAPE.findall(text) == []
    # ce-signature of each connection the host logged an event for.
    connection_ids = set(CONNECTION_ID.findall(text))
    assert len(connection_ids) >= 3
    digests = [connection_signature(EMULATOR_KEY, c).split("=")[1] for c in connection_ids]
    assert [d for d in digests if d in text] == []
    # The host's lines carry a timestamp, the event and the connection id.
    host_lines = [line for line in text.splitlines() if "Functions.webpubsub_message" in line]
    assert host_lines
    assert all(
        re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO message conn=\S+ Executed", line)
        for line in host_lines
    ), host_lines[:3]
