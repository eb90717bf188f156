"""Backend calls that hang or are reset end within their budget as a 503, and the client keeps
its connection; a table deleted while the process runs is made again.

A loopback proxy (tests/support/fault_proxy.py) sits in front of Azurite and in front of the
Web PubSub REST recorder and hangs or resets connections on demand.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.data.tables.aio import TableServiceClient

import channels  # noqa: F401 - wires the app's channels
from devstack.azurite import Azurite, connection_string
from devstack.rest_recorder import ACCESS_KEY, RestRecorder
from shared.azure.calls import CallPolicy
from shared.azure.database import TableDatabase
from shared.azure.stores import TableConnectionStore
from shared.azure.tables import TableStorage
from shared.azure.webpubsub import WebPubSubTransport
from shared.core.errors import ServiceUnavailableError
from shared.core.events import ConnectedEvent, ConnectEvent, DataType, MessageEvent, Reply
from shared.core.jwt_service import JwtService
from shared.core.runtime import Parts, assemble
from shared.core.stores import ConnectionRecord, MemoryConnectionStore
from shared.core.testing import TEST_JWT_SECRET
from shared.core.wiring import default_registry
from tests.support.fault_proxy import FaultProxy

# Small numbers so a hang costs the test about a second; production uses CallPolicy().
FAST = CallPolicy(
    connection_timeout=0.5, read_timeout=0.5, retry_total=2, retry_backoff=0.05, budget=5.0
)
TIGHT = CallPolicy(
    connection_timeout=0.5, read_timeout=5.0, retry_total=2, retry_backoff=0.05, budget=0.5
)


@pytest.fixture
async def table_proxy(azurite: Azurite) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(azurite.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def rest_proxy(recorder: RestRecorder) -> AsyncIterator[FaultProxy]:
    proxy = FaultProxy(recorder.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


def storage_behind(proxy: FaultProxy, policy: CallPolicy) -> TableStorage:
    return TableStorage.from_connection_string(connection_string(port=proxy.port), policy)


def transport_behind(proxy: FaultProxy, policy: CallPolicy) -> WebPubSubTransport:
    endpoint = f"Endpoint=http://127.0.0.1:{proxy.port};AccessKey={ACCESS_KEY};Version=1.0;"
    return WebPubSubTransport.from_connection_string(endpoint, "channels", policy)


@pytest.mark.parametrize("mode", ["hang", "reset"])
async def test_a_failing_table_call_is_a_503_after_the_clients_retries(
    table_proxy: FaultProxy, mode: str
) -> None:
    storage = storage_behind(table_proxy, FAST)
    database = TableDatabase(storage)
    await database.upsert("faults", {"n": 1}, partition_key="p", row_key="r")  # table made
    table_proxy.mode = mode  # type: ignore[assignment]
    with pytest.raises(ServiceUnavailableError) as caught:
        await database.get("faults", "p", "r")
    # the SDK's own read timeout or the reset ended each try, not the budget
    assert caught.value.message == "table storage is unavailable (faults)"
    assert isinstance(caught.value.__cause__, (ServiceRequestError, ServiceResponseError))
    tries = 1 + FAST.retry_total  # the first try and the retries
    if mode == "hang":
        assert table_proxy.faulted == tries
    else:  # aiohttp itself retries an idempotent request once on a connection reset
        assert tries <= table_proxy.faulted <= 2 * tries
    table_proxy.mode = "pass"
    assert await database.get("faults", "p", "r") == {"n": 1}  # the same client serves again
    await storage.aclose()


async def test_the_budget_ends_a_table_call_the_client_would_wait_longer_for(
    table_proxy: FaultProxy,
) -> None:
    storage = storage_behind(table_proxy, TIGHT)
    database = TableDatabase(storage)
    await database.upsert("faults", {"n": 1}, partition_key="p", row_key="r")
    table_proxy.mode = "hang"
    with pytest.raises(ServiceUnavailableError) as caught:
        await database.get("faults", "p", "r")
    assert caught.value.message == "table storage is unavailable (faults): no answer within 0.5 s"
    await storage.aclose()


@pytest.mark.parametrize("mode", ["hang", "reset"])
async def test_a_failing_publish_is_a_503_and_is_not_sent_twice(
    rest_proxy: FaultProxy, mode: str
) -> None:
    transport = transport_behind(rest_proxy, FAST)
    await transport.publish("room:x", {"type": "message"})  # a pooled connection exists
    rest_proxy.mode = mode  # type: ignore[assignment]
    with pytest.raises(ServiceUnavailableError) as caught:
        await transport.publish("room:x", {"type": "message"})
    # the client's read timeout (or the reset) ended it, not the budget
    assert caught.value.message == "realtime service failed to publish"
    assert isinstance(caught.value.__cause__, (ServiceRequestError, ServiceResponseError))
    # azure-core retries no POST after a read or connection error: a publish the service may
    # have taken is never repeated behind the caller's back (aiohttp may redo a reset one)
    assert rest_proxy.faulted == 1 if mode == "hang" else rest_proxy.faulted <= 2
    rest_proxy.mode = "pass"
    await transport.publish("room:x", {"type": "message"})
    await transport.aclose()


async def test_the_budget_ends_a_publish_the_client_would_wait_longer_for(
    rest_proxy: FaultProxy,
) -> None:
    transport = transport_behind(rest_proxy, TIGHT)
    rest_proxy.mode = "hang"
    with pytest.raises(ServiceUnavailableError) as caught:
        await transport.publish("room:x", {"type": "message"})
    assert caught.value.message == "realtime service failed to publish: no answer within 0.5 s"
    await transport.aclose()


class Client:
    """One connection to the chat channel, driven through the dispatcher as the service would."""

    def __init__(self, parts: Parts, channel_id: str) -> None:
        self.parts = parts
        self.channel_id = channel_id
        self.states: dict[str, Any] = {}

    async def connect(self) -> None:
        query = {"channel": ["chat"], "room": [self.channel_id]}  # a room of its own
        accepted = await self.parts.dispatcher.dispatch(ConnectEvent(self.channel_id, query))
        self.states.update(accepted.states)  # type: ignore[union-attr]
        await self.parts.dispatcher.dispatch(ConnectedEvent(self.channel_id, None, self.states))

    async def send(self, frame: dict[str, Any]) -> Any:
        event = MessageEvent(
            self.channel_id, json.dumps(frame), DataType.JSON, None, dict(self.states)
        )
        reply = await self.parts.dispatcher.dispatch(event)
        assert isinstance(reply, Reply)
        self.states.update(reply.states)
        return reply.frame


@pytest.mark.parametrize("backend", ["table", "rest"])
async def test_a_hanging_backend_gives_the_client_a_503_frame_and_keeps_its_connection(
    table_proxy: FaultProxy, rest_proxy: FaultProxy, recorder: RestRecorder, backend: str
) -> None:
    storage = storage_behind(table_proxy, TIGHT)
    transport = transport_behind(rest_proxy, TIGHT)
    parts = assemble(
        default_registry,
        store=MemoryConnectionStore(),
        transport=transport,
        database=TableDatabase(storage),
        jwt=JwtService(TEST_JWT_SECRET),
    )
    ada = Client(parts, f"faults-{backend}")
    await ada.connect()
    token = parts.jwt.sign({"userId": "ada"}, expires_in=600)
    assert (await ada.send({"action": "authenticate", "token": token}))["authenticated"]
    (table_proxy if backend == "table" else rest_proxy).mode = "hang"

    frame = {"action": "sendMessage", "message": "through a hang", "id": f"hang-{backend}"}
    failed = await ada.send(frame)
    assert (failed["status"], failed["errorName"]) == (503, "ServiceUnavailableError")
    assert "no answer within 0.5 s" in failed["error"]

    table_proxy.mode = rest_proxy.mode = "pass"
    recorder.calls.clear()
    sent = await ada.send(frame)  # the same connection, the same message: sent once
    assert (sent["id"], sent["message"]) == (f"hang-{backend}", "through a hang")
    assert recorder.kinds() == ["send_to_group"]
    history = await ada.send({"action": "history"})
    assert [m["message"] for m in history["messages"]] == ["through a hang"]
    await storage.aclose()
    await transport.aclose()


async def test_a_table_deleted_while_running_is_made_again(
    table_database: TableDatabase, raw_tables: TableServiceClient
) -> None:
    await table_database.upsert("recreated", {"n": 1}, partition_key="p", row_key="a")
    await raw_tables.delete_table("recreated")  # the client for it stays cached
    await table_database.upsert("recreated", {"n": 2}, partition_key="p", row_key="b")
    assert await table_database.get("recreated", "p", "b") == {"n": 2}
    await raw_tables.delete_table("recreated")
    assert await table_database.get("recreated", "p", "b") is None  # a read recreates too
    page = await table_database.query("recreated", "p")
    assert page.rows == []


async def test_connection_records_survive_their_table_being_deleted(
    storage: TableStorage, raw_tables: TableServiceClient
) -> None:
    store = TableConnectionStore(storage, table="recordsRecreated")
    await store.put(ConnectionRecord("c1", "chat", {"room": "a"}))
    await raw_tables.delete_table("recordsRecreated")  # Azurite restarted empty, say
    assert await store.get("c1") is None  # the table is back, empty: no 503
    await store.put(ConnectionRecord("c2", "chat", {"room": "b"}))
    record = await store.get("c2")
    assert record is not None and record.opening_data == {"room": "b"}
