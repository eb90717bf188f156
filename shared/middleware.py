"""Running a middleware chain around a handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.services import Interaction, Middleware, Services


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
