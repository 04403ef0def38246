"""What happens to a reservation, told to whoever follows the book: the staff's day view (a live staff page,
dispatch.staff.live: the topic RESERVATIONS, "reservations.<restaurant id>") once the change is committed, and the
receivers of the `reservation_changed` signal (the restaurant's webhook) inside the change's own transaction, so
that what they write stands or falls with it (as orders.events does for orders).

The writer (reservations.services) calls `announce(reservation, happened)` inside its transaction, after the
write. `happened` is one of HAPPENED.

`reservation_event(reservation)` is the one shape the day view reads, `{"kind": "reservation", "reservation":
{...}}`, built by the announcement and by the page's feed alike. Times are ISO 8601 in UTC, and also written in the
restaurant's local time as its locale writes it.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

from dispatch.staff.live import Topic
from restaurants import hours, phones

from .models import Reservation

# The restaurant's group the day view's connections join: "reservations.<restaurant id>".
RESERVATIONS = Topic("reservations")

# Sent inside the change's transaction, with `reservation_id` (int) and `happened` (one of HAPPENED). Receivers
# write only to the database.
reservation_changed = Signal()

# made (booked by the agent, or a walk-in seated), changed (time, party or notes), moved (another table, by
# staff), cancelled, and the floor's steps: seated, no_show, completed.
HAPPENED = frozenset({"made", "changed", "moved", "cancelled", "seated", "no_show", "completed"})


def announce(reservation: Reservation, happened: str) -> None:
    """Send `reservation_changed` now, inside the current transaction, and once it commits publish the
    reservation's event, read from the database then, to its restaurant's day views. Raises ValueError for a
    `happened` not in HAPPENED."""
    if happened not in HAPPENED:
        raise ValueError(f"not a reservation event: {happened!r}")
    reservation_id, restaurant_id = reservation.pk, reservation.restaurant_id
    reservation_changed.send(sender=Reservation, reservation_id=reservation_id, happened=happened)

    def publish() -> None:
        committed = ready_reservations().filter(pk=reservation_id).first()
        if committed is not None:
            RESERVATIONS.publish(restaurant_id, reservation_event(committed, happened))

    transaction.on_commit(publish, robust=True)


def ready_reservations():
    """Reservations as `reservation_event` needs them: restaurant and table joined."""
    return Reservation.objects.select_related("restaurant", "table")


def reservation_event(reservation: Reservation, happened: str = "") -> dict:
    """What the day view shows of a reservation (read through `ready_reservations`): guest, party, table, status,
    start and end (UTC, and local times as the restaurant's locale writes them, with the local date), notes, code
    and channel; `happened` is what was just done to it ("" in a page's snapshot)."""
    r = reservation.restaurant
    phone = phones.for_people(str(reservation.guest_phone), r.country) if reservation.guest_phone else ""
    starts, ends = reservation.starts_at.astimezone(r.tz), reservation.ends_at.astimezone(r.tz)
    return {
        "kind": "reservation",
        "happened": happened,
        "reservation": {
            "id": reservation.pk,
            "restaurant_id": reservation.restaurant_id,
            "table_id": reservation.table_id,
            "table": reservation.table.name,
            "party_size": reservation.party_size,
            "status": reservation.status,
            "status_label": reservation.get_status_display(),
            "guest_name": reservation.guest_name,
            "guest_phone": phone,
            "notes": reservation.notes,
            "code": reservation.code,
            "channel": reservation.channel,
            "starts_at": reservation.starts_at.isoformat(),
            "ends_at": reservation.ends_at.isoformat(),
            "date": starts.date().isoformat(),
            "start_time": hours.say_time(starts, r.language),
            "end_time": hours.say_time(ends, r.language),
            "updated_at": reservation.updated_at.isoformat(),
        },
    }
