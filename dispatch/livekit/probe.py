"""Doctor's probe of LiveKit (manage.py doctor): does the server answer and accept the key pair, and does a
worker take a job?"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from django.conf import settings
from livekit import api

from .. import job_metadata
from .client import LiveKitUnavailable, server_api

logger = logging.getLogger("maitre.dispatch")


# --- Doctor: does LiveKit answer, and does a worker take jobs? (manage.py doctor) ----------------------------

DOCTOR_ROOM = re.compile(r"^doctor-[0-9a-f]{32}$")
# Seconds LiveKit keeps doctor's room should doctor die before deleting it (the agent does not count).
DOCTOR_ROOM_EMPTY_TIMEOUT = 10
DOCTOR_POLL_INTERVAL = 0.2  # seconds between two ListParticipants while doctor waits for the agent


class LiveKitCheckFailed(LiveKitUnavailable):
    """Why a doctor check could not talk to LiveKit. `problem` is one of:
    "key" (LiveKit answered 401: the API key or secret is wrong), "unreachable" (no connection to the URL:
    refused, no such host...), "timeout" (no answer in time), "refused" (another error status); `detail` is
    what LiveKit or the connection said."""

    def __init__(self, problem: str, detail: str):
        super().__init__(f"{problem}: {detail}")
        self.problem, self.detail = problem, detail


@asynccontextmanager
async def _doctor_api(doing: str, timeout: float) -> AsyncIterator[api.LiveKitAPI]:
    """_server_api bounded by `timeout` seconds, its failures as LiveKitCheckFailed."""
    try:
        async with server_api(doing, timeout=timeout) as lkapi:
            yield lkapi
    except LiveKitUnavailable as exc:
        cause = exc.__cause__
        if isinstance(cause, api.TwirpError):
            problem = "key" if cause.status == 401 else "refused"
            raise LiveKitCheckFailed(problem, f"{cause.status} {cause.message}".strip()) from None
        if isinstance(cause, TimeoutError):
            raise LiveKitCheckFailed("timeout", f"no answer within {timeout:g} s") from None
        raise LiveKitCheckFailed("unreachable", str(cause) or type(cause).__name__) from None


async def count_rooms(*, timeout: float) -> int:
    """How many rooms LiveKit has open (ListRooms): a cheap read that proves the server answers at LIVEKIT_URL
    and accepts LIVEKIT_API_KEY / LIVEKIT_API_SECRET. Raises LiveKitNotConfigured, or LiveKitCheckFailed within
    `timeout` seconds."""
    async with _doctor_api("list rooms", timeout) as lkapi:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    return len(rooms.rooms)


@dataclass(frozen=True)
class DoctorVisit:
    """What doctor's throwaway room saw: its name, the agent participant's identity ("agent-AJ_...") and the
    seconds from the dispatch until it was listed, or identity None when no agent came within the wait."""

    room_name: str
    agent_identity: str | None
    seconds: float


async def doctor_visit(*, wait: float, timeout: float) -> DoctorVisit:
    """Dispatch the agent named LIVEKIT_AGENT_NAME to a fresh room "doctor-<uuid4 hex>" with job metadata
    job_metadata.DOCTOR_METADATA (the worker joins, stays until the room is deleted, and starts no model), list the
    room's participants every DOCTOR_POLL_INTERVAL seconds until one of kind
    AGENT is there or `wait` seconds have passed, then delete the room (always, also on failure).

    The room is created first with an empty timeout of DOCTOR_ROOM_EMPTY_TIMEOUT seconds, so LiveKit closes it
    even if doctor dies before deleting it (a failed deletion is logged, not raised). No Call has such a room.
    Each server call is bounded by `timeout` seconds. Raises LiveKitNotConfigured or LiveKitCheckFailed.
    """
    room_name = f"doctor-{uuid.uuid4().hex}"
    loop = asyncio.get_running_loop()
    async with _doctor_api(f"open doctor's room {room_name}", timeout) as lkapi:
        await lkapi.room.create_room(
            api.CreateRoomRequest(name=room_name, empty_timeout=DOCTOR_ROOM_EMPTY_TIMEOUT, departure_timeout=1)
        )
    try:
        async with _doctor_api(f"dispatch the agent to {room_name}", timeout) as lkapi:
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=settings.LIVEKIT_AGENT_NAME, room=room_name, metadata=job_metadata.DOCTOR_METADATA
                )
            )
        started = loop.time()
        while True:
            async with _doctor_api(f"list the participants of {room_name}", timeout) as lkapi:
                people = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room_name))
            agent = next((p for p in people.participants if p.kind == api.ParticipantInfo.Kind.AGENT), None)
            waited = loop.time() - started
            if agent is not None:
                return DoctorVisit(room_name, agent.identity, waited)
            if waited >= wait:
                return DoctorVisit(room_name, None, waited)
            await asyncio.sleep(DOCTOR_POLL_INTERVAL)
    finally:
        try:
            async with _doctor_api(f"delete doctor's room {room_name}", timeout) as lkapi:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except LiveKitCheckFailed as exc:
            logger.info("doctor's room %s was not deleted (%s); LiveKit closes it after %s s", room_name, exc,
                        DOCTOR_ROOM_EMPTY_TIMEOUT)  # fmt: skip
