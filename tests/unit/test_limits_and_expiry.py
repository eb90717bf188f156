"""Rate limits per connection (kept in its states) and sessions that end with their token
(issue 10 row 7), in the harness. Over HTTP: tests/azurite/test_limits_over_http.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from channels import chat  # noqa: F401 - wires the chat channel
from channels.services import services
from shared.core.errors import TooManyRequestsError, WiringError
from shared.core.functions import channel_func
from shared.core.ratelimit import RateLimit, take_all
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel
from tests.unit.test_chat_presence import joined


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [("20/10s", 20, 10.0), ("5/s", 5, 1.0), ("100/1m", 100, 60.0), ("3/500ms", 3, 0.5)],
)
def test_a_rate_limit_is_written_count_slash_period(text: str, count: int, period: float) -> None:
    assert RateLimit.parse(text) == RateLimit(count, period)


@pytest.mark.parametrize("text", ["20", "0/10s", "20/10", "20/-1s", "many/s"])
def test_a_malformed_rate_limit_fails_at_wiring_saying_the_format(text: str) -> None:
    @channel_func
    async def noop(services: ChannelServices[Any], data: dict[str, Any]) -> None:
        return None

    with pytest.raises(WiringError, match=r"'<count>/<period>'.*'20/10s'"):
        wire_channel(
            name="x", route="/x", on_message=noop, rate_limit=text, registry=ChannelRegistry()
        )


def test_a_burst_passes_then_one_call_per_interval() -> None:
    limit = RateLimit.parse("20/10s")
    assert limit is not None
    state: dict[str, int] | None = {}
    for _ in range(20):
        state = take_all([("*", limit)], state, now=1_000_000)
    with pytest.raises(TooManyRequestsError) as refused:
        take_all([("*", limit)], state, now=1_000_000)
    assert refused.value.retry_after == 0.5
    assert refused.value.to_body()["retryAfter"] == 0.5
    assert take_all([("*", limit)], state, now=1_000_500) is not None  # half a second later


def test_a_refused_call_counts_against_no_limit() -> None:
    tight, loose = RateLimit(1, 10.0), RateLimit(100, 10.0)
    state = take_all([("*", loose), ("send", tight)], {}, now=0)
    assert state is not None
    before = dict(state)
    with pytest.raises(TooManyRequestsError):
        take_all([("*", loose), ("send", tight)], state, now=0)
    assert state == before


async def test_a_flood_of_frames_gets_429_frames_and_the_connection_keeps_working() -> None:
    env = ChannelTestEnvironment(services=services)
    ada = await joined(env, "ada")
    for i in range(100):
        await ada.send_json({"action": "sendMessage", "message": f"m{i}"})
    replies = [await ada.receive_json() for _ in range(100)]
    refused = [r for r in replies if r.get("status") == 429]
    sent = [r for r in replies if r.get("action") == "sendMessage" and "error" not in r]
    assert len(sent) == 20 and len(refused) == 80  # sendMessage allows 20 per 10 s
    assert refused[0]["errorName"] == "TooManyRequestsError"
    assert refused[0]["action"] == "sendMessage"
    assert 0 < refused[0]["retryAfter"] <= 0.5
    assert "20 per 10 s" in refused[0]["error"]
    # other actions have room left, and after the wait sendMessage passes again
    await ada.send_json({"action": "history", "limit": 1})
    assert (await ada.receive_json())["action"] == "history"
    await asyncio.sleep(refused[-1]["retryAfter"])
    await ada.send_json({"action": "sendMessage", "message": "later"})
    assert (await ada.receive_json())["message"] == "later"


async def test_an_expired_session_is_refused_with_401_and_the_connection_can_renew() -> None:
    env = ChannelTestEnvironment(services=services)
    # expired 2 s ago: inside the 5 s leeway, so it authenticates, and runs out 3 s later
    ada = await joined(env, "ada", exp=int(time.time()) - 2)
    await asyncio.sleep(3.2)
    await ada.send_json({"action": "sendMessage", "message": "after expiry"})
    error = await ada.receive_json()
    assert (error["status"], error["errorName"]) == (401, "UnauthorizedError")
    assert error["error"] == "your session has expired: authenticate again"
    await ada.send_json({"action": "authenticate", "token": env.token(userId="ada")})
    assert await ada.receive_json() == {"action": "authenticate", "authenticated": True}
    await ada.send_json({"action": "sendMessage", "message": "renewed"})
    assert (await ada.receive_json())["message"] == "renewed"


async def test_a_session_from_the_access_token_ends_with_it() -> None:
    env = ChannelTestEnvironment(services=services)
    client = env.communicator("chat", user_id="ada", expires_at=int(time.time()) - 10, room="r")
    await client.connect()
    await client.receive_json()  # welcome
    await client.send_json({"action": "history"})
    assert (await client.receive_json())["status"] == 401
