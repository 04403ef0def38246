"""The rules of the reservation book, checked in code against the database at the moment they apply.

`reservation_book` books a table for a party (the agent, on a call); `reservation_find` finds a guest's upcoming
reservations (by the caller's number, or by name and code); `reservation_change` moves one to another time or
party size; `reservation_cancel` cancels it. Staff run the floor with `reservation_step` (seated, no-show,
completed), `reservation_move` (another table) and `walk_in`. Every function takes keyword arguments only and
either does what it says or raises BookingRefused, whose `sentence` is what the guest (or staff) hears: nothing is
stored half-made.

No double booking: a booking is made in one transaction that takes the restaurant's book (`_hold_book`: a row lock
on the restaurant, FOR NO KEY UPDATE, so plain reads and foreign-key checks go on), checks availability
(reservations.availability) and inserts. Bookings, changes, moves and walk-ins of one restaurant so run one after
another, each seeing what the one before committed. Without that lock, concurrent inserts checked by the exclusion
constraint wait on each other and PostgreSQL breaks the circle with "deadlock detected" (bench/reservations.py
saw it with 20 callers). The exclusion constraint stays as the last word against any other writer: an overlap it
refuses is answered as "that time was just taken", with the nearest times. On SQLite the transaction holds the
database's write lock from its start (IMMEDIATE), so bookings run one at a time there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from restaurants import phones
from restaurants.models import MAX_PARTY_SIZE, Restaurant, fold_name, one_line

from .availability import Availability
from .events import announce
from .models import LIVE, MAX_GUEST_NAME_LENGTH, MAX_NOTES_LENGTH, Reservation, ReservationStatus, Table, new_code

NO_OVERLAP = "reservation_no_overlap_per_table"
UNIQUE_CODE = "reservation_code_unique_per_restaurant"
# How many upcoming reservations a search answers with.
MAX_FOUND = 5


class BookingRefused(Exception):
    """A rule said no. `sentence` is what the guest hears; `times` are the start times offered instead (aware,
    UTC; empty unless the refusal is about the time)."""

    def __init__(self, sentence: str, *, times: Iterable[dt.datetime] = ()):
        super().__init__(sentence)
        self.sentence = sentence
        self.times = tuple(times)


# --- Booking ----------------------------------------------------------------------------------------------


def reservation_book(
    *,
    restaurant: Restaurant,
    starts_at: dt.datetime,
    party_size: int,
    guest_name: str,
    guest_phone: str = "",
    notes: str = "",
    channel: str = Reservation.Channel.WEB,
    call=None,
) -> Reservation:
    """Book a table for `party_size` from aware `starts_at` for the restaurant's dining time: the smallest free
    active table that seats the party (never a particular one). `guest_phone` is read as the restaurant's
    country's when national and stored in E.164; `notes` at most MAX_NOTES_LENGTH characters.

    Refuses a restaurant that takes no reservations, a party outside 1 to `max_party_size` (a larger one is asked
    to talk to the staff), a missing or overlong name, an overlong note, a phone number that is not one, a second
    booking on the same call (change that one instead) and a time that is not possible (saying why, with the
    nearest possible times). Returns the reservation, with its code."""
    _refuse_unless_booking(restaurant)
    party_size = _party(party_size, restaurant)
    guest_name, notes, guest_phone = _name(guest_name), _notes(notes), _phone(guest_phone, restaurant)
    starts_at = _aware(starts_at)
    with transaction.atomic():
        _hold_book(restaurant.pk)
        if call is not None and Reservation.objects.filter(call=call, status__in=LIVE).exists():
            raise BookingRefused(
                "A table is already booked on this call: I can change that booking, or cancel it, instead."
            )
        availability = Availability(restaurant, timezone.now(), party_size)
        _refuse_time(availability, starts_at)
        fields = {
            "restaurant": restaurant, "party_size": party_size, "starts_at": starts_at,
            "ends_at": starts_at + availability.dining, "guest_name": guest_name, "guest_phone": guest_phone,
            "notes": notes, "channel": channel, "call": call,
        }  # fmt: skip
        reservation = _insert(availability, starts_at, fields)
        if reservation is None:  # every free table was taken by a booking made meanwhile (PostgreSQL)
            _refuse_time(Availability(restaurant, timezone.now(), party_size), starts_at, taken=True)
        _announce(reservation, "made")
    return reservation


def _insert(availability: Availability, starts_at: dt.datetime, fields: dict) -> Reservation | None:
    """Insert the reservation at the first free table the database accepts; None when none does."""
    for table in [t for t in availability.tables if availability.is_free(t, starts_at)]:
        for _ in range(3):  # a new code when one is already taken (1 in 148 million)
            code = new_code()
            try:
                with transaction.atomic():
                    return Reservation.objects.create(table=table, code=code, **fields)
            except IntegrityError as error:
                violated = _constraint(error)
                if violated == NO_OVERLAP:
                    break  # a concurrent booking took this table: the next one
                if violated != UNIQUE_CODE:
                    raise
    return None


def _constraint(error: IntegrityError) -> str:
    """The name of the constraint an IntegrityError violated (PostgreSQL says it; SQLite names the columns)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None and diag.constraint_name:
        return diag.constraint_name
    return UNIQUE_CODE if "reservation.code" in str(error) else str(error)


def _refuse_time(availability: Availability, at: dt.datetime, *, taken: bool = False) -> None:
    reason = availability.refusal(at)
    if taken and not reason:  # the snapshot read before the insert still had the table
        said, party = availability.say(at), availability.party_size
        reason = f"That time was just taken: we are fully booked at {said} for {party}."
    if reason:
        before_and_after, later = availability.alternatives(at)
        raise BookingRefused(f"{reason} {availability.offer(at)}", times=before_and_after + later)


# --- Finding, changing, cancelling -------------------------------------------------------------------------


def reservation_find(
    *, restaurant: Restaurant, phone: str = "", name: str = "", code: str = ""
) -> list[Reservation]:
    """The guest's upcoming booked reservations, soonest first (at most MAX_FOUND): by `phone` (on a phone call,
    the caller's number) or by `name` and `code` together (on the web; the code is read without spaces and in
    any case, and matched exactly; the name accents and case aside). Raises BookingRefused when neither is
    given; an empty list when nothing matches (the guest hears the same for a wrong code as for a wrong name)."""
    upcoming = Reservation.objects.filter(
        restaurant=restaurant, status=ReservationStatus.BOOKED, ends_at__gt=timezone.now()
    ).select_related("table")
    if phone:
        number = phones.to_e164(str(phone), restaurant.country)
        if number is None:
            return []
        return list(upcoming.filter(guest_phone=number)[:MAX_FOUND])
    code = "".join(str(code).split()).upper()[:20]
    if not (name and code):
        raise BookingRefused("To find a booking I need the name it is under and its code.")
    wanted = fold_name(str(name)[:MAX_GUEST_NAME_LENGTH])
    return [r for r in upcoming.filter(code=code)[:MAX_FOUND] if fold_name(r.guest_name) == wanted]


def reservation_change(
    *, reservation: Reservation, starts_at: dt.datetime | None = None, party_size: int | None = None,
    notes: str | None = None,
) -> Reservation:  # fmt: skip
    """Move a booked reservation to another start time and/or party size (each None stays), and/or replace its
    notes. Keeps its table when that still seats the party and is free, else takes the smallest free one. Refuses
    what reservation_book refuses (the reservation does not stand in its own way), and a reservation that is no
    longer booked (cancelled, seated, past)."""
    with transaction.atomic():
        _hold_book(reservation.restaurant_id)
        current = Reservation.objects.select_for_update().select_related("restaurant").get(pk=reservation.pk)
        restaurant = current.restaurant
        if current.status != ReservationStatus.BOOKED or current.ends_at <= timezone.now():
            raise BookingRefused(f"That booking is {current.get_status_display().lower()}: it cannot be changed.")
        new_party = current.party_size if party_size is None else _party(party_size, restaurant)
        new_start = current.starts_at if starts_at is None else _aware(starts_at)
        new_notes = current.notes if notes is None else _notes(notes)
        availability = Availability(restaurant, timezone.now(), new_party, ignore=current)
        if (new_start, new_party) != (current.starts_at, current.party_size):
            _refuse_time(availability, new_start)
        tables = [t for t in availability.tables if availability.is_free(t, new_start)]
        tables.sort(key=lambda t: t.pk != current.table_id)  # its own table first
        for table in tables:
            try:
                with transaction.atomic():
                    Reservation.objects.filter(pk=current.pk).update(
                        table=table, party_size=new_party, starts_at=new_start,
                        ends_at=new_start + availability.dining, notes=new_notes, updated_at=timezone.now(),
                    )  # fmt: skip
                break
            except IntegrityError as error:
                if _constraint(error) != NO_OVERLAP:
                    raise
        else:
            _refuse_time(Availability(restaurant, timezone.now(), new_party, ignore=current), new_start, taken=True)
        current.refresh_from_db()
        _announce(current, "changed")
    return current


def reservation_cancel(*, reservation: Reservation, by_staff: bool = False) -> Reservation:
    """Cancel a booked reservation (a single conditional update: of two cancels, or a cancel and staff seating
    the party, one wins). The guest may cancel one that has not started; staff any booked one. Raises
    BookingRefused when it is no longer booked."""
    now = timezone.now()
    live = Reservation.objects.filter(pk=reservation.pk, status=ReservationStatus.BOOKED)
    if not by_staff:
        live = live.filter(starts_at__gt=now)
    with transaction.atomic():
        won = live.update(status=ReservationStatus.CANCELLED, updated_at=now)
        current = Reservation.objects.get(pk=reservation.pk)
        if won:
            _announce(current, "cancelled")
    if not won:
        if current.status == ReservationStatus.CANCELLED:
            raise BookingRefused("That booking is already cancelled.")
        status = current.get_status_display().lower()
        if by_staff:  # staff cancel what is booked; a seated party is completed, a no-show marked so
            raise BookingRefused(f"{current.guest_name}'s booking is {status}: it cannot be cancelled.")
        raise BookingRefused(
            f"That booking is {status} now: please speak to the staff."
            if current.status != ReservationStatus.BOOKED
            else "That booking has already started: please speak to the staff."
        )
    return current


# --- Staff on the floor ------------------------------------------------------------------------------------

# Staff's steps: each status, and the one it is reached from.
FLOOR_STEPS = {
    ReservationStatus.SEATED: ReservationStatus.BOOKED,
    ReservationStatus.NO_SHOW: ReservationStatus.BOOKED,
    ReservationStatus.COMPLETED: ReservationStatus.SEATED,
}


def reservation_step(*, reservation: Reservation, to: str) -> Reservation:
    """Staff mark a reservation seated or a no-show (from booked) or completed (from seated): a single
    conditional update, so of two staff clicking at once one wins. Raises BookingRefused (a sentence for staff)
    when it is no longer in the status the step starts from, ValueError for a `to` that is not a step."""
    if to not in FLOOR_STEPS:
        raise ValueError(f"not a floor step: {to!r}")
    with transaction.atomic():
        won = Reservation.objects.filter(pk=reservation.pk, status=FLOOR_STEPS[to]).update(
            status=to, updated_at=timezone.now()
        )
        current = Reservation.objects.get(pk=reservation.pk)
        if won:
            _announce(current, to)
    if not won:
        now = current.get_status_display().lower()
        raise BookingRefused(
            f"{current.guest_name}'s booking is already {now}."
            if current.status == to
            else f"{current.guest_name}'s booking is {now}: it cannot be marked {ReservationStatus(to).label.lower()}."
        )
    return current


def reservation_move(*, reservation: Reservation, table: Table) -> Reservation:
    """Staff move a live reservation to another `table` of its restaurant, for the same time. Refuses a table of
    another restaurant or an inactive one, one too small for the party, and one with a live reservation that
    overlaps (the database refuses that too, on PostgreSQL)."""
    with transaction.atomic():
        _hold_book(reservation.restaurant_id)
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status not in LIVE:
            raise BookingRefused(f"That booking is {current.get_status_display().lower()}: it cannot be moved.")
        if table.restaurant_id != current.restaurant_id or not table.is_active:
            raise BookingRefused("There is no such table.")
        if table.max_seats < current.party_size:
            raise BookingRefused(f"{table.name} seats {table.max_seats}: the party is {current.party_size}.")
        clash = (
            Reservation.objects.filter(
                table=table, status__in=LIVE, starts_at__lt=current.ends_at, ends_at__gt=current.starts_at
            )
            .exclude(pk=current.pk)
            .first()
        )
        if clash is None:
            try:
                with transaction.atomic():
                    Reservation.objects.filter(pk=current.pk).update(table=table, updated_at=timezone.now())
            except IntegrityError as error:
                if _constraint(error) != NO_OVERLAP:
                    raise
                clash = Reservation.objects.filter(table=table, status__in=LIVE).exclude(pk=current.pk).first()
        if clash is not None:
            local = clash.starts_at.astimezone(current.restaurant.tz)
            raise BookingRefused(f"{table.name} is booked then ({clash.guest_name}, {local:%H:%M}).")
        current.refresh_from_db()
        _announce(current, "moved")
    return current


def walk_in(
    *, table: Table, party_size: int, guest_name: str = "", starts_at: dt.datetime | None = None
) -> Reservation:
    """Staff seat a walk-in party at `table` from `starts_at` (default now) for the restaurant's dining time:
    seated at once, no notice or grid. Refuses a table too small, inactive, or with a live reservation that
    overlaps."""
    restaurant = table.restaurant
    party_size = _party(party_size, restaurant, staff=True)
    guest_name = _name(guest_name or "Walk-in")
    starts_at = _aware(starts_at or timezone.now())
    if not table.is_active:
        raise BookingRefused("There is no such table.")
    if table.max_seats < party_size:
        raise BookingRefused(f"{table.name} seats {table.max_seats}: the party is {party_size}.")
    ends_at = starts_at + restaurant.dining_time(party_size)
    with transaction.atomic():
        _hold_book(restaurant.pk)
        if Reservation.objects.filter(
            table=table, status__in=LIVE, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists():
            raise BookingRefused(f"{table.name} is booked then.")
        try:
            with transaction.atomic():
                reservation = Reservation.objects.create(
                    restaurant=restaurant, table=table, party_size=party_size, starts_at=starts_at, ends_at=ends_at,
                    guest_name=guest_name, status=ReservationStatus.SEATED, channel=Reservation.Channel.STAFF,
                )  # fmt: skip
        except IntegrityError as error:
            if _constraint(error) != NO_OVERLAP:
                raise
            raise BookingRefused(f"{table.name} is booked then.") from None
        _announce(reservation, "made")
    return reservation


# --- Checks ------------------------------------------------------------------------------------------------


def _hold_book(restaurant_id: int) -> None:
    """In a write's transaction: wait for the restaurant's other bookings, changes, moves and walk-ins to end,
    and keep them waiting until this one ends (a FOR NO KEY UPDATE lock on the restaurant's row; SQLite's
    IMMEDIATE transaction already holds the whole database)."""
    Restaurant.objects.select_for_update(no_key=True).filter(pk=restaurant_id).values_list("pk", flat=True).get()


def _refuse_unless_booking(restaurant: Restaurant) -> None:
    if not (restaurant.takes_reservations and restaurant.is_active):
        raise BookingRefused(f"Sorry, {restaurant.name} does not take table reservations.")


def _party(party_size, restaurant: Restaurant, *, staff: bool = False) -> int:
    if isinstance(party_size, bool) or not isinstance(party_size, int) or party_size < 1:
        raise BookingRefused("How many people will there be?")
    if party_size > restaurant.max_party_size and not staff:
        raise BookingRefused(
            f"For more than {restaurant.max_party_size} people, please talk to the staff: they will arrange it."
        )
    if party_size > MAX_PARTY_SIZE:
        raise BookingRefused(f"A table is for at most {MAX_PARTY_SIZE} people.")
    return party_size


def _name(name) -> str:
    name = one_line(name)
    if not name:
        raise BookingRefused("I need a name for the booking.")
    if len(name) > MAX_GUEST_NAME_LENGTH:
        raise BookingRefused(f"That name is too long: at most {MAX_GUEST_NAME_LENGTH} characters.")
    return name


def _notes(notes) -> str:
    notes = one_line(notes or "")
    if len(notes) > MAX_NOTES_LENGTH:
        raise BookingRefused(f"A note for the booking can be at most {MAX_NOTES_LENGTH} characters: a shorter one?")
    return notes


def _phone(phone, restaurant: Restaurant) -> str:
    text = str(phone or "").strip()
    if not text:
        return ""
    number = phones.to_e164(text, restaurant.country)
    if number is None:
        raise BookingRefused("That phone number does not look right: could you say it again with the country code?")
    return number


def _aware(at) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a start time must be an aware datetime")
    return at.astimezone(dt.UTC)


def _announce(reservation: Reservation, happened: str) -> None:
    announce(reservation, happened)
