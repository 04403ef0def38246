"""No pickup slot takes more orders than the kitchen allows and no two orders of a day share a number, however
many calls place at once: the placements race in threads, each on its own connection to PostgreSQL, released
together; and of kitchen steps taken at once (two staff, or staff and the diner), one wins. (On SQLite writers are
serialised by the database's write lock; tests/test_orders.py and tests/test_kitchen.py cover the rules there, one
write after another.)"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from orders.models import Order
from orders.services import OrderRefused, order_advance, order_cancel, order_place, order_read
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


def at_once(*steps) -> list:
    """Run each step (a no-argument callable) from its own thread and connection, released together: what each
    returned or raised."""
    start = threading.Barrier(len(steps))
    results: list = [None] * len(steps)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = steps[i]()
        except Exception as error:  # noqa: BLE001 (an OrderRefused is an answer; anything else fails below)
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if not isinstance(r, (Order, OrderRefused))], results
    return results


def test_of_kitchen_steps_taken_at_once_one_wins_and_a_cancel_is_never_lost(clock):
    restaurant = make_takeout()
    orders = [order_place(order=d, version=order_read(order=d).version)
              for d in [ready(restaurant, rome_today(clock, 13, 30), name=f"Diner {n}") for n in range(3)]]  # fmt: skip
    twice, accept_or_cancel, diner_or_kitchen = orders

    both_accept = at_once(*[lambda: order_advance(order=twice, to="accepted")] * 4)
    accept_vs_cancel = at_once(
        lambda: order_advance(order=accept_or_cancel, to="accepted"),
        lambda: order_cancel(order=accept_or_cancel, reason="Out of rice", by_staff=True),
    )
    diner_vs_kitchen = at_once(
        lambda: order_cancel(order=diner_or_kitchen), lambda: order_advance(order=diner_or_kitchen, to="accepted")
    )

    for results in (both_accept, diner_vs_kitchen):
        assert sum(isinstance(r, Order) for r in results) == 1, results
    assert Order.objects.get(pk=twice.pk).status == "accepted"
    # Staff cancelling with a reason always ends the order: before the accept (rejected, and the accept is refused)
    # or after it (the accepted order is cancelled). Never an order left accepted with its cancel lost.
    accepted, cancelled = accept_vs_cancel
    final = Order.objects.get(pk=accept_or_cancel.pk)
    assert isinstance(cancelled, Order) and final.status == cancelled.status
    assert (final.status, isinstance(accepted, Order)) in {("rejected", False), ("cancelled", True)}
    assert final.cancel_reason == "Out of rice"
