"""The reservation book as guests and staff notice it: which times a party can book (opening hours, notice, horizon,
grid, last seating, free tables), the nearest times offered instead, a booking's table, length and code, changes,
cancellations, finding a booking again, and staff's steps on the floor; each bad input refused with a sentence and
nothing stored.

Trattoria Test (tests.conftest.make_restaurant) takes reservations here, in Europe/Rome: lunch 12:00-14:30 and
dinner 19:00-23:00 Tuesday to Sunday (to 01:30 Friday and Saturday), closed Monday. Booked 60 minutes ahead at
least, up to 60 days, every 15 minutes, the last table 60 minutes before closing; a table is held 90 minutes for up
to 4 people, 120 above. Its floor: T1 and T2 seat 2, T3 and T4 seat 2-4, T6 seats 4-6.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction

from dispatch.models import Call
from reservations.availability import Availability
from reservations.models import CODE_ALPHABET, Reservation, Table
from reservations.services import (
    BookingRefused,
    reservation_book,
    reservation_cancel,
    reservation_change,
    reservation_find,
    reservation_move,
    reservation_step,
    walk_in,
)  # fmt: skip
from restaurants.hours import wall_clock
from restaurants.models import Restaurant, ServicePeriod, SpecialDay
from tests.conftest import KIRITIMATI, ROME, Clock, make_restaurant, pinned

pytestmark = pytest.mark.django_db

SAT_LATE = Clock(  # 23:30 on Saturday in Rome: the late dinner runs to 01:30
    "sat-2330-rome-late-dinner", dt.datetime(2026, 1, 17, 22, 30, tzinfo=dt.UTC), dt.datetime(2026, 1, 17, 23, 30),
    "Open now, until 01:30", "Open now (Saturday 2026-01-17, 23:30), until 01:30.",
)  # fmt: skip


def make_bookable(**overrides) -> Restaurant:
    """Trattoria Test taking reservations, with its floor (see the module docstring)."""
    restaurant = make_restaurant(**{"takes_reservations": True, **overrides})
    for name, low, high in [("T1", 1, 2), ("T2", 1, 2), ("T3", 2, 4), ("T4", 2, 4), ("T6", 4, 6)]:
        Table.objects.create(restaurant=restaurant, name=name, min_seats=low, max_seats=high)
    return restaurant


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_bookable()


def evening(clock: Clock, days: int = 2, hour: int = 20, minute: int = 0) -> dt.datetime:
    """`hour`:`minute` in Rome on the first day at least `days` days ahead that is not a Monday."""
    day = clock.today + dt.timedelta(days=days)
    if day.weekday() == 0:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), ROME)


def book(restaurant: Restaurant, at: dt.datetime, party: int = 4, name: str = "Anna", **fields) -> Reservation:
    return reservation_book(
        restaurant=restaurant, starts_at=at, party_size=party, guest_name=name, guest_phone="+39 333 123 4567",
        **fields,
    )  # fmt: skip


def refusal(action, **kwargs) -> str:
    with pytest.raises(BookingRefused) as refused:
        action(**kwargs)
    return refused.value.sentence


def local(at: dt.datetime) -> str:
    return at.astimezone(ROME).strftime("%a %H:%M")


# --- Booking ------------------------------------------------------------------------------------------------------


@pinned(KIRITIMATI)
class TestBooking:
    def test_a_party_gets_the_smallest_table_that_seats_it_for_its_dining_time_and_a_code(self, clock, trattoria):
        at = evening(clock)

        two, four, five = book(trattoria, at, 2), book(trattoria, at, 4), book(trattoria, at, 5)

        assert [r.table.name for r in (two, four, five)] == ["T1", "T3", "T6"]
        assert [r.ends_at - r.starts_at for r in (two, four, five)] == [dt.timedelta(minutes=m) for m in (90, 90, 120)]
        assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{6}}", r.code) for r in (two, four, five))
        assert len({r.code for r in (two, four, five)}) == 3
        assert (four.guest_phone, four.status, four.starts_at) == ("+393331234567", "booked", at)

    def test_a_full_time_is_refused_with_the_nearest_times_that_day_and_the_same_time_later(self, clock, trattoria):
        at = evening(clock)
        for name in ("A", "B", "C"):  # T3, T4, T6: every table that seats 4
            book(trattoria, at, 4, name)

        with pytest.raises(BookingRefused) as refused:
            book(trattoria, at, 4)

        day = at.astimezone(ROME)
        assert refused.value.sentence.startswith(f"We are fully booked at 20:00 on {day:%A} for 4. We have a table")
        # Held 90 minutes from 20:00: a table for 4 is free that day up to lunch's last seating, or from 21:30.
        offered = [local(t) for t in refused.value.times]
        assert offered[:4] == [f"{day:%a} {hm}" for hm in ("13:15", "13:30", "21:30", "21:45")]
        assert all(t.astimezone(ROME).time() == dt.time(20) for t in refused.value.times[4:])
        assert Reservation.objects.count() == 3

    def test_an_inactive_table_is_not_booked_even_between_the_check_and_the_booking(self, clock, trattoria):
        at = evening(clock)
        book(trattoria, at, 6, "Big party")  # T6
        book(trattoria, at, 4, "Anna")  # T3
        checked = Availability(trattoria, clock.at, 4).refusal(at)
        Table.objects.filter(name="T4").update(is_active=False)  # staff take T4 away meanwhile

        sentence = refusal(book, restaurant=trattoria, at=at, party=4, name="Bruno")

        assert checked == ""
        assert sentence.startswith(f"We are fully booked at 20:00 on {at.astimezone(ROME):%A} for 4.")

    def test_a_second_booking_on_the_same_call_is_refused(self, clock, trattoria):
        call = Call.objects.create(restaurant=trattoria, room_name="r", participant_identity="diner-1")
        book(trattoria, evening(clock), call=call)

        sentence = refusal(book, restaurant=trattoria, at=evening(clock, hour=21), call=call)

        assert sentence.startswith("A table is already booked on this call")
        assert Reservation.objects.count() == 1

    def test_a_restaurant_that_takes_no_reservations_says_so(self, clock):
        restaurant = make_bookable(takes_reservations=False)

        assert refusal(book, restaurant=restaurant, at=evening(clock)) == (
            "Sorry, Trattoria Test does not take table reservations."
        )


@pinned(KIRITIMATI)
class TestBadInput:
    @pytest.mark.parametrize(
        "party, sentence",
        [
            (0, "How many people will there be?"),
            (-2, "How many people will there be?"),
            ("a few", "How many people will there be?"),
            (2.5, "How many people will there be?"),
            (True, "How many people will there be?"),
            (9, "For more than 8 people, please talk to the staff: they will arrange it."),
            (500, "For more than 8 people, please talk to the staff: they will arrange it."),
        ],
        ids=["0", "-2", "a-few", "2.5", "true", "9", "500"],
    )
    def test_a_party_size_outside_1_to_the_largest(self, clock, trattoria, party, sentence):
        assert refusal(book, restaurant=trattoria, at=evening(clock), party=party) == sentence
        assert not Reservation.objects.exists()

    @pytest.mark.parametrize(
        "when, sentence",
        [
            (lambda c: c.at - dt.timedelta(days=1), "That time has already passed."),
            (lambda c: evening(c, days=61), "We take bookings up to 60 days ahead."),
            (lambda c: evening(c, hour=17), "We are closed at 17:00 on {day}."),
            (lambda c: evening(c, days=6, hour=22, minute=15), "The last table is at 22:00 on {day}."),
            (lambda c: c.at + dt.timedelta(minutes=30), "Tables are booked at least 1 hour ahead."),
            (lambda c: evening(c, hour=20, minute=10), "Tables are booked every 15 minutes, on the quarter hour."),
        ],
        ids=["past", "beyond-horizon", "outside-hours", "after-last-seating", "inside-notice", "off-grid"],
    )
    def test_a_time_that_is_not_possible_says_why_and_offers_others(self, clock, trattoria, when, sentence):
        at = when(clock)

        with pytest.raises(BookingRefused) as refused:
            book(trattoria, at)

        day = at.astimezone(ROME).strftime("%A")
        assert refused.value.sentence.startswith(sentence.format(day=day))
        assert not Reservation.objects.exists()

    def test_a_closing_special_day_is_named(self, clock, trattoria):
        at = evening(clock, days=3)
        SpecialDay.objects.create(restaurant=trattoria, date=at.astimezone(ROME).date(), is_closed=True, note="Staff party")

        assert refusal(book, restaurant=trattoria, at=at).startswith(f"We are closed on {at.astimezone(ROME):%A} (Staff party).")

    @pytest.mark.parametrize(
        "fields, sentence",
        [
            ({"name": "x" * 10_000}, "That name is too long: at most 80 characters."),
            ({"name": "   "}, "I need a name for the booking."),
            ({"notes": "n" * 10_000}, "A note for the booking can be at most 300 characters: a shorter one?"),
        ],
        ids=["10k-name", "blank-name", "10k-note"],
    )
    def test_a_name_or_note_out_of_bounds(self, clock, trattoria, fields, sentence):
        assert refusal(book, restaurant=trattoria, at=evening(clock), **fields) == sentence
        assert not Reservation.objects.exists()


# --- Time zones and DST ------------------------------------------------------------------------------------------


def test_a_0230_request_on_the_night_the_clocks_go_forward_is_answered(db):
    """02:30 does not exist in Rome on 29 March 2026: the wall clock jumps from 02:00 to 03:00, so it reads as
    03:00 (hours.wall_clock, as the agent's tools read a local time), after the late dinner closed."""
    restaurant = make_bookable()
    at = wall_clock(dt.date(2026, 3, 29), dt.time(2, 30), ROME)

    availability = Availability(restaurant, dt.datetime(2026, 3, 25, 12, tzinfo=dt.UTC), 2)

    assert availability.refusal(at) == "We are closed at 03:00 on Sunday."


def test_a_dinner_across_the_night_the_clocks_go_back_keeps_its_real_length(db):
    restaurant = make_bookable(dining_minutes=120)
    ServicePeriod.objects.filter(restaurant=restaurant, weekday=5, label="Dinner").update(closes=dt.time(4))
    starts = dt.datetime(2026, 10, 25, 1, 0, tzinfo=ROME)  # Saturday's dinner, 01:00 summer time

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.utils.timezone.now", lambda: dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC))
        reservation = book(restaurant, starts, 2)

    assert reservation.ends_at - reservation.starts_at == dt.timedelta(hours=2)
    assert reservation.ends_at.astimezone(ROME).strftime("%H:%M %Z") == "02:00 CET"  # the clock read 02:00 twice


@pinned(SAT_LATE)
def test_a_table_after_midnight_belongs_to_the_late_dinner(clock, trattoria):
    at = dt.datetime(2026, 1, 25, 0, 15, tzinfo=ROME)  # Sunday 00:15, in Saturday's dinner to 01:30

    reservation = book(trattoria, at, 2)

    assert local(reservation.starts_at) == "Sun 00:15"


# --- Changing, cancelling, finding ----------------------------------------------------------------------------------


@pinned(KIRITIMATI)
class TestChanges:
    def test_a_change_keeps_the_table_when_it_can_and_a_bigger_party_moves(self, clock, trattoria):
        reservation = book(trattoria, evening(clock), 4)

        later = reservation_change(reservation=reservation, starts_at=evening(clock, hour=21))
        bigger = reservation_change(reservation=reservation, party_size=6, notes="A birthday")

        assert (later.table.name, local(later.starts_at)) == ("T3", local(evening(clock, hour=21)))
        assert (bigger.table.name, bigger.party_size, bigger.notes) == ("T6", 6, "A birthday")
        assert bigger.ends_at - bigger.starts_at == dt.timedelta(minutes=120)
        assert bigger.code == reservation.code

    def test_a_change_to_a_full_time_is_refused_and_nothing_changes(self, clock, trattoria):
        at, full = evening(clock, hour=19), evening(clock, hour=21)
        for name in ("A", "B", "C"):
            book(trattoria, full, 4, name)
        reservation = book(trattoria, at, 4, "Anna")

        sentence = refusal(reservation_change, reservation=reservation, starts_at=full)

        assert sentence.startswith("We are fully booked at 21:00")
        reservation.refresh_from_db()
        assert reservation.starts_at == at

    def test_the_guest_cancels_once_and_the_table_is_free_again(self, clock, trattoria):
        at = evening(clock)
        reservations = [book(trattoria, at, 4, name) for name in ("A", "B", "C")]

        cancelled = reservation_cancel(reservation=reservations[0])
        again = refusal(reservation_cancel, reservation=reservations[0])
        rebooked = book(trattoria, at, 4, "D")

        assert cancelled.status == "cancelled" and again == "That booking is already cancelled."
        assert rebooked.table == reservations[0].table

    def test_it_finds_upcoming_bookings_by_phone_or_by_name_and_code(self, clock, trattoria):
        reservation = book(trattoria, evening(clock), 2, "Zoë Rossi")
        spaced = " ".join(reservation.code.lower())

        assert reservation_find(restaurant=trattoria, phone="+39 333 123 4567") == [reservation]
        assert reservation_find(restaurant=trattoria, name="zoe rossi", code=spaced) == [reservation]
        assert reservation_find(restaurant=trattoria, name="Zoë Rossi", code="AAAAAA") == []
        assert reservation_find(restaurant=trattoria, name="Someone Else", code=reservation.code) == []
        assert reservation_find(restaurant=trattoria, phone="+39 347 000 0000") == []
        assert refusal(reservation_find, restaurant=trattoria, name="Zoë Rossi") == (
            "To find a booking I need the name it is under and its code."
        )


# --- Staff on the floor --------------------------------------------------------------------------------------------


@pinned(KIRITIMATI)
class TestFloor:
    def test_seated_then_completed_and_a_second_click_is_refused(self, clock, trattoria):
        reservation = book(trattoria, evening(clock), 2, "Anna")

        seated = reservation_step(reservation=reservation, to="seated")
        twice = refusal(reservation_step, reservation=reservation, to="seated")
        done = reservation_step(reservation=reservation, to="completed")
        late = refusal(reservation_step, reservation=reservation, to="no_show")

        assert (seated.status, done.status) == ("seated", "completed")
        assert twice == "Anna's booking is already seated."
        assert late == "Anna's booking is completed: it cannot be marked no-show."

    def test_moving_onto_an_overlapping_booking_is_refused(self, clock, trattoria):
        at = evening(clock)
        anna, bruno = book(trattoria, at, 4, "Anna"), book(trattoria, at + dt.timedelta(minutes=60), 4, "Bruno")
        t4, t6, t1 = (Table.objects.get(name=n) for n in ("T4", "T6", "T1"))
        assert (anna.table.name, bruno.table.name) == ("T3", "T4")

        onto_bruno = refusal(reservation_move, reservation=anna, table=t4)
        too_small = refusal(reservation_move, reservation=anna, table=t1)
        moved = reservation_move(reservation=anna, table=t6)

        assert onto_bruno == "T4 is booked then (Bruno, 21:00)."
        assert too_small == "T1 seats 2: the party is 4."
        assert moved.table == t6

    def test_a_walk_in_is_seated_at_once_where_nothing_overlaps(self, clock, trattoria):
        at = evening(clock)
        book(trattoria, at, 2, "Anna")  # T1 from 20:00
        t1, t2 = Table.objects.get(name="T1"), Table.objects.get(name="T2")

        refused = refusal(walk_in, table=t1, party_size=2, starts_at=at - dt.timedelta(minutes=30))
        seated = walk_in(table=t2, party_size=2, starts_at=at - dt.timedelta(minutes=30))

        assert refused == "T1 is booked then."
        assert (seated.status, seated.guest_name, seated.table) == ("seated", "Walk-in", t2)


@pinned(KIRITIMATI)
def test_the_day_view_hears_of_a_change_only_once_committed(clock, trattoria, django_capture_on_commit_callbacks):
    from reservations.events import reservation_changed

    told = []

    def receiver(reservation_id, happened, **kwargs):
        told.append(happened)

    reservation_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as committed:
            reservation = book(trattoria, evening(clock), 2)
        with django_capture_on_commit_callbacks(execute=True) as rolled_back:
            with transaction.atomic():
                reservation_cancel(reservation=reservation)
                transaction.set_rollback(True)
    finally:
        reservation_changed.disconnect(receiver)

    # Receivers hear each change in its transaction; the day view's publication waits for the commit.
    assert told == ["made", "cancelled"]
    assert (len(committed), len(rolled_back)) == (1, 0)
    assert Reservation.objects.get().status == "booked"


@pinned(KIRITIMATI)
def test_staff_are_told_why_a_seated_party_cannot_be_cancelled_and_walk_ins_say_so(clock, trattoria):
    reservation = book(trattoria, evening(clock), 2, "Anna")
    reservation_step(reservation=reservation, to="seated")

    sentence = refusal(reservation_cancel, reservation=reservation, by_staff=True)
    seated = walk_in(table=Table.objects.get(name="T2"), party_size=2, starts_at=evening(clock))

    assert sentence == "Anna's booking is seated: it cannot be cancelled."
    assert (seated.channel, seated.get_channel_display()) == ("staff", "Staff (walk-in)")
