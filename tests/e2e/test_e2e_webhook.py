"""The host's `/runtime/webhooks/webpubsub`: system key, signature check, handshake."""

from __future__ import annotations

import json

import aiohttp
import pytest

from devstack.stack import EMULATOR_KEY, LocalStack
from tests.support.payloads import signature

pytestmark = pytest.mark.e2e

CONNECTION_ID = "forged-connection"
WRONG_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210ZYXWVUTS"


def user_event_headers(signature: str | None) -> dict[str, str]:
    """What the service sends for a `message` user event (the origin is the emulator's host)."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": f"/hubs/channels/client/{CONNECTION_ID}",
        "ce-type": "azure.webpubsub.user.message",
        "ce-eventName": "message",
        "ce-hub": "channels",
        "ce-connectionId": CONNECTION_ID,
        "ce-userId": "mallory",
        "WebHook-Request-Origin": "localhost",
        "Content-Type": "application/json",
    }
    if signature is not None:
        headers["ce-signature"] = signature
    return headers


async def post_event(
    http: aiohttp.ClientSession, stack: LocalStack, signature: str | None, url: str = ""
) -> tuple[int, str]:
    async with http.post(
        url or stack.webhook_url,
        data=json.dumps({"action": "history"}),
        headers=user_event_headers(signature),
    ) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param("sha256=" + "0" * 64, id="made-up-digest"),
        pytest.param(signature(CONNECTION_ID, WRONG_KEY), id="signed-with-another-key"),
        pytest.param(signature("another-connection", EMULATOR_KEY), id="another-connection"),
        pytest.param(None, id="no-signature"),
    ],
)
async def test_a_forged_signature_gets_401_from_the_host(
    stack: LocalStack, http: aiohttp.ClientSession, forged: str | None
) -> None:
    status, body = await post_event(http, stack, forged)
    assert status == 401
    assert body == ""


async def test_the_same_event_signed_with_the_access_key_is_served(
    stack: LocalStack, http: aiohttp.ClientSession
) -> None:
    # The control for the 401s above: only the signature differs.
    status, body = await post_event(
        http, stack, f"sha256=bad,{signature(CONNECTION_ID, EMULATOR_KEY)}"
    )
    assert status == 200
    # The dispatcher ran: it answers with an error frame for a connection it never stored.
    assert json.loads(body)["errorName"] == "NotFoundError"


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
async def test_handshake_allows_the_configured_service_origin(
    stack: LocalStack, http: aiohttp.ClientSession, method: str
) -> None:
    async with http.request(
        method, stack.webhook_url, headers={"WebHook-Request-Origin": "localhost"}
    ) as response:
        assert response.status == 200
        # Extensions from 1.10 answer "*" (WebPubSubTriggerDispatcher; 1.9 echoed the origin).
        assert response.headers["WebHook-Allowed-Origin"] == "*"


async def test_handshake_refuses_another_origin(
    stack: LocalStack, http: aiohttp.ClientSession
) -> None:
    async with http.options(
        stack.webhook_url, headers={"WebHook-Request-Origin": "evil.example.com"}
    ) as response:
        assert response.status == 400
        assert "WebHook-Allowed-Origin" not in response.headers


@pytest.mark.parametrize("code", ["", "?code=wrong-key", "?code="])
async def test_webhook_refuses_a_missing_or_wrong_system_key_with_401(
    stack: LocalStack, http: aiohttp.ClientSession, code: str
) -> None:
    """As HostController.ExtensionWebHookHandler answers Unauthorized() without the
    webpubsub_extension system key (azure-functions-host, WebHost/Controllers)."""
    url = stack.webhook_url.split("?")[0] + code
    async with http.options(url, headers={"WebHook-Request-Origin": "localhost"}) as response:
        assert response.status == 401
        assert "WebHook-Allowed-Origin" not in response.headers
    status, _ = await post_event(http, stack, signature(CONNECTION_ID, EMULATOR_KEY), url=url)
    assert status == 401


async def test_webhook_takes_the_system_key_in_the_x_functions_key_header(
    stack: LocalStack, http: aiohttp.ClientSession
) -> None:
    assert stack.webhook_key
    url = stack.webhook_url.split("?")[0]
    headers = {"WebHook-Request-Origin": "localhost", "x-functions-key": stack.webhook_key}
    async with http.options(url, headers=headers) as response:
        assert response.status == 200
