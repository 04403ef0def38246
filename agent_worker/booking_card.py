"""The booking card: what a web diner's page shows of the table being booked while they talk to the agent.

After check_availability the agent sends the time it checked (proposed, "not booked yet", or not available with
the nearest times instead); after book_table, find_reservation, change_reservation and cancel_reservation it sends
the reservation as the database has it, with its code and, while booked, its calendar file (the text of
reservations.calendar.reservation_ics), from which the page offers "Add to calendar" as a download it makes
itself (a Blob: no HTTP endpoint serves a guest's booking). Everything on the card is computed in code from the
database and the checked time, never from the model's words.

As for the order card (order_card.py, which explains the choice of a text stream over an RPC): one text stream
per card on TOPIC, to the call's diner only (dispatch.Call.participant_identity), on the web only (the phone has
no screen); `seq` lets the page drop a card overtaken by a later one; a card that cannot be read or sent is one
warning line in the log, and the tool's answer never depends on it.

Payload (JSON, at most MAX_CARD_BYTES bytes of UTF-8; times in the restaurant's local time):

    {"seq": 2,
     "status": "proposed" | "unavailable" | "booked" | "cancelled" | "seated" | "completed" | "no_show",
     "date": "2026-06-13", "day": "Saturday", "time": "19:30",   # hours.say_day / say_time
     "party_size": 4,
     "guest_name": "Anna Rossi",                                  # "" before booking
     "code": "K7MR4X" | null,                                     # once booked
     "offers": [{"date": "2026-06-13", "day": "Saturday", "time": "16:30"}],  # unavailable: the nearest times
     "ics": "BEGIN:VCALENDAR..." | null}                          # while booked: the calendar file's text
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable

from livekit import rtc

from dispatch.models import Call
from reservations.calendar import reservation_ics
from reservations.models import Reservation
from restaurants import hours
from restaurants.models import Restaurant

from .cards import CardSender

logger = logging.getLogger("maitre.agent")

TOPIC = "maitre.booking"  # static/js/booking_card.js registers the same name ("lk." topics are LiveKit's own)
# One card's JSON, in bytes: a booked card with its calendar file is about 2 KB (a name of 80 characters and a
# note of 300 at most). Under 15 KiB, one data packet's worth.
MAX_CARD_BYTES = 15_000
# The most nearest times a card lists (reservations.availability offers 2 before, 2 after and 3 later days).
MAX_OFFERS = 8


def _when(r: Restaurant, at: dt.datetime) -> dict:
    local = at.astimezone(r.tz)
    return {
        "date": local.date().isoformat(),
        "day": hours.say_day(local.date(), r.local_now().date()),
        "time": hours.say_time(local, r.language),
    }


def checked_card(
    r: Restaurant, starts_at: dt.datetime, party_size: int, *, possible: bool, offers: Iterable[dt.datetime] = ()
) -> dict:
    """The card of a time checked for `party_size` (aware `starts_at`): "proposed" when it is `possible`, else
    "unavailable" with the times offered instead (aware; possibly none), soonest first. No query."""
    return {
        "status": "proposed" if possible else "unavailable",
        **_when(r, starts_at),
        "party_size": party_size,
        "guest_name": "",
        "code": None,
        "offers": [] if possible else [_when(r, at) for at in sorted(offers)[:MAX_OFFERS]],
        "ics": None,
    }


def reservation_card(reservation: Reservation) -> dict:
    """The card of a reservation read with its restaurant and table joined (reservations.events'
    ready_reservations): its local date and time, party, name, code, status and, while booked, its calendar file.
    No query."""
    r = reservation.restaurant
    booked = reservation.status == Reservation.Status.BOOKED
    return {
        "status": reservation.status,
        **_when(r, reservation.starts_at),
        "party_size": reservation.party_size,
        "guest_name": reservation.guest_name,
        "code": reservation.code,
        "offers": [],
        "ics": reservation_ics(reservation).decode() if booked else None,
    }


def diner_identity(room_name: str) -> str:
    """The participant identity of the diner on the web call in `room_name`, or "" when there is none (a phone
    call, no call row, no identity). One query."""
    if not room_name:
        return ""
    found = Call.objects.filter(room_name=room_name, channel=Call.Channel.WEB).values_list(
        "participant_identity", flat=True
    )
    return next(iter(found[:1]), "") or ""


def encode(card: dict, seq: int) -> str | None:
    """`card` with its `seq` as JSON, or None when it is larger than MAX_CARD_BYTES (it cannot be: every field is
    bounded; the page would refuse it anyway)."""
    text = json.dumps({"seq": seq, **card}, ensure_ascii=False)
    return text if len(text.encode()) <= MAX_CARD_BYTES else None


class BookingCards:
    """One session's booking cards (cards.CardSender)."""

    def __init__(self) -> None:
        self.sender = CardSender(TOPIC, "booking card")

    async def show(self, room: rtc.Room, identity: str, card: dict) -> None:
        """Send `card` to participant `identity` in `room`; return once LiveKit has it, or after SEND_WAIT seconds
        while the send goes on. Never raises: a failure is logged as one warning line."""
        seq = self.sender.next_seq()
        text = encode(card, seq)
        if text is None:
            logger.warning("room %s: booking card %s too large, not sent", room.name, seq)
            return
        await self.sender.send(room, identity, text, seq)
