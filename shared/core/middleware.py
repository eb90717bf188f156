"""Calling a function behind its middleware: the one invocation step of every transport."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.core.errors import UnauthorizedError
from shared.core.functions import ChannelFunction
from shared.core.services import Interaction, Middleware, Services


async def run_middleware(
    chain: Sequence[Middleware],
    services: Services,
    interaction: Interaction,
    handler: Callable[[], Awaitable[Any]],
) -> Any:
    """Call `chain[0]`, whose `next_()` calls `chain[1]`, ..., whose last `next_()` is `handler`."""
    if not chain:
        return await handler()

    async def step(i: int) -> Any:
        if i == len(chain):
            return await handler()
        return await chain[i](services, interaction, lambda: step(i + 1))

    return await step(0)


async def invoke(
    fn: ChannelFunction,
    services: Services,
    data: Any,
    *,
    middleware: Sequence[Middleware],
    interaction: Interaction,
    unauthorized: str | None,
) -> Any:
    """Run `fn` behind `middleware`: the auth check, input validation, then the function.

    `unauthorized` is the message when a session is required and missing; None when the call
    needs none. The check runs inside the middleware, so a middleware may set the session.
    """

    async def handler() -> Any:
        session = services.user_session.get()
        if unauthorized is not None and session is None:
            raise UnauthorizedError(unauthorized)
        return await fn.invoke(services, fn.validate_input(data), session)

    return await run_middleware(middleware, services, interaction, handler)
