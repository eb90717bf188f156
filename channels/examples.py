"""The seed's smaller examples, each on its own channel."""

from __future__ import annotations

from channels.chat import now_ms, room_topic
from channels.models import ChatMessage, Echo, Room, Sent, Welcome
from shared.core.functions import (
    Docs,
    channel_connection_func,
    channel_disconnection_func,
    channel_func,
)
from shared.core.services import ChannelServices
from shared.core.wiring import wire_channel


@channel_func(docs=Docs(summary="Handle chat messages", tags=["chat"]))
async def echo(services: ChannelServices[Room], data: ChatMessage) -> Echo:
    """ "Your First Channel": the return value is sent back to the client."""
    services.logger.info(
        "Message received in %s: %s", services.channel.opening_data.room, data.message
    )
    return Echo(message=f"Echo: {data.message}")


echo_channel = wire_channel(name="echo", route="/echo", on_message=echo, auth=False)


@channel_connection_func(docs=Docs(summary="Subscribe to the room's topic", tags=["rooms"]))
async def join_room(services: ChannelServices[Room]) -> Welcome:
    room = services.channel.opening_data.room
    await services.event_hub.subscribe(room_topic(room), services.channel.channel_id)
    return Welcome(welcome=f"Joined {room}")


@channel_disconnection_func(docs=Docs(summary="Unsubscribe from the room's topic", tags=["rooms"]))
async def leave_room(services: ChannelServices[Room], data: Room) -> None:
    await services.event_hub.unsubscribe(room_topic(data.room), services.channel.channel_id)


ROOM_MESSAGES_TABLE = "roomMessages"  # its own: chat's `messages` rows carry a userId these lack


@channel_func(docs=Docs(summary="Handle incoming messages", tags=["rooms"]))
async def store_message(services: ChannelServices[Room], data: ChatMessage) -> Sent:
    timestamp = now_ms()
    room = services.channel.opening_data.room
    await services.database.insert(
        ROOM_MESSAGES_TABLE,
        {"room": room, "message": data.message, "timestamp": timestamp},
        partition_key=room,
    )
    return Sent(message=data.message, timestamp=timestamp)


rooms_channel = wire_channel(
    name="rooms",
    route="/rooms",
    on_connect=join_room,
    on_disconnect=leave_room,
    on_message=store_message,
    auth=False,
)
