"""Calling a function behind its middleware: the one invocation step of every transport."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.core.errors import ForbiddenError, UnauthorizedError
from shared.core.functions import ChannelFunction
from shared.core.services import Interaction, Middleware, Permission, Services
from shared.core.session import Session


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
    channel: str | None,
    action: str | None,
    unauthorized: str | None,
    permissions: Sequence[Permission] = (),
) -> Any:
    """Run `fn` behind `middleware`: the auth check, input validation, permissions, the call.

    `unauthorized` is the message when a session is required and missing; None when the call
    needs none. A session whose token has expired is refused as well (it ends with its
    token). The checks run inside the middleware, so a middleware may set the session.
    `permissions` (app-wide ones by tag, then the function's) each get the validated input.
    Without middleware the checks run inline: no closure, no `Interaction`, no extra frame.
    """
    if not middleware:
        return await _checked(fn, services, data, action, unauthorized, permissions)
    interaction = Interaction(channel, action, data, services.user_session.get())
    return await run_middleware(
        middleware,
        services,
        interaction,
        lambda: _checked(fn, services, data, action, unauthorized, permissions),
    )


def _checked(
    fn: ChannelFunction,
    services: Services,
    data: Any,
    action: str | None,
    unauthorized: str | None,
    permissions: Sequence[Permission],
) -> Awaitable[Any]:
    """The checks, then the call's awaitable (the checks raise before anything is awaited)."""
    session = services.user_session.get()
    if unauthorized is not None and session is None:
        raise UnauthorizedError(unauthorized)
    if unauthorized is not None and session is not None and session.expired():
        raise UnauthorizedError("your session has expired: authenticate again")
    valid = fn.validate_input(data)
    if permissions or fn.permissions:
        return _permitted_call(
            fn, services, valid, session, action, (*permissions, *fn.permissions)
        )
    return fn.invoke(services, valid, session)


async def _permitted_call(
    fn: ChannelFunction,
    services: Services,
    valid: Any,
    session: Session | None,
    action: str | None,
    checks: Sequence[Permission],
) -> Any:
    for check in checks:
        if not await permitted(check, services, valid, session):
            # The client learns that it may not, never which rule said so or why.
            raise ForbiddenError(f"'{action}' is not permitted")
    return await fn.invoke(services, valid, session)


async def permitted(
    check: Permission, services: Services, data: Any, session: Session | None
) -> bool:
    verdict = check(services, data, session)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return verdict is True
