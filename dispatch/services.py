"""Starting a diner's call: one write over our database and one call to LiveKit."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from restaurants.models import Restaurant

from . import livekit_server
from .models import Call


@dataclass(frozen=True)
class ConnectionDetails:
    server_url: str
    participant_token: str
    room_name: str


async def call_start(*, restaurant: Restaurant) -> ConnectionDetails:
    """Create a fresh room for `restaurant`, dispatch the agent to it, record the call, mint the token.

    The token is minted only after LiveKit accepted the dispatch. Raises LiveKitNotConfigured or
    LiveKitUnavailable (from livekit_server) when no agent can be dispatched.
    """
    room_name = livekit_server.new_room_name(restaurant.pk)
    dispatch_id = await livekit_server.dispatch_agent(room_name=room_name, metadata={"restaurant_id": restaurant.pk})
    identity = livekit_server.new_diner_identity()
    await Call.objects.acreate(
        restaurant=restaurant, room_name=room_name, dispatch_id=dispatch_id, participant_identity=identity
    )
    return ConnectionDetails(
        server_url=settings.LIVEKIT_URL,
        participant_token=livekit_server.diner_token(room_name=room_name, identity=identity),
        room_name=room_name,
    )
