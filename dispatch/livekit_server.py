"""The one place maitre talks to LiveKit's server API: agent dispatch and participant tokens.

Reads LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_API_TIMEOUT and LIVEKIT_TOKEN_TTL from
settings at call time. Nothing else in maitre imports `livekit.api`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from datetime import timedelta

import aiohttp
from django.conf import settings
from livekit import api

logger = logging.getLogger("maitre.dispatch")

ROOM_NAME = re.compile(r"^restaurant-(\d+)-[0-9a-f]{32}$")


class LiveKitNotConfigured(Exception):
    """LIVEKIT_URL, LIVEKIT_API_KEY or LIVEKIT_API_SECRET is empty."""


class LiveKitUnavailable(Exception):
    """LiveKit's server API could not be reached, timed out, or refused the request."""


def missing_settings() -> list[str]:
    """Names of the LiveKit settings that are empty, e.g. ["LIVEKIT_URL"]; [] when configured."""
    return [n for n in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not getattr(settings, n)]


def new_room_name(restaurant_id: int) -> str:
    """A fresh room name, never used before: "restaurant-<id>-<uuid4 hex>"."""
    return f"restaurant-{restaurant_id}-{uuid.uuid4().hex}"


def new_diner_identity() -> str:
    """A fresh participant identity for a diner: "diner-<uuid4 hex>"."""
    return f"diner-{uuid.uuid4().hex}"


def diner_token(*, room_name: str, identity: str) -> str:
    """A JWT letting `identity` join `room_name` only, to publish, subscribe and publish data.

    Lives LIVEKIT_TOKEN_TTL seconds (15 minutes by default); carries no other grant.
    """
    if not ROOM_NAME.match(room_name):
        raise ValueError(f"not a maitre room name: {room_name!r}")
    grants = api.VideoGrants(
        room_join=True, room=room_name, can_publish=True, can_subscribe=True, can_publish_data=True
    )
    return (
        api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        .with_identity(identity)
        .with_name("Diner")
        .with_ttl(timedelta(seconds=settings.LIVEKIT_TOKEN_TTL))
        .with_grants(grants)
        .to_jwt()
    )


async def dispatch_agent(*, room_name: str, metadata: dict) -> str:
    """Explicitly dispatch the agent named LIVEKIT_AGENT_NAME to `room_name` (LiveKit creates the room).

    `metadata` is sent as a JSON string: the job metadata the worker reads. Returns the dispatch id
    ("AD_..."). Raises LiveKitNotConfigured when settings are missing, and LiveKitUnavailable when the
    server is unreachable, slower than LIVEKIT_API_TIMEOUT seconds, or answers with an error.
    """
    if missing := missing_settings():
        raise LiveKitNotConfigured(", ".join(missing))
    if not ROOM_NAME.match(room_name):
        raise ValueError(f"not a maitre room name: {room_name!r}")
    request = api.CreateAgentDispatchRequest(
        agent_name=settings.LIVEKIT_AGENT_NAME, room=room_name, metadata=json.dumps(metadata)
    )
    lkapi = api.LiveKitAPI(settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
    try:
        # livekit-api 1.2.2 posts with `timeout=None`, which makes aiohttp ignore the session's timeout:
        # bound the whole call here instead.
        async with asyncio.timeout(settings.LIVEKIT_API_TIMEOUT):
            dispatch = await lkapi.agent_dispatch.create_dispatch(request)
    except api.TwirpError as exc:
        logger.warning("LiveKit refused the dispatch to %s: %s %s", room_name, exc.status, exc.message)
        raise LiveKitUnavailable(f"LiveKit answered {exc.status}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        logger.warning("LiveKit unreachable at %s: %r", settings.LIVEKIT_URL, exc)
        raise LiveKitUnavailable("LiveKit is unreachable") from exc
    finally:
        await lkapi.aclose()
    return dispatch.id
