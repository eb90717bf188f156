"""Fuzzing frames, HTTP bodies and trigger payloads (issue 10): every input gets an answer, no
bad input is a 500, nothing raises, and the connection keeps working.

A CI-sized run is part of the suite; `make fuzz` (FUZZ_EXAMPLES=10000) runs the full one.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import chat
from channels.services import services
from shared.azure.runtime import ChannelRuntime
from shared.core.http import call_function
from shared.core.testing import ChannelCommunicator, ChannelTestEnvironment
from tests.support import payloads

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES < 1000,  # the CI run is the same every time; the full one explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
# A shared machine can be slow: the suite's run gets a generous timeout, the full run none.
SLOW_MACHINE = pytest.mark.timeout(0 if EXAMPLES >= 1000 else 600)
ACTIONS = ["authenticate", "sendMessage", "history", "broadcastToRoom", "processJob", "nope"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=25,
)
hostile_text = st.one_of(
    st.integers(4290, 6000).map(lambda n: "9" * n),  # past the 4,300-digit limit
    st.integers(50, 3000).map(lambda n: "[" * n + "]" * n),  # past the nesting bound
    st.integers(50, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.text(max_size=200),  # arbitrary text, mostly not JSON
)
routed_frames = st.builds(
    lambda action, fields: json.dumps({"action": action, **fields}),
    st.sampled_from(ACTIONS) | json_values,
    st.dictionaries(st.sampled_from(["message", "token", "limit", "room", "x"]), json_values),
)
frames = st.one_of(routed_frames, json_values.map(json.dumps), hostile_text)


async def _connected(env: ChannelTestEnvironment, authenticate: bool) -> ChannelCommunicator:
    client = env.communicator("chat", room="general")
    assert (await client.connect()).accepted
    await client.receive_json()  # the welcome
    if authenticate:
        await client.send_json({"action": "authenticate", "token": env.token(userId="fuzz")})
        assert (await client.receive_json())["authenticated"] is True
    return client


async def _drain(client: ChannelCommunicator) -> list[Any]:
    out = []
    while not client.receive_nothing():
        out.append(await client.receive_json())
    return out


def _fuzz(check: Callable[[Any], Any], strategy: st.SearchStrategy[Any]) -> None:
    FUZZ(given(strategy)(check))()


@SLOW_MACHINE
def test_fuzzed_frames_get_an_answer_never_a_500_and_the_connection_survives() -> None:
    with asyncio.Runner() as runner:
        env = ChannelTestEnvironment(services=services)
        clients = [runner.run(_connected(env, auth)) for auth in (False, True)]

        def check(text: str) -> None:
            for client in clients:
                runner.run(client.send_text(text))
                replies = runner.run(_drain(client))
                assert replies, text  # every frame is answered
                for reply in replies:
                    assert not (isinstance(reply, dict) and reply.get("status", 0) >= 500), reply

        _fuzz(check, frames)
        # after everything, both connections still work
        for client in clients:
            runner.run(client.send_json({"action": "history", "limit": 1}))
            assert runner.run(_drain(client))[-1]["action"] == "history"


@SLOW_MACHINE
def test_fuzzed_http_bodies_are_answered_4xx_or_2xx_with_and_without_a_session() -> None:
    with asyncio.Runner() as runner:
        env = ChannelTestEnvironment(services=services)
        bearer = f"Bearer {env.token(userId='ops', role='admin')}"
        bodies = st.one_of(
            st.binary(max_size=200),
            hostile_text.map(str.encode),
            json_values.map(lambda v: json.dumps(v).encode()),
            st.builds(
                lambda room, message: json.dumps({"room": room, "message": message}).encode(),
                json_values,
                json_values,
            ),
        )

        def check(body: bytes) -> None:
            for authorization in (None, bearer):
                result = runner.run(
                    call_function(
                        env,
                        chat.broadcast_to_room,
                        route="/api/broadcast",
                        body=body,
                        authorization=authorization,
                    )
                )
                assert result.status < 500, (body, result)
                if authorization is None:
                    assert result.status == 401  # refused before the body is read
                json.dumps(result.body)  # the adapter can send it

        _fuzz(check, bodies)


def _valid_payloads() -> list[dict[str, Any]]:
    states = {"channel": {"name": "chat", "openingData": {"room": "r"}, "session": None}}
    return [
        json.loads(payloads.connect("c1", {"channel": "chat", "room": "r"}, user_id="u")),
        json.loads(payloads.connected("c1", states)),
        json.loads(payloads.message("c1", {"action": "history"}, states)),
        json.loads(payloads.disconnected("c1", states)),
    ]


def _mutate(payload: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`payload` with the field at `path` (as far as it exists) replaced by `value`."""
    out: dict[str, Any] = json.loads(json.dumps(payload))
    node = out
    for key in path[:-1]:
        if isinstance(node.get(key), dict):
            node = node[key]
        else:
            break
    node[path[-1]] = value
    return out


KEYS = [
    "connectionContext",
    "eventType",
    "eventName",
    "connectionId",
    "userId",
    "states",
    "channel",
    "session",
    "openingData",
    "query",
    "data",
    "dataType",
    "reason",
    "claims",
]
mutated_payloads = st.builds(
    _mutate,
    st.sampled_from(_valid_payloads()),
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=4),
    json_values,
)
trigger_payloads = st.one_of(
    mutated_payloads.map(json.dumps),
    mutated_payloads.map(lambda p: json.dumps(p).encode()),
    st.binary(max_size=300),
    hostile_text,
    json_values.map(json.dumps),
)


@SLOW_MACHINE
def test_fuzzed_trigger_payloads_are_answered_never_raised() -> None:
    with asyncio.Runner() as runner:
        env = ChannelTestEnvironment(services=services)
        runtime = ChannelRuntime(env.registry, parts=env.parts)

        def check(request: str | bytes) -> None:
            result = runner.run(runtime.handle_trigger(request))
            assert result is None or isinstance(result, dict)
            if result is not None and "code" in result:
                assert result["code"] in ("unauthorized", "userError", "serverError")
                assert isinstance(result["errorMessage"], str)
            json.dumps(result)  # the worker can encode it

        _fuzz(check, trigger_payloads)
