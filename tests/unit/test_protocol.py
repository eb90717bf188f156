"""The wire protocol, auth and middleware rules, driven through the real dispatcher."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from shared.core.errors import ForbiddenError
from shared.core.functions import channel_func, func
from shared.core.services import ChannelServices, Interaction, Next, Services
from shared.core.session import Session
from shared.core.testing import ChannelTestEnvironment
from shared.core.wiring import Action, ChannelRegistry, wire_channel


class Nothing(BaseModel):
    pass


class Login(BaseModel):
    user: str


@channel_func(auth=False)
async def login(services: ChannelServices[Any], data: Login) -> None:
    await services.user_session.set(Session(user_id=data.user))


@channel_func
async def returns_none(services: ChannelServices[Any], data: Nothing) -> None:
    return None


@channel_func
async def returns_number(services: ChannelServices[Any], data: Nothing) -> int:
    return 42


@channel_func
async def returns_object(services: ChannelServices[Any], data: Nothing) -> dict[str, Any]:
    return {"answer": 42, "action": "ignored"}


@channel_func
async def whoami(
    services: ChannelServices[Any], data: Nothing, session: Session | None
) -> dict[str, Any]:
    return {"user": session.user_id if session else None}


@channel_func(auth=True)
async def strict(services: ChannelServices[Any], data: Nothing) -> str:
    return "ok"


@channel_func
async def crash(services: ChannelServices[Any], data: Nothing) -> None:
    raise RuntimeError("secret internals")


@channel_func
async def forbidden(services: ChannelServices[Any], data: Nothing) -> None:
    raise ForbiddenError("not in this room")


@channel_func
async def echo_any(services: ChannelServices[Any], data: Any) -> Any:
    return data


@channel_func
async def progress(services: ChannelServices[Any], data: Nothing) -> dict[str, Any]:
    await services.channel.send({"step": 1})
    await services.channel.send({"step": 2})
    return {"done": "yes"}


@channel_func
async def leave(services: ChannelServices[Any], data: Nothing) -> None:
    await services.channel.close("bye")


@pytest.fixture
def env() -> ChannelTestEnvironment:
    registry = ChannelRegistry()
    wire_channel(
        name="open",
        route="/open",
        auth=False,
        on_message=echo_any,
        on_message_wiring={
            "action": {
                "login": login,
                "none": returns_none,
                "number": returns_number,
                "object": returns_object,
                "whoami": whoami,
                "strict": strict,
                "crash": crash,
                "forbidden": forbidden,
                "progress": progress,
                "leave": leave,
            }
        },
        registry=registry,
    )
    wire_channel(
        name="locked",
        route="/locked",
        on_message_wiring={
            "action": {
                "login": {"func": login},  # the function's auth=False wins over the channel's
                "inherits": returns_number,  # no auth of its own: the channel's (True)
                "entryOpens": {
                    "func": strict,
                    "auth": False,
                },  # the entry's wins over the function's
            }
        },
        registry=registry,
    )
    return ChannelTestEnvironment(registry)


async def ask(env: ChannelTestEnvironment, channel: str, frame: Any) -> Any:
    client = env.communicator(channel)
    assert (await client.connect()).accepted
    await client.send_json(frame)
    return await client.receive_json()


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"action": "none"}, {"action": "none"}),
        ({"action": "number"}, {"action": "number", "result": 42}),
        ({"action": "object"}, {"action": "object", "answer": 42}),
        ({"free": "form"}, {"free": "form"}),  # unrouted: on_message's result as is
        ([1, 2], [1, 2]),
    ],
)
async def test_reply_frames(env: ChannelTestEnvironment, frame: Any, expected: Any) -> None:
    assert await ask(env, "open", frame) == expected


async def test_unrouted_none_sends_nothing(env: ChannelTestEnvironment) -> None:
    @channel_func
    async def quiet(services: ChannelServices[Any], data: Any) -> None:
        return None

    registry = ChannelRegistry()
    wire_channel(name="q", route="/q", auth=False, on_message=quiet, registry=registry)
    client = ChannelTestEnvironment(registry).communicator("q")
    await client.connect()
    await client.send_json({"hello": 1})
    assert client.receive_nothing()


@pytest.mark.parametrize(
    ("action", "status"),
    [("login", None), ("inherits", 401), ("entryOpens", None)],
)
async def test_auth_is_entry_then_function_then_channel(
    env: ChannelTestEnvironment, action: str, status: int | None
) -> None:
    frame = {"action": action, "user": "u"} if action == "login" else {"action": action}
    reply = await ask(env, "locked", frame)
    assert reply.get("status") == status


async def test_an_auth_true_function_on_an_open_channel_needs_a_session(
    env: ChannelTestEnvironment,
) -> None:
    client = env.communicator("open")
    await client.connect()
    await client.send_json({"action": "strict"})
    assert (await client.receive_json())["status"] == 401
    await client.send_json({"action": "login", "user": "ann"})
    assert await client.receive_json() == {"action": "login"}
    await client.send_json({"action": "strict"})
    assert await client.receive_json() == {"action": "strict", "result": "ok"}
    await client.send_json({"action": "whoami"})
    assert await client.receive_json() == {"action": "whoami", "user": "ann"}


async def test_an_unexpected_exception_is_a_500_that_leaks_nothing(
    env: ChannelTestEnvironment,
) -> None:
    reply = await ask(env, "open", {"action": "crash"})
    assert reply == {
        "action": "crash",
        "error": "internal error",
        "errorName": "InternalServerError",
        "status": 500,
    }


async def test_a_channel_error_keeps_its_class_and_status(env: ChannelTestEnvironment) -> None:
    reply = await ask(env, "open", {"action": "forbidden"})
    assert reply == {
        "action": "forbidden",
        "error": "not in this room",
        "errorName": "ForbiddenError",
        "status": 403,
    }


async def test_channel_send_frames_arrive_before_the_result(env: ChannelTestEnvironment) -> None:
    client = env.communicator("open")
    await client.connect()
    await client.send_json({"action": "progress"})
    assert [await client.receive_json() for _ in range(3)] == [
        {"step": 1},
        {"step": 2},
        {"action": "progress", "done": "yes"},
    ]


async def test_channel_close_closes_the_connection(env: ChannelTestEnvironment) -> None:
    client = env.communicator("open")
    await client.connect()
    await client.send_json({"action": "leave"})
    assert await client.receive_json() == {"action": "leave"}
    assert env.transport.closed == {client.channel_id: "bye"}
    # as on Web PubSub: the socket is gone and its `disconnected` event has run
    assert await client.wait_closed() == "bye"
    assert client.channel_id not in env.store.records
    with pytest.raises(RuntimeError, match="not open"):
        await client.send_json({"action": "leave"})


async def test_middleware_runs_channel_then_entry_then_function() -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        async def middleware(services: Services, interaction: Interaction, next_: Next) -> Any:
            order.append(f"{name}:{interaction.action}")
            result = await next_()
            order.append(f"/{name}")
            return result

        return middleware

    @channel_func(middleware=[named("function")])
    async def work(services: ChannelServices[Any], data: Nothing) -> str:
        order.append("handler")
        return "done"

    registry = ChannelRegistry()
    wire_channel(
        name="mw",
        route="/mw",
        auth=False,
        middleware=[named("channel")],
        on_message_wiring={"action": {"work": Action(work, middleware=[named("entry")])}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("mw")
    await client.connect()
    await client.send_json({"action": "work"})
    assert await client.receive_json() == {"action": "work", "result": "done"}
    assert order == [
        "channel:work",
        "entry:work",
        "function:work",
        "handler",
        "/function",
        "/entry",
        "/channel",
    ]


async def test_middleware_can_establish_the_session_before_the_auth_check() -> None:
    async def api_key(services: Services, interaction: Interaction, next_: Next) -> Any:
        if isinstance(interaction.data, dict) and interaction.data.get("key") == "k1":
            await services.user_session.set(Session(user_id="service"))
        return await next_()

    @func
    async def secret(services: Services, data: dict[str, str], session: Session) -> str:
        return session.user_id

    registry = ChannelRegistry()
    wire_channel(
        name="k",
        route="/k",
        middleware=[api_key],
        on_message_wiring={"action": {"s": secret}},
        registry=registry,
    )
    env = ChannelTestEnvironment(registry)
    assert (await ask(env, "k", {"action": "s"}))["status"] == 401
    assert await ask(env, "k", {"action": "s", "key": "k1"}) == {"action": "s", "result": "service"}


async def test_a_runtime_keeps_the_parts_it_was_given() -> None:
    from shared.azure.runtime import ChannelRuntime
    from tests.support import payloads

    registry = ChannelRegistry()
    wire_channel(name="given", route="/given", auth=False, on_message=echo_any, registry=registry)
    env = ChannelTestEnvironment(registry)
    runtime = ChannelRuntime(registry, parts=env.parts)
    accepted = await runtime.handle_trigger(payloads.connect("given-1", {"channel": "given"}))
    assert accepted is not None and "code" not in accepted
    assert "given-1" in env.store.records


async def test_log_records_carry_the_channel_id_and_the_action(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @channel_func
    async def noisy(services: ChannelServices[Any], data: Nothing) -> None:
        services.logger.info("working")

    registry = ChannelRegistry()
    wire_channel(
        name="logs",
        route="/logs",
        auth=False,
        on_message_wiring={"action": {"noisy": noisy}},
        registry=registry,
    )
    client = ChannelTestEnvironment(registry).communicator("logs")
    await client.connect()
    with caplog.at_level("INFO", logger="channels"):
        await client.send_json({"action": "noisy"})
    record = next(r for r in caplog.records if r.getMessage() == "working")
    carried = {k: getattr(record, k, None) for k in ("channel", "channel_id", "action")}
    assert carried == {"channel": "logs", "channel_id": client.channel_id, "action": "noisy"}
