"""`services.event_hub`: topics over the realtime service's groups.

Subscribing adds a connection to a topic; publishing is one call, however many subscribers:
the service fans it out, no app code runs per subscriber.
"""

from __future__ import annotations

from pydantic_core import to_jsonable_python

from shared.core.errors import BadRequestError
from shared.core.transport import Transport

MAX_TOPIC_LENGTH = 1024


def _check(topic: str) -> str:
    if not topic or len(topic) > MAX_TOPIC_LENGTH or topic.isspace():
        raise BadRequestError(f"topic must be 1 to {MAX_TOPIC_LENGTH} characters, not blank")
    return topic


class EventHub:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def subscribe(self, topic: str, channel_id: str) -> None:
        await self._transport.subscribe(_check(topic), channel_id)

    async def unsubscribe(self, topic: str, channel_id: str) -> None:
        await self._transport.unsubscribe(_check(topic), channel_id)

    async def publish(self, topic: str, exclude_channel_id: str | None, payload: object) -> None:
        """Send `payload` to every subscriber of `topic`; `None` excludes nobody."""
        frame = to_jsonable_python(payload, by_alias=True)
        await self._transport.publish(_check(topic), frame, exclude_channel_id)
