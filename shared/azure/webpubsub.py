"""The Transport over Azure Web PubSub's REST API (azure-messaging-webpubsubservice, async).

The one place that maps domain words onto the service's: a channel id is a connection id and
a topic is a group of the app's hub.
"""

from __future__ import annotations

from typing import Any

from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from shared.azure.calls import DEFAULT_POLICY, CallPolicy, bounded
from shared.core.runtime import ClientAccess
from shared.core.transport import Jsonable

JSON = "application/json"


class WebPubSubTransport:
    def __init__(self, client: WebPubSubServiceClient, policy: CallPolicy = DEFAULT_POLICY) -> None:
        self.client = client
        self.policy = policy

    @classmethod
    def from_connection_string(
        cls, connection_string: str, hub: str, policy: CallPolicy = DEFAULT_POLICY
    ) -> WebPubSubTransport:
        client = WebPubSubServiceClient.from_connection_string(
            connection_string, hub=hub, **policy.client_options()
        )
        return cls(client, policy)

    async def send(self, channel_id: str, frame: Jsonable) -> None:
        await self._call(
            "send to the connection",
            self.client.send_to_connection(channel_id, frame, content_type=JSON),
        )

    async def close(self, channel_id: str, reason: str | None = None) -> None:
        await self._call(
            "close the connection", self.client.close_connection(channel_id, reason=reason)
        )

    async def subscribe(self, topic: str, channel_id: str) -> None:
        await self._call("subscribe", self.client.add_connection_to_group(topic, channel_id))

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        await self._call("unsubscribe", self.client.remove_connection_from_group(topic, channel_id))

    async def publish(self, topic: str, frame: Jsonable, exclude: str | None = None) -> None:
        excluded = [exclude] if exclude else None
        await self._call(
            "publish", self.client.send_to_group(topic, frame, excluded=excluded, content_type=JSON)
        )

    async def connection_exists(self, channel_id: str) -> bool:
        exists = await bounded(
            "realtime service failed to check a connection",
            self.client.connection_exists(channel_id),
            self.policy,
        )
        return bool(exists)

    async def client_access(
        self, *, user_id: str | None, minutes_to_expire: int = 60
    ) -> ClientAccess:
        """A client URL and token with no group roles: it needs none."""
        result = await bounded(
            "realtime service failed to give client access",
            self.client.get_client_access_token(
                user_id=user_id, roles=[], minutes_to_expire=minutes_to_expire
            ),
            self.policy,
        )
        return ClientAccess(url=result["url"], base_url=result["baseUrl"], token=result["token"])

    async def aclose(self) -> None:
        await self.client.close()

    async def _call(self, what: str, call: Any) -> None:
        await bounded(f"realtime service failed to {what}", call, self.policy)
