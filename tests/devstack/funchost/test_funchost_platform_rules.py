"""The host is as strict as Azure where Azure is strict (Microsoft's source cited per test).

- A trigger that raises on `connect` or a user event: WebPubSubTriggerDispatcher never gets a
  return value, so the webhook request is left unanswered (the service gives up at its
  upstream timeout); `connected`/`disconnected` answer 200 whatever happens.
- The Python worker encodes a return value with GenericBinding.encode (dict -> json.dumps) and
  refuses to load a generic binding's parameter annotated other than str or bytes.
- HostController.ExtensionWebHookHandler answers 401 without the webpubsub_extension key.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from devstack.funchost.app import build_app
from devstack.funchost.loader import find_function_app, import_app_module, index
from devstack.funchost.worker_rules import FunctionLoadError
from devstack.serve import serve

from .conftest import ROOT, Host
from .funchost_sample_app import RAISE
from .test_funchost_webhook import cloud_event, post

CALLER_TIMEOUT = 1.5  # the "service's" upstream timeout in these tests


async def post_with_timeout(host: Host, event: str, body: bytes, *, user: bool) -> int:
    """The status, or -1 when no answer came within CALLER_TIMEOUT."""
    content_type = "text/plain" if user else "application/json"
    headers = {**cloud_event(event, user=user), "Content-Type": content_type}
    timeout = aiohttp.ClientTimeout(total=CALLER_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.post(host.webhook, data=body, headers=headers) as response:
                return response.status
        except TimeoutError:
            return -1


@pytest.fixture(autouse=True)
def _clear(host: Host) -> None:
    host.app_module.SEEN.clear()
    host.app_module.REPLIES.clear()


@pytest.mark.parametrize(
    ("event", "body", "user"),
    [("connect", b'{"claims": {}, "query": {}}', False), ("message", b"hello", True)],
)
async def test_a_trigger_raising_on_a_blocking_event_leaves_the_webhook_unanswered(
    host: Host, event: str, body: bytes, user: bool
) -> None:
    host.app_module.REPLIES[event] = RAISE
    assert await post_with_timeout(host, event, body, user=user) == -1  # not a 500: no answer
    # The host itself is fine: the next event is answered.
    assert await post_with_timeout(host, event, body, user=user) == 200


@pytest.mark.parametrize(("event", "body"), [("connected", b"{}"), ("disconnected", b"{}")])
async def test_a_trigger_raising_on_connected_or_disconnected_still_answers_200(
    host: Host, event: str, body: bytes
) -> None:
    host.app_module.REPLIES[event] = RAISE
    response = await post(host, cloud_event(event), body)
    assert response.status == 200
    assert [name for name, _ in host.app_module.SEEN] == [event]


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param({"data": datetime.datetime(2025, 1, 1)}, id="dict-json-cannot-encode"),
        pytest.param({1, 2}, id="a-set-the-worker-cannot-send"),
    ],
)
async def test_a_return_value_the_worker_cannot_encode_fails_the_invocation(
    host: Host, reply: object
) -> None:
    host.app_module.REPLIES["message"] = reply
    assert await post_with_timeout(host, "message", b"x", user=True) == -1
    host.app_module.REPLIES["connected"] = reply
    assert (await post(host, cloud_event("connected"), b"{}")).status == 200


async def test_a_returned_dict_reaches_the_extension_as_json(host: Host) -> None:
    # Integer keys and tuples become what json.dumps makes of them, as on Azure.
    host.app_module.REPLIES["message"] = {"data": "ok", "dataType": "text", "states": {1: (2, 3)}}
    response = await post(host, cloud_event("message", user=True), b"x", "text/plain")
    assert response.status == 200
    assert await response.read() == b"ok"


async def test_a_returned_number_is_ignored_like_a_string(host: Host) -> None:
    host.app_module.REPLIES["message"] = 42
    response = await post(host, cloud_event("message", user=True), b"x", "text/plain")
    assert (response.status, await response.read()) == (200, b"")


APP_WITH_ANNOTATION = """
import azure.functions as func

app = func.FunctionApp()

@app.generic_trigger(arg_name="request", type="webPubSubTrigger", hub="h",
                     eventType="user", eventName="message"{data_type})
def on_message(request: {annotation}) -> None:
    return None
"""


@pytest.mark.parametrize(
    ("annotation", "data_type", "message"),
    [
        (
            "dict",
            "",
            "cannot load the on_message function: type of request binding in function.json "
            '"webPubSubTrigger" does not match its Python annotation "dict"',
        ),
        (
            "func.HttpRequest",
            ', data_type="STRING"',
            "cannot load the on_message function: 'request' binding type \"webPubSubTrigger\" "
            'and dataType "1" in function.json do not match the corresponding function '
            'parameter\'s Python type annotation "HttpRequest"',
        ),
        ("str | None", "", "binding request has invalid non-type annotation"),
    ],
)
def test_a_trigger_parameter_annotated_other_than_str_or_bytes_does_not_load(
    tmp_path: Path, annotation: str, data_type: str, message: str
) -> None:
    path = tmp_path / f"app_{abs(hash(annotation))}.py"
    path.write_text(APP_WITH_ANNOTATION.format(annotation=annotation, data_type=data_type))
    with pytest.raises(FunctionLoadError) as raised:
        index(find_function_app(import_app_module(str(path), ROOT)))
    assert message in str(raised.value)


@pytest.mark.parametrize("annotation", ["str", "bytes"])
def test_a_trigger_parameter_annotated_str_or_bytes_loads(tmp_path: Path, annotation: str) -> None:
    path = tmp_path / f"app_ok_{annotation}.py"
    path.write_text(APP_WITH_ANNOTATION.format(annotation=annotation, data_type=""))
    assert [s.name for s in index(find_function_app(import_app_module(str(path), ROOT)))] == [
        "on_message"
    ]


@pytest.fixture
async def keyed_host(host: Host) -> AsyncIterator[str]:
    """The sample app on a host that checks the webhook key `right-key`."""
    served = await serve(build_app(host.specs, ROOT, webhook_key="right-key"))
    yield f"{served.url}/runtime/webhooks/webpubsub"
    await served.stop()


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("", {}, 401),
        ("?code=wrong-key", {}, 401),
        ("", {"x-functions-key": "wrong-key"}, 401),
        ("?code=right-key", {}, 200),
        ("", {"x-functions-key": "right-key"}, 200),
    ],
)
async def test_the_webhook_key_check_refuses_a_missing_or_wrong_key(
    keyed_host: str, query: str, headers: dict[str, str], status: int
) -> None:
    async with aiohttp.ClientSession() as session:
        origin = {"WebHook-Request-Origin": "localhost", **headers}
        async with session.options(keyed_host + query, headers=origin) as response:
            assert response.status == status
        event = {**cloud_event("connected"), **headers}
        async with session.post(keyed_host + query, data=b"{}", headers=event) as response:
            assert response.status == status


async def test_the_handshake_is_refused_when_no_web_pubsub_trigger_is_loaded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "http_only_app.py"
    path.write_text(
        "import azure.functions as func\napp = func.FunctionApp()\n"
        "@app.route(route='x')\ndef x(req: func.HttpRequest) -> str:\n    return 'x'\n"
    )
    specs = index(find_function_app(import_app_module(str(path), ROOT)))
    served = await serve(build_app(specs, ROOT))
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.options(
                f"{served.url}/runtime/webhooks/webpubsub",
                headers={"WebHook-Request-Origin": "localhost"},
            ) as response,
        ):
            assert response.status == 400
            assert "WebHook-Allowed-Origin" not in response.headers
    finally:
        await served.stop()
