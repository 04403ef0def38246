"""No table is ever booked twice, however many calls book at once: on PostgreSQL the database itself refuses two
live reservations of a table that overlap (the exclusion constraint, even for a row written behind the app's
back), and 20 callers released together for the last free table give exactly one reservation and 19 clear
answers (without deadlocks: bookings of one restaurant wait for each other, reservations.services._hold_book). (On SQLite bookings are serialised by the database's write lock; tests/test_reservations.py covers the
rules there.)"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from reservations.models import Reservation, Table
from reservations.services import BookingRefused, reservation_book
from tests.conftest import KIRITIMATI, pinned
from tests.test_reservations import evening, make_bookable

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pinned(KIRITIMATI)]


@pytest.fixture(autouse=True)
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): the exclusion constraint is PostgreSQL's")


def test_the_database_refuses_an_overlap_written_behind_the_apps_back(clock):
    restaurant = make_bookable()
    table = Table.objects.get(restaurant=restaurant, name="T3")
    at = evening(clock)
    hour = dt.timedelta(hours=1)

    def write(starts: dt.datetime, code: str, **fields) -> Reservation:
        return Reservation.objects.create(
            restaurant=restaurant, table=table, party_size=2, guest_name="A", starts_at=starts, ends_at=starts + hour,
            code=code, **fields,
        )  # fmt: skip

    write(at, "AAAAAA")
    with pytest.raises(IntegrityError, match="reservation_no_overlap_per_table"), transaction.atomic():
        write(at + hour / 2, "CCCCCC")
    # Back to back is no overlap, and a cancelled reservation holds nothing.
    write(at + hour, "DDDDDD")
    write(at, "EEEEEE", status="cancelled")
    assert Reservation.objects.filter(table=table).count() == 3


def test_twenty_callers_for_the_last_free_table_get_one_booking_and_nineteen_answers(clock):
    restaurant = make_bookable()
    Table.objects.filter(restaurant=restaurant).exclude(name="T6").update(is_active=False)  # one table left
    at = evening(clock)
    start = threading.Barrier(20)
    results: list = [None] * 20

    def caller(i: int) -> None:
        try:
            start.wait()
            results[i] = reservation_book(
                restaurant=restaurant, starts_at=at, party_size=5, guest_name=f"Caller {i}"
            )
        except Exception as error:  # noqa: BLE001 (a BookingRefused is an answer; anything else fails below)
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not [r for r in results if not isinstance(r, (Reservation, BookingRefused))], results
    booked = [r for r in results if isinstance(r, Reservation)]
    answers = {r.sentence.split(". ")[0] for r in results if isinstance(r, BookingRefused)}
    assert len(booked) == 1
    day = at.strftime("%A")
    assert answers <= {
        f"We are fully booked at 20:00 on {day} for 5",
        f"That time was just taken: we are fully booked at 20:00 on {day} for 5",
    }
    assert Reservation.objects.filter(restaurant=restaurant).count() == 1
