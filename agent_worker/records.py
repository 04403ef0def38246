"""What the worker writes about a call: the agent joined, the diner joined, the call ended and why.

The row is the one the web side made for the call's room (dispatch.models.Call, found by room name); the
writes are dispatch.services' functions, run through the ORM bridge in the background, one after the other in
the order they happened, so the greeting never waits for the database. A write the database refuses is
logged as one warning line and skipped: the call goes on.
Import this module only after `django.setup()`.
"""

from __future__ import annotations

import asyncio
import logging

from django.db import DatabaseError

from dispatch import services
from dispatch.models import Call

from .db import run_orm

logger = logging.getLogger("maitre.agent")


class CallRecord:
    """The record of the call in room `room_name`. `end_reason` says why the call ends, once something
    knows (the agent ending it, the session closing); `end()` records it, "agent ended" if nothing said."""

    def __init__(self, room_name: str) -> None:
        self.room_name = room_name
        self.end_reason: Call.EndReason | None = None
        self._written: asyncio.Future | None = None  # the last write asked for, done when it is written

    def _write(self, fn, **kwargs) -> asyncio.Future:
        """Write `fn(room_name=..., **kwargs)` after the writes asked for before it; returns at once."""
        before = self._written

        async def write() -> None:
            if before is not None:
                await before
            try:
                await run_orm(fn, room_name=self.room_name, **kwargs)
            except DatabaseError as exc:
                logger.warning("call in %s: %s not recorded: %s", self.room_name, fn.__name__, exc)

        self._written = asyncio.ensure_future(write())
        return self._written

    def agent_joined(self) -> None:
        self._write(services.call_agent_joined)

    def diner_joined(self) -> None:
        self._write(services.call_diner_joined)

    async def end(self) -> None:
        """Record the end (waiting for the writes before it): the job's shutdown callback."""
        # No parameter: JobContext.add_shutdown_callback would pass the shutdown reason to one.
        await self._write(services.call_end, reason=self.end_reason or Call.EndReason.AGENT_ENDED)
