"""A LiveKit job run in-process, as the framework hands one to the entrypoint: livekit-agents' own
fake_job_context (a real JobContext marked fake) around a room that carries the call's name."""

from __future__ import annotations

from contextlib import AbstractContextManager

from livekit import rtc
from livekit.agents import JobContext
from livekit.agents.testing import fake_job_context


def named_room(name: str) -> rtc.Room:
    """An rtc.Room, not connected, already called `name` (what it is called once connected)."""
    room = rtc.Room()
    room._info.name = name  # the fake job takes its room's name from here
    return room


def job_context(*, job_id: str, metadata: str, room_name: str) -> AbstractContextManager[JobContext]:
    """The fake job context of job `job_id` with `metadata`, in a room called `room_name`."""
    return fake_job_context(job_id=job_id, job_metadata=metadata, room=named_room(room_name))


def job_http_session():
    """What a job process has around its entrypoint: LiveKit's per-job aiohttp session, which plugins'
    websockets (the realtime transcription stream) use. `async with job_http_session(): ...`"""
    from livekit.agents.utils import http_context

    return http_context.open()
