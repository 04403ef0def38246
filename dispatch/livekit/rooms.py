"""Rooms and tokens: the names maitre gives call rooms and diners, the tokens a diner's browser and a staff
listener join with, and the room a web call gets with the agent dispatched to it.

Reads LIVEKIT_TOKEN_TTL, LIVEKIT_AGENT_NAME and the LIVEKIT_ROOM_* timeouts from settings at call time."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from livekit import api

from .client import server_api

ROOM_NAME = re.compile(r"^restaurant-(\d+)-[0-9a-f]{32}$")  # a web call's room, made by new_room_name
# A phone call's room, made by LiveKit's SIP dispatch rule: phone_room_prefix + "_<caller>_<12 random characters>",
# e.g. "restaurant-1-call-_+447700900123_ygaafuD4miAA".
PHONE_ROOM_NAME = re.compile(r"^restaurant-(\d+)-call-[\w+.@-]{1,100}$")
DINER_IDENTITY = re.compile(r"^diner-[0-9a-f]{32}$")


class NotADinerToken(Exception):
    """A token that is not one this server minted for a diner, or has expired."""


def new_room_name(restaurant_id: int) -> str:
    """A fresh room name, never used before: "restaurant-<id>-<uuid4 hex>"."""
    return f"restaurant-{restaurant_id}-{uuid.uuid4().hex}"


def phone_room_prefix(restaurant_id: int) -> str:
    """The room prefix of a restaurant's SIP dispatch rule: "restaurant-<id>-call-" (see PHONE_ROOM_NAME)."""
    return f"restaurant-{restaurant_id}-call-"


def is_call_room(room_name: str) -> bool:
    """Whether `room_name` is a room maitre makes for a call, web (ROOM_NAME) or phone (PHONE_ROOM_NAME)."""
    return bool(ROOM_NAME.match(room_name) or PHONE_ROOM_NAME.match(room_name))


def new_diner_identity() -> str:
    """A fresh participant identity for a diner: "diner-<uuid4 hex>"."""
    return f"diner-{uuid.uuid4().hex}"


def diner_token(*, room_name: str, identity: str) -> str:
    """A JWT letting `identity` join `room_name` only, to publish, subscribe and publish data.

    Lives LIVEKIT_TOKEN_TTL seconds (15 minutes by default); carries no other grant.
    """
    grants = api.VideoGrants(
        room_join=True, room=room_name, can_publish=True, can_subscribe=True, can_publish_data=True
    )
    return _room_token(grants, identity=identity, name="Diner", ttl=timedelta(seconds=settings.LIVEKIT_TOKEN_TTL))


LISTENER_TOKEN_TTL = timedelta(minutes=5)


def new_listener_identity(user_id: int) -> str:
    """A fresh participant identity for a staff member listening in: "staff-<user id>-<12 hex digits>"."""
    return f"staff-{user_id}-{uuid.uuid4().hex[:12]}"


def listener_token(*, room_name: str, identity: str) -> str:
    """A JWT letting staff member `identity` into `room_name` hidden, to subscribe only: the diner and the agent
    do not see them, and they can publish no audio and no data.

    Lives 5 minutes (LISTENER_TOKEN_TTL; joining is what needs a valid token). Raises ValueError for a room
    name maitre does not make.
    """
    grants = api.VideoGrants(
        room_join=True, room=room_name, hidden=True, can_subscribe=True, can_publish=False, can_publish_data=False
    )
    return _room_token(grants, identity=identity, name="Staff", ttl=LISTENER_TOKEN_TTL)


def _room_token(grants: api.VideoGrants, *, identity: str, name: str, ttl: timedelta) -> str:
    """A JWT with `grants`, which must name one maitre call room (else ValueError: an empty room would admit to
    any)."""
    if not is_call_room(grants.room):
        raise ValueError(f"not a maitre room name: {grants.room!r}")
    return (
        api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        .with_identity(identity)
        .with_name(name)
        .with_ttl(ttl)
        .with_grants(grants)
        .to_jwt()
    )


@dataclass(frozen=True)
class DinerGrant:
    """Who a diner's token admits, and where: the participant identity and the room name."""

    identity: str
    room_name: str


def read_diner_token(token: str) -> DinerGrant:
    """The identity and room of a token `diner_token` minted, checked against LIVEKIT_API_SECRET.

    Raises NotADinerToken when the signature, issuer or expiry (1 minute leeway) is wrong, or the token
    is not a diner's for a maitre room.
    """
    try:
        claims = api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET).verify(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise NotADinerToken(str(exc)) from None
    room_name = claims.video.room if claims.video else ""
    if not (DINER_IDENTITY.match(claims.identity or "") and ROOM_NAME.match(room_name or "")):
        raise NotADinerToken("not a diner's token for a maitre room")
    return DinerGrant(identity=claims.identity, room_name=room_name)


async def create_room_and_dispatch(*, room_name: str, job_metadata: str) -> str:
    """Create `room_name` for one call, then explicitly dispatch the agent named LIVEKIT_AGENT_NAME to it.

    The room is created first, with LIVEKIT_ROOM_EMPTY_TIMEOUT and LIVEKIT_ROOM_DEPARTURE_TIMEOUT (seconds),
    because a room that the dispatch creates gets LiveKit's defaults: it would hold the agent's job for 300 s
    if no diner came. `job_metadata` (dispatch.job_metadata.web_call) is what the worker reads. Returns the
    dispatch id ("AD_..."). Raises ValueError for a room name maitre does not make, LiveKitNotConfigured,
    and LiveKitUnavailable (the room may then exist; LiveKit closes it after the empty timeout).
    """
    if not ROOM_NAME.match(room_name):
        raise ValueError(f"not a maitre room name: {room_name!r}")
    room = api.CreateRoomRequest(
        name=room_name,
        empty_timeout=settings.LIVEKIT_ROOM_EMPTY_TIMEOUT,
        departure_timeout=settings.LIVEKIT_ROOM_DEPARTURE_TIMEOUT,
    )
    dispatch = api.CreateAgentDispatchRequest(
        agent_name=settings.LIVEKIT_AGENT_NAME, room=room_name, metadata=job_metadata
    )
    async with server_api(f"open the call room {room_name}") as lkapi:
        await lkapi.room.create_room(room)
        created = await lkapi.agent_dispatch.create_dispatch(dispatch)
    return created.id


async def close_call_room(*, room_name: str) -> None:
    """Delete `room_name`: everyone in it is disconnected and an agent's job there ends.

    A room that is already gone is fine. Raises LiveKitNotConfigured or LiveKitUnavailable.
    """
    async with server_api(f"delete the room {room_name}") as lkapi:
        try:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except api.TwirpError as exc:
            if exc.status != 404:
                raise
