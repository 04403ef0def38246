"""Reservations as iCalendar (RFC 5545), written with the `icalendar` library: one guest's booking as a calendar
file to add to their own calendar ("Add to calendar" on the talk page), and a restaurant's book as a feed staff
follow in their calendar app.

Times are written in UTC (a calendar app shows them in the reader's zone); each event's UID is stable for a
reservation ("reservation-<id>@<restaurant slug>.maitre"), so a feed's reader updates an event when a booking
changes, and marks it cancelled. SEQUENCE grows with each change (the seconds from its creation to its last
change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from icalendar import Calendar, Event

from restaurants import phones

from .models import Reservation

PRODID = "-//maitre//reservations//EN"


def reservation_uid(reservation: Reservation) -> str:
    return f"reservation-{reservation.pk}@{reservation.restaurant.slug}.maitre"


def _event(reservation: Reservation, *, for_staff: bool) -> Event:
    r = reservation.restaurant
    party = f"{reservation.party_size} {'person' if reservation.party_size == 1 else 'people'}"
    if for_staff:
        summary = f"{reservation.guest_name}, {party} ({reservation.table.name})"
        lines = [f"Code {reservation.code}", f"Phone {reservation.guest_phone}" if reservation.guest_phone else ""]
        lines.append(reservation.notes)
    else:
        summary = f"Table for {party} at {r.name}"
        lines = [f"Booking code {reservation.code}, under the name {reservation.guest_name}.", reservation.notes]
        if r.phone:
            lines.append(f"To change or cancel it, call {phones.for_people(str(r.phone))}.")  # international
    gone = reservation.status in (Reservation.Status.CANCELLED, Reservation.Status.NO_SHOW)
    return Event.new(
        uid=reservation_uid(reservation),
        summary=summary,
        start=reservation.starts_at.astimezone(dt.UTC),
        end=reservation.ends_at.astimezone(dt.UTC),
        stamp=reservation.updated_at.astimezone(dt.UTC),
        created=reservation.created_at.astimezone(dt.UTC),
        location=f"{r.name}, {r.address.spoken}" if not for_staff else reservation.table.name,
        description="\n".join(line for line in lines if line),
        status="CANCELLED" if gone else "CONFIRMED",
        sequence=int(reservation.updated_at.timestamp()) - int(reservation.created_at.timestamp()),
    )


def reservation_ics(reservation: Reservation) -> bytes:
    """One guest's booking as a calendar file (text/calendar, UTF-8): the table, party size, restaurant's name and
    address, the code, and how to change it. Read with restaurant and table joined."""
    calendar = Calendar.new(prodid=PRODID, method="PUBLISH", name=f"Table at {reservation.restaurant.name}")
    calendar.add_component(_event(reservation, for_staff=False))
    return calendar.to_ical()


def book_feed(name: str, reservations: Iterable[Reservation]) -> bytes:
    """A restaurant's book as a calendar feed named `name`: one event per reservation (guest, party, table, code,
    phone, notes), a cancelled or no-show one marked CANCELLED. Read with restaurant and table joined."""
    calendar = Calendar.new(prodid=PRODID, name=name, refresh_interval=dt.timedelta(minutes=15))
    for reservation in reservations:
        calendar.add_component(_event(reservation, for_staff=True))
    return calendar.to_ical()
