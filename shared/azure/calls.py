"""Every call to a backing service (Table Storage, Web PubSub REST) is bounded, one way.

The service waits for our answer to each event only so long (Web PubSub's upstream timeout is
30 s), and one event makes a few backend calls. So each call gets azure-core's connection and
read timeouts and a short retry policy on its client, and on top an overall budget for the call
with its retries; a call over budget or failing becomes ServiceUnavailableError (503): the
client gets an error frame and keeps its connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.exceptions import AzureError

from shared.core.errors import ServiceUnavailableError

T = TypeVar("T")


@dataclass(frozen=True)
class CallPolicy:
    """How long a call to the service may take, and how often it is retried."""

    connection_timeout: float = 2.0  # seconds to open a connection
    read_timeout: float = 3.0  # seconds of silence on a response
    retry_total: int = 2  # retries after the first try (connection resets, 5xx, 429)
    retry_backoff: float = 0.2  # azure-core's retry_backoff_factor
    retry_backoff_max: float = 1.0
    budget: float = 4.0  # the whole call, retries included: well inside the 30 s upstream

    def client_options(self) -> dict[str, Any]:
        """The azure-core keyword arguments a client is built with."""
        return {
            "connection_timeout": self.connection_timeout,
            "read_timeout": self.read_timeout,
            "retry_total": self.retry_total,
            "retry_backoff_factor": self.retry_backoff,
            "retry_backoff_max": self.retry_backoff_max,
        }


DEFAULT_POLICY = CallPolicy()


async def bounded(
    failure: str,
    call: Awaitable[T],
    policy: CallPolicy = DEFAULT_POLICY,
    *,
    expected: tuple[type[BaseException], ...] = (),
) -> T:
    """Await one backend call within the policy's budget. Errors in `expected` are the
    caller's to handle; a timeout or any other Azure error is a 503 saying `failure`."""
    try:
        return await asyncio.wait_for(call, policy.budget)
    except expected:
        raise
    except TimeoutError as exc:
        message = f"{failure}: no answer within {policy.budget:g} s"
        raise ServiceUnavailableError(message) from exc
    except AzureError as exc:
        raise ServiceUnavailableError(failure) from exc
