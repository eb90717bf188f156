"""Permissions: checks of the session and input; a failure is a 403 that names no rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.core.functions import Docs, channel_connection_func, channel_func, func
from shared.core.http import call_function
from shared.core.runtime import Parts
from shared.core.services import ChannelServices, Services
from shared.core.session import Session
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import ChannelRegistry, wire_channel


class Edit(BaseModel):
    owner: str
    text: str


class Login(BaseModel):
    user: str
    role: str | None = None


def is_owner(services: Services, data: Edit, session: Session | None) -> bool:
    return session is not None and session.user_id == data.owner


async def not_banned(services: Services, data: Any, session: Session | None) -> bool:
    return session is None or session.user_id != "mallory"


def is_admin(services: Services, data: Any, session: Session | None) -> bool:
    return session is not None and session.role == "admin"


@channel_func(auth=False)
async def login(services: ChannelServices[Any], data: Login) -> None:
    await services.user_session.set(Session(user_id=data.user, role=data.role))


@channel_func(permissions=[is_owner, not_banned])
async def edit(services: ChannelServices[Any], data: Edit) -> str:
    return data.text


@channel_func(docs=Docs(tags=["admin"]))
async def purge(services: ChannelServices[Any], data: dict[str, Any]) -> str:
    return "purged"


def env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    registry.rules.add_permission(is_admin, tag="admin")
    wire_channel(
        name="p",
        route="/p",
        on_message_wiring={"action": {"login": login, "edit": edit, "purge": purge}},
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def test_a_failed_permission_is_a_403_frame_naming_no_rule_and_the_connection_stays_open() -> (
    None
):
    client = env().communicator("p")
    await client.connect()
    await client.send_json({"action": "login", "user": "bob"})
    await client.receive_json()
    await client.send_json({"action": "edit", "owner": "alice", "text": "mine now"})
    assert await client.receive_json() == {
        "action": "edit",
        "error": "'edit' is not permitted",
        "errorName": "ForbiddenError",
        "status": 403,
    }
    await client.send_json({"action": "edit", "owner": "bob", "text": "my own"})
    assert await client.receive_json() == {"action": "edit", "result": "my own"}


async def test_every_check_must_pass_sync_or_async() -> None:
    client = env().communicator("p")
    await client.connect()
    await client.send_json({"action": "login", "user": "mallory"})
    await client.receive_json()
    await client.send_json({"action": "edit", "owner": "mallory", "text": "x"})
    assert (await client.receive_json())["status"] == 403


async def test_auth_and_validation_come_before_permissions() -> None:
    client = env().communicator("p")
    await client.connect()
    await client.send_json({"action": "edit", "owner": "bob", "text": "x"})
    assert (await client.receive_json())["status"] == 401
    await client.send_json({"action": "login", "user": "bob"})
    await client.receive_json()
    await client.send_json({"action": "edit", "owner": "bob"})
    assert (await client.receive_json())["status"] == 422


async def test_an_app_wide_rule_applies_by_tag() -> None:
    client = env().communicator("p")
    await client.connect()
    await client.send_json({"action": "login", "user": "bob"})
    await client.receive_json()
    await client.send_json({"action": "purge"})
    assert (await client.receive_json())["status"] == 403
    await client.send_json({"action": "login", "user": "ann", "role": "admin"})
    await client.receive_json()
    await client.send_json({"action": "purge"})
    assert await client.receive_json() == {"action": "purge", "result": "purged"}


async def test_on_connect_permissions_refuse_the_connection() -> None:
    @channel_connection_func(permissions=[lambda services, data, session: session is not None])
    async def members_only(services: ChannelServices[Any]) -> None:
        return None

    registry = ChannelRegistry()
    wire_channel(name="m", route="/m", on_connect=members_only, registry=registry)
    test_env = ChannelTestEnvironment(registry)
    refused = await test_env.communicator("m").connect()
    assert (refused.accepted, refused.status, refused.app_status, refused.message) == (
        False,
        400,
        403,
        "'connect' is not permitted",
    )
    assert (await test_env.communicator("m", user_id="u1").connect()).accepted


@dataclass
class HarnessRuntime:
    registry: ChannelRegistry
    parts: Parts


async def test_a_failed_permission_over_http_is_a_403() -> None:
    @func(auth=True, permissions=[is_admin])
    async def shutdown(services: Services, data: dict[str, Any]) -> str:
        return "down"

    test_env = env()
    runtime = HarnessRuntime(test_env.registry, test_env.parts)

    async def call(role: str) -> Any:
        token = test_env.token(userId="u", role=role)
        return await call_function(
            runtime, shutdown, route="/api/shutdown", body=b"{}", authorization=f"Bearer {token}"
        )

    refused = await call("user")
    assert (refused.status, refused.body["error"]) == (403, "'/api/shutdown' is not permitted")
    allowed = await call("admin")
    assert (allowed.status, json.dumps(allowed.body)) == (200, '"down"')
