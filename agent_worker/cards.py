"""Sending a card to a web diner's page: the one way the agent shows the diner something beside its words (the
order card, order_card.py; the booking card, booking_card.py). Why a text stream rather than an RPC: order_card.py.

A CardSender sends one session's cards of one kind, each as one text stream on its topic to one participant
identity, one after another in the order shown (`seq` counts them from 1, so the page can drop a card a later one
overtook). A tool waits at most SEND_WAIT seconds for its card to be handed to LiveKit (the send goes on after);
a send may take SEND_TIMEOUT seconds in all. A card that cannot be sent is one warning line in the log: the tool's
answer never depends on it.
"""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc

logger = logging.getLogger("maitre.agent")

SEND_WAIT = 0.25
SEND_TIMEOUT = 5.0


class CardSender:
    """One session's cards on `topic` (e.g. "maitre.order"), named `kind` in the log ("order card")."""

    def __init__(self, topic: str, kind: str) -> None:
        self.topic, self.kind = topic, kind
        self.seq = 0
        self._sending = asyncio.Lock()  # one card at a time, in the order shown
        self._tasks: set[asyncio.Task] = set()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def send(self, room: rtc.Room, identity: str, text: str, seq: int) -> None:
        """Send `text` (a card's JSON, with its `seq`) to participant `identity` in `room`; return once LiveKit has
        it, or after SEND_WAIT seconds while the send goes on. Never raises."""
        task = asyncio.create_task(self._send(room, identity, text, seq))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait([task], timeout=SEND_WAIT)

    async def _send(self, room: rtc.Room, identity: str, text: str, seq: int) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT), self._sending:
                await room.local_participant.send_text(text, topic=self.topic, destination_identities=[identity])
        except Exception as exc:  # StreamError, a room not (or no longer) connected, the timeout
            logger.warning("room %s: %s %s not sent to %s: %s", room.name, self.kind, seq, identity, said(exc))


def said(exc: BaseException) -> str:
    """An exception in a log line's words: its message, or its type when it has none."""
    return str(exc) or type(exc).__name__
