"""No pickup slot takes more orders than the kitchen allows and no two orders of a day share a number, however
many calls place at once: the placements race in threads, each on its own connection to PostgreSQL, released
together. (On SQLite placements are serialised by the database's write lock; tests/test_orders.py covers the
cap there, one placement after another.)"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from orders.models import Order
from orders.services import OrderRefused, order_place, order_read
from tests.conftest import KIRITIMATI, pinned
from tests.test_orders import make_takeout, ready, rome_today

# Committed rows, seen by every connection; the rollback brings the seeded tags back. Wednesday 12:30 in Rome.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pinned(KIRITIMATI)]


@pytest.fixture(autouse=True)
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): SQLite serialises writers, placements cannot race")


def race(drafts: list[Order]) -> list[Order | OrderRefused]:
    """Place every draft (as read back) from its own thread and connection, all released at once."""
    versions = [order_read(order=order).version for order in drafts]
    start = threading.Barrier(len(drafts))
    results: list = [None] * len(drafts)

    def caller(i: int) -> None:
        try:
            start.wait()
            results[i] = order_place(order=drafts[i], version=versions[i])
        except Exception as error:  # noqa: BLE001 (an OrderRefused is an answer; anything else fails below)
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(drafts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if not isinstance(r, (Order, OrderRefused))], results
    return results


def test_sixteen_callers_for_a_slot_of_three(clock):
    restaurant = make_takeout(orders_per_slot=3)
    slot = rome_today(clock, 13, 30)
    drafts = [ready(restaurant, slot, name=f"Caller {n}") for n in range(16)]

    results = race(drafts)

    placed = [r for r in results if isinstance(r, Order)]
    assert len(placed) == 3
    assert {r.sentence for r in results if isinstance(r, OrderRefused)} == {
        "We are fully booked for pickup at 13:30 today. We can have it ready today at 13:00, 13:15 or 13:45."
    }
    assert Order.objects.holding_slots().filter(pickup_at=slot).count() == 3
    assert Order.objects.filter(status="draft").count() == 13
    assert sorted(order.number for order in placed) == [101, 102, 103]


def test_forty_callers_over_four_slots_overbook_none_and_share_no_number(clock):
    restaurant = make_takeout(orders_per_slot=6)
    slots = [rome_today(clock, 13, minute) for minute in (15, 30, 45)] + [rome_today(clock, 14)]
    drafts = [ready(restaurant, slots[n % 4], name=f"Caller {n}") for n in range(40)]

    results = race(drafts)

    held = Counter(Order.objects.holding_slots().values_list("pickup_at", flat=True))
    assert sorted(held.values()) == [6, 6, 6, 6]
    numbers = list(Order.objects.exclude(number=None).values_list("number", flat=True))
    assert sorted(numbers) == list(range(101, 125))
    assert sum(isinstance(r, Order) for r in results) == 24
