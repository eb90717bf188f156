"""infra/verify.py, the check a user runs after a deploy, run as the user runs it (a separate
process, a base URL) against the local stack, and what it prints when something is broken."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jwt as pyjwt
import pytest
from aiohttp import web

from devstack.serve import Served, serve
from devstack.stack import EMULATOR_KEY, WEBHOOK_PATH, LocalStack
from tests.conftest import STACK_SETTINGS
from tests.e2e.chat_client import guest_token

pytestmark = pytest.mark.e2e

VERIFY = Path(__file__).resolve().parents[2] / "infra" / "verify.py"
STEPS = (
    "negotiate",
    "webhook handshake",
    "join",
    "welcome",
    "sendMessage refused before authenticate",
    "authenticate",
    "sendMessage",
    "history",
    "broadcast",
)
FORGED = pyjwt.encode(  # well formed, signed with a secret the app does not have
    {"userId": "mallory", "exp": int(time.time()) + 3600}, "not-the-app-secret-" * 3, "HS256"
)


async def run_verify(base_url: str, **env: str) -> tuple[int, list[str]]:
    """Exit status and printed lines of `python infra/verify.py <base_url>`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(VERIFY),
        base_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **env},
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines()


def line(lines: list[str], step: str) -> str:
    """The one line about `step`."""
    found = [x for x in lines if x.split(": ", 1)[0].split(" ", 1)[-1] == step]
    assert len(found) == 1, lines
    return found[0]


def assert_no_secret(lines: list[str], *secrets: str) -> None:
    text = "\n".join(lines)
    for secret in (*secrets, EMULATOR_KEY, "access_token", "eyJ"):  # eyJ: any JWT's first bytes
        assert secret not in text


async def test_verify_passes_every_step_against_the_local_stack(stack: LocalStack) -> None:
    status, lines = await run_verify(stack.host_url)
    assert status == 0, lines
    assert [line(lines, step).split(" ", 1)[0] for step in STEPS] == ["PASS"] * len(STEPS)
    assert line(lines, "sendMessage").endswith("verify-b got it, verify-a did not")
    assert lines[-1] == "verify: all steps passed"
    assert_no_secret(lines)


async def test_verify_uses_a_given_token_and_never_prints_it(
    stack: LocalStack, http: aiohttp.ClientSession
) -> None:
    token = await guest_token(http, stack.host_url, "operator")
    status, lines = await run_verify(stack.host_url, VERIFY_TOKEN=token)
    assert status == 0, lines
    assert_no_secret(lines, token)


async def test_verify_names_a_forged_token_at_authenticate(stack: LocalStack) -> None:
    status, lines = await run_verify(stack.host_url, VERIFY_TOKEN=FORGED)
    assert status == 1
    assert line(lines, "authenticate") == (
        "FAIL authenticate: verify-a: token signature is not valid (JWT_SECRET? an expired --token?)"
    )
    assert line(lines, "broadcast") == "SKIP broadcast: needs authenticate"
    assert_no_secret(lines, FORGED)


@pytest.fixture
async def http_group_stack(stack: LocalStack) -> AsyncIterator[LocalStack]:
    """The app as a Flex Consumption instance of its `http` function group serves it: the HTTP
    functions without the webPubSubTrigger ones (tests/e2e/http_group_app.py), behind its own
    emulator, on the run's Azurite."""
    assert stack.storage_connection_string is not None
    settings = {**STACK_SETTINGS, "AzureWebJobsStorage": stack.storage_connection_string}
    instance = LocalStack(app="tests.e2e.http_group_app", azurite=False, settings=settings)
    await asyncio.to_thread(instance.start)
    yield instance
    await asyncio.to_thread(instance.stop)


async def test_verify_shows_every_event_404_when_the_instance_has_no_webpubsub_trigger(
    http_group_stack: LocalStack,
) -> None:
    status, lines = await run_verify(http_group_stack.host_url)
    assert status == 1
    assert line(lines, "negotiate").startswith("PASS negotiate:")
    join = line(lines, "join")
    assert join.startswith("FAIL join: the connect event got 404: every event 404:")
    assert "azure-functions-host#11493" in join
    assert "hostingPlan=ElasticPremium" in join
    assert [line(lines, step) for step in STEPS[3:]] == [f"SKIP {s}: needs join" for s in STEPS[3:]]
    assert lines[-1] == "verify: FAILED"


@pytest.fixture
async def webhook_404_proxy(stack: LocalStack) -> AsyncIterator[Served]:
    """The app's URL as an instance answers it whose webhook 404s (as on a Flex Consumption
    `http` instance): /api/* is passed to the stack's host, /runtime/webhooks/webpubsub is 404."""

    async with aiohttp.ClientSession() as upstream:

        async def forward(request: web.Request) -> web.Response:
            if request.path.startswith(WEBHOOK_PATH):
                return web.Response(status=404)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            async with upstream.request(
                request.method,
                f"{stack.host_url}{request.path_qs}",
                headers=headers,
                data=await request.read(),
            ) as answer:
                body = await answer.read()
                return web.Response(
                    status=answer.status, body=body, content_type=answer.content_type
                )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        served = await serve(app)
        yield served
        await served.stop()


async def test_verify_shows_every_event_404_when_the_webhook_answers_404(
    webhook_404_proxy: Served,
) -> None:
    status, lines = await run_verify(webhook_404_proxy.url)
    assert status == 1
    handshake = line(lines, "webhook handshake")
    assert handshake.startswith("FAIL webhook handshake: every event 404:")
    assert "hostingPlan=ElasticPremium" in handshake
    # The service's own events go to the real host here, so the rest works: one FAIL, no SKIP.
    others = [line(lines, step) for step in STEPS if step != "webhook handshake"]
    assert all(x.startswith("PASS ") for x in others), lines
    assert lines[-1] == "verify: FAILED"
