"""Rate limits (per connection in its states, per user over HTTP) and sessions that end with
their token (issue 10 row 7)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt as pyjwt
import pytest

from channels import chat  # noqa: F401 - wires the chat channel
from channels.services import services
from devstack.rest_recorder import ACCESS_KEY
from shared.core.errors import TooManyRequestsError, WiringError
from shared.core.functions import channel_func
from shared.core.ratelimit import RateLimit, take_all
from shared.core.services import ChannelServices
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel
from tests.unit.test_chat_presence import joined
from tests.unit.test_http_routes import body, http_url, request
from tests.unit.test_trigger_flow import token


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


async def test_the_http_route_is_limited_per_user(triggers: dict[str, Any]) -> None:
    async def broadcast(user: str) -> Any:
        return await triggers["http_broadcast_to_room"](
            req=request(
                "POST",
                "http://localhost/api/broadcast",
                {"room": "general", "message": "hi"},
                {"Authorization": f"Bearer {token(userId=user, role='admin')}"},
            )
        )

    statuses = [(await broadcast("busy-op")).status_code for _ in range(10)]
    assert statuses == [204] * 10  # broadcastToRoom allows 10 per 10 s
    for _ in range(5):  # one more per second passes: a slow machine may get one through
        refused = await broadcast("busy-op")
        if refused.status_code != 204:
            break
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert body(refused)["errorName"] == "TooManyRequestsError"
    assert (await broadcast("other-op")).status_code == 204  # another user is not held back


async def test_an_expired_session_is_refused_with_401_and_the_connection_can_renew() -> None:
    env = ChannelTestEnvironment(services=services)
    # expired 4 s ago: inside the 5 s leeway, so it authenticates, and runs out a second later
    ada = await joined(env, "ada", exp=int(time.time()) - 4)
    await asyncio.sleep(1.2)
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


async def test_negotiate_never_issues_an_access_token_outliving_the_bearer_token(
    triggers: dict[str, Any],
) -> None:
    async def access_life(bearer: str) -> int:
        response = await triggers["negotiate"](
            req=request(
                "GET",
                "http://localhost/api/negotiate?channel=chat&room=general",
                headers={"Authorization": f"Bearer {bearer}"},
            )
        )
        out = body(response)
        claims = pyjwt.decode(
            out["accessToken"], ACCESS_KEY, algorithms=["HS256"], audience=http_url(out["baseUrl"])
        )
        return int(claims["exp"]) - int(time.time())

    assert 540 <= await access_life(token(userId="short", exp=int(time.time()) + 600)) <= 600
    assert 3540 <= await access_life(token(userId="long", exp=int(time.time()) + 86400)) <= 3600
    response = await triggers["negotiate"](
        req=request(
            "GET",
            "http://localhost/api/negotiate?channel=chat&room=general",
            headers={"Authorization": f"Bearer {token(userId='x', exp=int(time.time()) + 30)}"},
        )
    )
    assert response.status_code == 401
    assert "expires within a minute" in body(response)["error"]
