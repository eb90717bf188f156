"""Rate limits and token lifetimes over HTTP, through function_app.py's functions."""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt

from devstack.rest_recorder import ACCESS_KEY
from tests.azurite.test_http_routes import body, http_url, request
from tests.azurite.test_trigger_flow import token


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
