"""Booking webhooks as a restaurant's receiver (a till bridge, an SMS service) and its staff notice them: each table
booking event (made, changed, moved, cancelled, and the floor's seated, no-show, completed) arrives at the same
address as the order events, signed the same way with the restaurant's secret (checked by `standardwebhooks`
itself), with the reservation as it was when the event happened; one booking's events arrive in the order they
happened, while another guest's booking is not held up behind them; a booking that is rolled back sends nothing,
and a restaurant without an address gets nothing recorded.

Deliveries run for real, as in tests/test_order_webhooks.py (whose receiver and worker are reused): the reservation
rules announce the event, orders.webhooks records it, and `db_worker` sends it to a local HTTP receiver. Trattoria
Test takes reservations as in tests/test_reservations.py; the clock is pinned at two of its moments (the issue's
Monday night in UTC, already Tuesday in Rome; and UTC+14, where the machine's date is ahead of Rome's) and stopped
there, so each event's timestamp is exact; `frozen.shift` moves it on through the backoff.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.contrib import admin
from django.db import IntegrityError, transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from orders.admin import WebhookDeliveryInline
from orders.models import WebhookDelivery
from orders.webhooks import LEASE, RETRY_DELAYS
from reservations.models import Reservation, Table
from reservations.services import reservation_cancel, reservation_change, reservation_move, reservation_step, walk_in
from restaurants.models import Restaurant
from tests.conftest import KIRITIMATI, MONDAY_NIGHT_UTC, make_restaurant, pinned
from tests.test_order_webhooks import attempts, listening, run_worker
from tests.test_reservations import book, evening, make_bookable
from tests.test_tenancy import staff_member

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pinned(MONDAY_NIGHT_UTC, KIRITIMATI)]

# Each clock's moment in UTC, and the evening two days on at 20:00 in Rome (tests.test_reservations.evening) as
# the receiver reads it: a table for 4 is held 90 minutes. Written by hand.
WHEN = {
    MONDAY_NIGHT_UTC.id: {
        "timestamp": "2026-06-08T22:30:00Z",
        "starts_at": "2026-06-11T18:00:00Z", "starts_at_local": "2026-06-11T20:00:00+02:00",
        "ends_at": "2026-06-11T19:30:00Z", "ends_at_local": "2026-06-11T21:30:00+02:00",
    },
    KIRITIMATI.id: {
        "timestamp": "2026-06-10T10:30:00Z",
        "starts_at": "2026-06-12T18:00:00Z", "starts_at_local": "2026-06-12T20:00:00+02:00",
        "ends_at": "2026-06-12T19:30:00Z", "ends_at_local": "2026-06-12T21:30:00+02:00",
    },
}  # fmt: skip


@pytest.fixture
def frozen(clock):
    """The pinned clock stopped (its zone kept); `frozen.shift(delta)` moves it on."""
    with time_machine.travel(clock.at, tick=False) as traveller:
        yield traveller


def bookable_with_receiver(answers: tuple[int, ...] = ()):
    """Trattoria Test taking reservations, with a receiver set up with its secret and its webhook URL pointing
    there. Returns (restaurant, receiver)."""
    restaurant = make_bookable()
    receiver = listening(restaurant, answers)
    Restaurant.objects.filter(pk=restaurant.pk).update(order_webhook_url=receiver.url)
    restaurant.refresh_from_db()
    return restaurant, receiver


def seen(receiver) -> list[tuple[str, str, str, str]]:
    """What the receiver got, in arrival order: type, guest, status and start (UTC)."""
    return [(p["type"], p["data"]["guest_name"], p["data"]["status"], p["data"]["starts_at"])
            for p in receiver.received]  # fmt: skip


class TestSigned:
    def test_a_booking_arrives_signed_with_the_table_the_party_and_the_times_in_utc_and_rome(self, clock, frozen):
        restaurant, receiver = bookable_with_receiver()

        reservation = book(restaurant, evening(clock), 4, "Anna Rossi", notes="Birthday, a cake at 21:00",
                           channel="phone")  # fmt: skip
        run_worker()
        receiver.stop()

        assert receiver.unverified == 0
        when = WHEN[clock.id]
        assert receiver.received == [{
            "type": "reservation.made",
            "timestamp": when["timestamp"],
            "data": {
                "id": reservation.pk,
                "code": reservation.code,
                "status": "booked",
                "restaurant": {"id": restaurant.pk, "name": "Trattoria Test"},
                "table": "T3",
                "party_size": 4,
                "starts_at": when["starts_at"],
                "starts_at_local": when["starts_at_local"],
                "ends_at": when["ends_at"],
                "ends_at_local": when["ends_at_local"],
                "guest_name": "Anna Rossi",
                "guest_phone": "+393331234567",
                "notes": "Birthday, a cake at 21:00",
                "channel": "phone",
            },
        }]  # fmt: skip
        [headers] = receiver.headers
        assert headers["webhook-id"].startswith("msg_")
        assert headers["webhook-timestamp"] == str(int(clock.at.timestamp()))
        delivery = WebhookDelivery.objects.get()
        assert (delivery.event_type, delivery.status, delivery.webhook_id) == ("reservation.made", "delivered",
                                                                               headers["webhook-id"])  # fmt: skip
        assert (delivery.reservation, delivery.order, delivery.restaurant) == (reservation, None, restaurant)
        assert attempts(delivery) == [(200, "")]

    def test_a_walk_in_and_the_floors_steps_arrive_too(self, clock, frozen):
        restaurant, receiver = bookable_with_receiver()
        anna = book(restaurant, evening(clock), 4, "Anna")  # T3
        reservation_move(reservation=anna, table=Table.objects.get(restaurant=restaurant, name="T4"))
        reservation_step(reservation=anna, to="seated")
        reservation_step(reservation=anna, to="completed")
        late = book(restaurant, evening(clock, hour=21), 2, "Bruno")
        reservation_step(reservation=late, to="no_show")
        walk_in(table=Table.objects.get(restaurant=restaurant, name="T6"), party_size=5)

        run_worker()
        receiver.stop()

        got = [(p["type"], p["data"]["guest_name"], p["data"]["table"], p["data"]["status"], p["data"]["guest_phone"])
               for p in receiver.received]  # fmt: skip
        assert got == [
            ("reservation.made", "Anna", "T3", "booked", "+393331234567"),
            ("reservation.moved", "Anna", "T4", "booked", "+393331234567"),
            ("reservation.seated", "Anna", "T4", "seated", "+393331234567"),
            ("reservation.completed", "Anna", "T4", "completed", "+393331234567"),
            ("reservation.made", "Bruno", "T1", "booked", "+393331234567"),
            ("reservation.no_show", "Bruno", "T1", "no_show", "+393331234567"),
            ("reservation.made", "Walk-in", "T6", "seated", None),  # no phone: null
        ]  # fmt: skip
        assert receiver.unverified == 0


class TestOrder:
    def test_a_change_and_a_cancellation_follow_the_booking_in_order_even_through_a_retry(self, clock, frozen, caplog):
        restaurant, receiver = bookable_with_receiver(answers=(500,))  # the till bridge fails once
        anna = book(restaurant, evening(clock), 4, "Anna")
        run_worker()  # "made": 500, retried in 5 s
        reservation_change(reservation=anna, starts_at=evening(clock, hour=21), party_size=2)
        reservation_cancel(reservation=anna)
        book(restaurant, evening(clock), 2, "Bruno")  # another guest's booking
        run_worker()  # Bruno's goes at once; Anna's change and cancellation wait behind her booking
        made, changed, cancelled, bruno = WebhookDelivery.objects.order_by("pk")
        assert [len(attempts(d)) for d in (made, changed, cancelled, bruno)] == [1, 0, 0, 1]

        frozen.shift(RETRY_DELAYS[0])
        run_worker()
        receiver.stop()

        when = WHEN[clock.id]
        nine = when["starts_at"].replace("T18:", "T19:")  # 21:00 in Rome
        assert seen(receiver) == [
            ("reservation.made", "Anna", "booked", when["starts_at"]),  # answered 500
            ("reservation.made", "Bruno", "booked", when["starts_at"]),
            ("reservation.made", "Anna", "booked", when["starts_at"]),  # the retry: the same delivery
            ("reservation.changed", "Anna", "booked", nine),
            ("reservation.cancelled", "Anna", "cancelled", nine),
        ]  # fmt: skip
        assert receiver.headers[0]["webhook-id"] == receiver.headers[2]["webhook-id"] == made.webhook_id
        assert [p["data"]["party_size"] for p in receiver.received[2:]] == [4, 2, 2]
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
        warned = [r.getMessage() for r in caplog.records if r.name == "maitre.orders" and r.levelno == logging.WARNING]
        assert warned == [
            f"Booking webhook {made.webhook_id} (reservation.made, reservation {anna.pk}) to {receiver.url}: "
            f"attempt 1 failed: HTTP 500: POS offline retry later; next attempt at "
            f"{(clock.at + RETRY_DELAYS[0]).astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S}Z",
        ]  # fmt: skip

    def test_a_booking_whose_worker_died_mid_attempt_is_sent_once_a_later_event_comes_still_ahead_of_its_change(
        self, clock, frozen
    ):
        restaurant, receiver = bookable_with_receiver()
        anna = book(restaurant, evening(clock), 4, "Anna")
        # A worker took the task, claimed the delivery for LEASE and died before sending it.
        DBTaskResult.objects.update(status="RUNNING")
        WebhookDelivery.objects.update(attempt_count=1, next_attempt_at=clock.at + LEASE)
        reservation_change(reservation=anna, party_size=2)
        run_worker()  # the change waits behind the booking
        assert receiver.received == []

        frozen.shift(2 * LEASE + dt.timedelta(minutes=1))
        book(restaurant, evening(clock, hour=21), 2, "Bruno")  # the next event takes the stalled one up again
        run_worker()
        receiver.stop()

        annas = [(p["type"], p["data"]["party_size"]) for p in receiver.received if p["data"]["guest_name"] == "Anna"]
        assert annas == [("reservation.made", 4), ("reservation.changed", 2)]
        assert len(receiver.received) == 3  # and Bruno's booking
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


class TestNothingSent:
    def test_a_booking_that_is_rolled_back_sends_nothing(self, clock, frozen):
        restaurant, receiver = bookable_with_receiver()

        with pytest.raises(RuntimeError), transaction.atomic():
            book(restaurant, evening(clock), 4, "Anna")
            raise RuntimeError("the caller's transaction fails after the booking")
        run_worker()
        receiver.stop()

        assert not Reservation.objects.exists()
        assert (receiver.received, receiver.unverified) == ([], 0)
        assert not WebhookDelivery.objects.exists()
        assert not DBTaskResult.objects.exists()

    def test_without_a_url_nothing_is_recorded_or_queued(self, clock, frozen):
        restaurant = make_bookable()

        anna = book(restaurant, evening(clock), 4, "Anna")
        reservation_change(reservation=anna, party_size=2)
        reservation_cancel(reservation=anna)

        assert Reservation.objects.get().status == "cancelled"
        assert not WebhookDelivery.objects.exists()
        assert not DBTaskResult.objects.exists()

    def test_a_delivery_about_nothing_or_about_both_an_order_and_a_booking_is_refused(self, clock, frozen):
        restaurant, receiver = bookable_with_receiver()
        receiver.stop()
        anna = book(restaurant, evening(clock), 4, "Anna")
        fields = {"restaurant": restaurant, "event_type": "reservation.made", "payload": "{}", "url": receiver.url}

        with pytest.raises(IntegrityError), transaction.atomic():
            WebhookDelivery.objects.create(webhook_id="msg_nothing", **fields)
        order = restaurant.orders.create(currency="EUR")
        with pytest.raises(IntegrityError), transaction.atomic():
            WebhookDelivery.objects.create(webhook_id="msg_both", order=order, reservation=anna, **fields)

        assert list(WebhookDelivery.objects.values_list("reservation", flat=True)) == [anna.pk]  # the booking's own


class TestAdmin:
    def test_staff_see_a_bookings_delivery_and_its_attempts(self, clock, frozen, admin_client):
        restaurant, receiver = bookable_with_receiver(answers=(503,))
        anna = book(restaurant, evening(clock), 4, "Anna")
        run_worker()
        receiver.stop()
        delivery = WebhookDelivery.objects.get()

        listed = admin_client.get(reverse("admin:orders_webhookdelivery_changelist"), {"q": anna.code})
        page = admin_client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk])).content.decode()

        assert list(listed.context["cl"].result_list) == [delivery]  # found by the booking's code
        for shown in ("reservation.made", str(anna), delivery.webhook_id, receiver.url,
                      "HTTP 503: POS offline retry later", "&quot;Anna&quot;", "Failed, will retry"):  # fmt: skip
            assert shown in page, shown

    def test_staff_of_another_restaurant_cannot_see_it(self, clock, frozen, client):
        restaurant, receiver = bookable_with_receiver()
        receiver.stop()
        book(restaurant, evening(clock), 4, "Anna")
        delivery = WebhookDelivery.objects.get()
        client.force_login(staff_member("beta-staff", make_restaurant(name="Osteria Beta", slug="beta")))

        listed = client.get(reverse("admin:orders_webhookdelivery_changelist"))
        opened = client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]))

        assert list(listed.context["cl"].result_list) == []
        assert opened.status_code == 302  # to the admin's index, "doesn't exist"

    def test_the_reservations_page_lists_its_deliveries(self, clock, frozen, admin_client):
        if WebhookDeliveryInline not in getattr(admin.site._registry.get(Reservation), "inlines", ()):
            pytest.skip("reservations.admin does not show the deliveries (yet): add orders.admin.WebhookDeliveryInline")
        restaurant, receiver = bookable_with_receiver()
        anna = book(restaurant, evening(clock), 4, "Anna")
        reservation_cancel(reservation=anna)
        run_worker()
        receiver.stop()

        page = admin_client.get(reverse("admin:reservations_reservation_change", args=[anna.pk])).content.decode()

        assert "reservation.made" in page and "reservation.cancelled" in page and "Delivered" in page
        for delivery in WebhookDelivery.objects.all():
            assert reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]) in page
