"""Chat presence, per-user delivery, room access and broadcast rights, in the test harness.

The harness's transport keeps topics as the service keeps groups; end-to-end versions of these
run through the local stack in tests/e2e/test_e2e_presence.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels import chat  # noqa: F401 - wires the chat channel
from channels.services import services
from shared.core.event_hub import EventHub, Member
from shared.core.testing import ChannelCommunicator, ChannelTestEnvironment


@pytest.fixture
def env() -> ChannelTestEnvironment:
    return ChannelTestEnvironment(services=services)


async def joined(
    env: ChannelTestEnvironment, user: str, room: str = "general", **claims: Any
) -> ChannelCommunicator:
    client = env.communicator("chat", room=room)
    assert (await client.connect()).accepted
    assert await client.receive_json() == {"welcome": f"Welcome to {room}!"}
    await client.send_json({"action": "authenticate", "token": env.token(userId=user, **claims)})
    assert await client.receive_json() == {"action": "authenticate", "authenticated": True}
    return client


def count_calls(env: ChannelTestEnvironment) -> list[tuple[str, str]]:
    """Every call the transport gets from now on: (method, topic or channel id)."""
    calls: list[tuple[str, str]] = []
    transport = env.transport
    for name in ("send", "close", "subscribe", "unsubscribe", "publish", "subscribers"):
        method = getattr(transport, name)

        async def logged(first: str, *rest: Any, _name: str = name, _method: Any = method) -> Any:
            calls.append((_name, first))
            return await _method(first, *rest)

        setattr(transport, name, logged)
    return calls


async def frames(client: ChannelCommunicator) -> list[Any]:
    out = []
    while not client.receive_nothing():
        out.append(await client.receive_json())
    return out


async def test_members_see_each_other_join_and_leave(env: ChannelTestEnvironment) -> None:
    ada = await joined(env, "ada", name="Ada")
    bob = await joined(env, "bob")
    assert await frames(ada) == [
        {"type": "presence", "event": "join", "userId": "bob", "room": "general"}
    ]
    assert await frames(bob) == []  # a joiner is not told about itself
    await bob.disconnect()
    assert await frames(ada) == [
        {"type": "presence", "event": "leave", "userId": "bob", "room": "general"}
    ]
    carl = await joined(env, "carl")
    await ada.disconnect()
    assert await frames(carl) == [
        {"type": "presence", "event": "leave", "userId": "ada", "room": "general", "name": "Ada"}
    ]


async def test_a_connection_that_never_joined_leaves_without_a_notice(
    env: ChannelTestEnvironment,
) -> None:
    ada = await joined(env, "ada")
    anonymous = env.communicator("chat", room="general")  # never signs in
    await anonymous.connect()
    await anonymous.disconnect()
    assert await frames(ada) == []


async def test_members_lists_each_user_once_with_their_connections(
    env: ChannelTestEnvironment,
) -> None:
    ada1 = await joined(env, "ada", name="Ada")
    await joined(env, "ada", name="Ada")
    await joined(env, "bob")
    await joined(env, "zed", room="elsewhere")
    await ada1.send_json({"action": "members"})
    await frames(ada1)  # presence frames of the others
    # a Bearer-negotiated connection: the service knows its user without the table
    known = env.communicator("chat", user_id="cy", room="general")
    await known.connect()
    await known.send_json({"action": "authenticate", "token": env.token(userId="cy")})
    await ada1.send_json({"action": "members"})
    replies = [f for f in await frames(ada1) if f.get("action") == "members"]
    assert replies[-1] == {
        "action": "members",
        "members": [
            {"userId": "ada", "connections": 2, "name": "Ada"},
            {"userId": "bob", "connections": 1},
            {"userId": "cy", "connections": 1},
        ],
    }


async def test_members_comes_from_the_service_not_from_this_process() -> None:
    """Another instance (its own EventHub, nothing in memory) sees the same members."""
    env = ChannelTestEnvironment(services=services)
    await joined(env, "ada")
    elsewhere = EventHub(env.transport, env.store)
    assert await elsewhere.members("room:general") == [Member("ada", 1)]


async def test_an_unauthenticated_connection_receives_nothing_from_the_room(
    env: ChannelTestEnvironment,
) -> None:
    lurker = env.communicator("chat", room="general")
    await lurker.connect()
    assert await lurker.receive_json() == {"welcome": "Welcome to general!"}
    ada = await joined(env, "ada")
    await ada.send_json({"action": "sendMessage", "message": "secret plans"})
    assert (await ada.receive_json())["action"] == "sendMessage"
    assert lurker.receive_nothing()


async def test_send_to_user_reaches_every_connection_of_that_user_only(
    env: ChannelTestEnvironment,
) -> None:
    by_action = await joined(env, "ada")  # authenticated with the action
    by_bearer = env.communicator("chat", user_id="ada", room="other")  # negotiate's Bearer
    await by_bearer.connect()
    await by_bearer.receive_json()  # welcome
    bob = await joined(env, "bob")
    await frames(by_action)
    calls = count_calls(env)
    await env.parts.services.event_hub.send_to_user("ada", {"note": "for ada"})
    assert calls == [("publish", "user:ada")]  # one call to the service
    assert await frames(by_action) == [{"note": "for ada"}]
    assert await frames(by_bearer) == [{"note": "for ada"}]
    assert await frames(bob) == []


async def test_the_user_topic_is_not_open_to_app_code(env: ChannelTestEnvironment) -> None:
    hub = env.parts.services.event_hub
    with pytest.raises(Exception, match="reserved"):
        await hub.subscribe("user:ada", "conn-x")


async def test_a_connection_cannot_be_taken_over_by_another_users_token(
    env: ChannelTestEnvironment,
) -> None:
    ada = await joined(env, "ada")
    await ada.send_json({"action": "authenticate", "token": env.token(userId="mallory")})
    error = await ada.receive_json()
    assert (error["status"], error["errorName"]) == (403, "ForbiddenError")
    await ada.send_json({"action": "sendMessage", "message": "still me"})
    assert (await ada.receive_json())["action"] == "sendMessage"


@pytest.mark.parametrize(("role", "status"), [("guest", 403), (None, 403), ("moderator", None)])
async def test_broadcasting_needs_a_role_guests_do_not_have(
    env: ChannelTestEnvironment, role: str | None, status: int | None
) -> None:
    listener = await joined(env, "listener")
    claims = {"role": role} if role else {}
    sender = await joined(env, "sender", room="elsewhere", **claims)
    await sender.send_json({"action": "broadcastToRoom", "room": "general", "message": "hi"})
    reply = await sender.receive_json()
    heard = await frames(listener)
    if status is None:
        assert reply == {"action": "broadcastToRoom"}
        assert [(f["message"], f["userId"]) for f in heard] == [("hi", "sender")]
    else:
        assert (reply["status"], reply["errorName"]) == (status, "ForbiddenError")
        assert "admin or moderator role" in reply["error"]
        assert heard == []


@pytest.mark.parametrize(
    ("name", "status", "text"),
    [
        ("Zoë", 200, None),
        ("Zoe\u0308", 200, None),  # typed with a combining mark: stored as "Zoë"
        ("José María", 200, None),
        ("李雷", 200, None),
        ("O'Brien", 200, None),
        ("<b>", 422, "a name can hold letters, digits, spaces and ' . - _ only, not < >"),
        ("   ", 422, "enter a name"),
        ("x" * 33, 422, "a name is at most 32 characters"),
    ],
)
async def test_guest_names_allow_any_letters_and_a_bad_one_is_explained(
    name: str, status: int, text: str | None
) -> None:
    from channels.auth import guest_token
    from channels.services import GuestPolicy
    from shared.core.http import call_function

    env = ChannelTestEnvironment(services=services, overrides={"guests": GuestPolicy(True)})
    body = json.dumps({"name": name}).encode()
    result = await call_function(
        env, guest_token, route="/api/token", body=body, authorization=None
    )
    assert result.status == status
    if text is None:
        assert result.body["name"] == "Zoë" if name.startswith("Zoe") else name
        assert result.body["userId"].startswith("guest-")
    else:
        assert result.body["error"] == f"invalid input: name: {text}"
