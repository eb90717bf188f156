"""One async Table Storage client per process, and its tables, each created once."""

from __future__ import annotations

import asyncio

from azure.core.exceptions import AzureError, ResourceExistsError
from azure.data.tables.aio import TableClient, TableServiceClient

from shared.core.errors import ServiceUnavailableError


class TableStorage:
    def __init__(self, service: TableServiceClient) -> None:
        self.service = service
        self._tables: dict[str, TableClient] = {}
        self._lock = asyncio.Lock()

    @classmethod
    def from_connection_string(cls, connection_string: str) -> TableStorage:
        return cls(TableServiceClient.from_connection_string(connection_string))

    @classmethod
    def from_account_name(cls, account_name: str) -> TableStorage:
        """Identity-based access (managed identity in Azure): no shared key in settings."""
        from azure.identity.aio import DefaultAzureCredential

        endpoint = f"https://{account_name}.table.core.windows.net"
        return cls(TableServiceClient(endpoint, credential=DefaultAzureCredential()))

    async def table(self, name: str) -> TableClient:
        """The table's client; the table is created on first use in this process."""
        client = self._tables.get(name)
        if client is not None:
            return client
        async with self._lock:
            client = self._tables.get(name)
            if client is None:
                try:
                    await self.service.create_table(name)
                except ResourceExistsError:
                    pass
                except AzureError as exc:
                    raise ServiceUnavailableError(f"table storage is unavailable ({name})") from exc
                client = self.service.get_table_client(name)
                self._tables[name] = client
        return client

    async def aclose(self) -> None:
        for client in self._tables.values():
            await client.close()
        await self.service.close()
