"""One async Table Storage client per process, and its tables, each created once.

Every call goes through `run`: bounded by the call policy (shared/azure/calls.py), and when
the table is gone (deleted while the host runs, or Azurite restarted on an empty folder) the
table is created again and the call retried once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables.aio import TableClient, TableServiceClient

from shared.azure.calls import DEFAULT_POLICY, CallPolicy, bounded
from shared.core.errors import ServiceUnavailableError

T = TypeVar("T")
TableCall = Callable[[TableClient], Awaitable[T]]


class TableStorage:
    def __init__(self, service: TableServiceClient, policy: CallPolicy = DEFAULT_POLICY) -> None:
        self.service = service
        self.policy = policy
        self._tables: dict[str, TableClient] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def from_connection_string(
        cls, connection_string: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> TableStorage:
        service = TableServiceClient.from_connection_string(
            connection_string, **policy.client_options()
        )
        return cls(service, policy)

    @classmethod
    def from_account_name(
        cls, account_name: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> TableStorage:
        """Identity-based access (managed identity in Azure): no shared key in settings."""
        from azure.identity.aio import DefaultAzureCredential

        endpoint = f"https://{account_name}.table.core.windows.net"
        service = TableServiceClient(
            endpoint, credential=DefaultAzureCredential(), **policy.client_options()
        )
        return cls(service, policy)

    async def table(self, name: str) -> TableClient:
        """The table's client; the table is created on first use in this process."""
        client = self._tables.get(name)
        if client is not None:
            return client
        async with self._lock:
            client = self._tables.get(name)
            if client is None:
                with contextlib.suppress(ResourceExistsError):  # made by another process
                    await bounded(
                        f"table storage is unavailable ({name})",
                        self.service.create_table(name),
                        self.policy,
                        expected=(ResourceExistsError,),
                    )
                client = self.service.get_table_client(name)
                self._tables[name] = client
        return client

    async def run(
        self,
        name: str,
        call: TableCall[T],
        *,
        expected: tuple[type[BaseException], ...] = (),
    ) -> T:
        """`call` on the table's client, bounded; a missing table is made again, once."""
        what = f"table storage is unavailable ({name})"
        for attempt in (1, 2):
            client = await self.table(name)
            try:
                return await bounded(
                    what, call(client), self.policy, expected=(*expected, ResourceNotFoundError)
                )
            except ResourceNotFoundError as exc:
                if attempt == 1 and _table_missing(exc):
                    await self._forget(name, client)
                    continue
                if issubclass(ResourceNotFoundError, expected):
                    raise
                raise ServiceUnavailableError(what) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _forget(self, name: str, client: TableClient) -> None:
        async with self._lock:
            if self._tables.get(name) is client:
                del self._tables[name]
        await client.close()

    async def aclose(self) -> None:
        for client in self._tables.values():
            await client.close()
        await self.service.close()


def _table_missing(exc: ResourceNotFoundError) -> bool:
    # The Tables SDK sets error_code from the service's answer: TableNotFound, not an entity's.
    return getattr(exc, "error_code", None) == "TableNotFound"
