"""The kitchen board as staff use it (orders/views.py, orders/feed.py, orders/events.py): the page at /staff/orders/
with its orders by pickup time, the kitchen's buttons (one conditional update each: the second of two clicks is
refused with the order as it now is), the bad input they may be sent, and the websocket at /ws/staff/orders/
through config.asgi's whole stack: the snapshot, placed orders arriving once committed, another restaurant's
orders never.

Trattoria Test (tests.test_orders.make_takeout) takes orders, with a staff member ("rome-staff"); Osteria Beta
takes orders too and belongs to someone else. The clock is pinned: Wednesday 12:30 in Rome (KIRITIMATI, a day
behind the machine's date) and 02:30 on the autumn DST night.
"""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from orders.events import order_changed, order_event, ready_orders
from orders.models import Order
from orders.services import order_advance, order_cancel
from restaurants.models import Restaurant
from tests.conftest import CLOCKS, KIRITIMATI, ROME, pinned
from tests.test_orders import make_takeout, open_evening, place, ready
from tests.test_staff_calls import Login, received, run, socket_db
from tests.test_tenancy import staff_member

AUTUMN_NIGHT = next(c for c in CLOCKS if c.id == "dst-autumn-0230-rome-second-pass")
pytestmark = pinned(KIRITIMATI, AUTUMN_NIGHT)
PATH = "/ws/staff/orders/"


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_takeout()


@pytest.fixture
def beta(db) -> Restaurant:
    return make_takeout(name="Osteria Beta", slug="beta")


@pytest.fixture
def staff(trattoria) -> Client:
    client = Client()
    client.force_login(staff_member("rome-staff", trattoria))
    return client


def placed(restaurant: Restaurant, clock, *, name: str = "Anna", hour: int = 19, minute: int = 30) -> Order:
    return place(ready(restaurant, open_evening(clock, hour=hour, minute=minute), name=name))


def step(client: Client, order: Order, to: str, reason: str | None = None):
    data = {"to": to} if reason is None else {"to": to, "reason": reason}
    return client.post(f"/staff/orders/{order.pk}/status", data)


# --- The page ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAccess:
    def test_anonymous_users_go_to_the_login_page(self, clock, client):
        response = client.get("/staff/orders/")

        assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/staff/orders/")

    def test_users_without_staff_status_are_refused_even_of_a_restaurant(self, clock, client, trattoria):
        user = User.objects.create_user("diner")
        trattoria.staff.add(user)
        client.force_login(user)
        order = placed(trattoria, clock)

        assert client.get("/staff/orders/").status_code == 403
        assert step(client, order, "accepted").status_code == 403
        assert Order.objects.get(pk=order.pk).status == "placed"

    def test_the_admin_links_to_the_kitchen(self, clock, staff):
        assert b'<a href="/staff/orders/">Kitchen orders</a>' in staff.get("/admin/").content


@pytest.mark.django_db
class TestBoard:
    def test_it_shows_placed_orders_by_pickup_time_with_their_dishes_and_not_drafts(self, clock, staff, trattoria):
        late = placed(trattoria, clock, name="Bruno", hour=21)
        early = placed(trattoria, clock, name="Anna", hour=19)
        ready(trattoria, open_evening(clock), name="Still talking")  # a draft: the diner's, on the call

        page = staff.get("/staff/orders/").content.decode()

        assert page.index("Anna") < page.index("Bruno")
        assert "Still talking" not in page
        assert f'data-order-id="{early.pk}"' in page and f'data-order-id="{late.pk}"' in page
        assert "1 × Supplì" in page
        assert "19:30" in page and "21:30" in page
        pickup_day = open_evening(clock).date()
        assert f"{pickup_day:%a} {pickup_day.day} {pickup_day:%b}" in page  # not today: its day is written

    def test_another_restaurants_orders_are_not_shown(self, clock, staff, beta):
        placed(beta, clock, name="Beta's diner")

        assert "Beta's diner" not in staff.get("/staff/orders/").content.decode()

    def test_done_orders_stay_a_while_then_leave(self, clock, staff, trattoria):
        order = placed(trattoria, clock, name="Carla")
        order_cancel(order=order, reason="Out of rice", by_staff=True)

        now = staff.get("/staff/orders/").content.decode()
        Order.objects.filter(pk=order.pk).update(updated_at=clock.at - dt.timedelta(hours=4))
        later = staff.get("/staff/orders/").content.decode()

        assert "Carla" in now and "Rejected by the kitchen" in now and "Out of rice" in now
        assert "Carla" not in later


@pytest.mark.django_db
class TestKitchenSteps:
    def test_accept_ready_collected_move_the_order_on(self, clock, staff, trattoria):
        order = placed(trattoria, clock)

        answers = [step(staff, order, to) for to in ("accepted", "ready", "collected")]

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.json()["order"]["status"] for a in answers] == ["accepted", "ready", "collected"]
        assert Order.objects.get(pk=order.pk).status == "collected"

    def test_the_second_of_two_clicks_is_refused_with_the_order_as_it_is(self, clock, staff, trattoria):
        order = placed(trattoria, clock)
        step(staff, order, "accepted")

        again = step(staff, order, "accepted")

        assert again.status_code == 409
        assert again.json()["error"] == "Order 101 is already accepted by the kitchen."
        assert again.json()["order"]["status"] == "accepted"

    def test_cancelling_needs_a_reason_and_rejects_an_order_not_yet_accepted(self, clock, staff, trattoria):
        fresh, started = placed(trattoria, clock, name="Anna"), placed(trattoria, clock, name="Bruno")
        step(staff, started, "accepted")

        no_reason = step(staff, fresh, "cancelled", "   ")
        rejected = step(staff, fresh, "cancelled", "Out of rice")
        cancelled = step(staff, started, "cancelled", "Oven broke down")

        assert (no_reason.status_code, no_reason.json()["error"]) == (
            400, "Please give a reason for cancelling: the diner may be told it.",
        )  # fmt: skip
        assert rejected.json()["order"]["status"] == "rejected"
        assert rejected.json()["order"]["cancel_reason"] == "Out of rice"
        assert cancelled.json()["order"]["status"] == "cancelled"

    @pytest.mark.parametrize(
        "data, sentence",
        [
            ({"to": "placed"}, "That is not a step the kitchen can take."),
            ({"to": "draft"}, "That is not a step the kitchen can take."),
            ({"to": "x" * 10_000}, "That is not a step the kitchen can take."),
            ({}, "Which step?"),
            ({"to": "cancelled", "reason": "r" * 10_000}, "Please keep the reason under 200 characters."),
        ],
        ids=["placed", "draft", "10k-step", "no-step", "10k-reason"],
    )
    def test_bad_steps_are_refused_and_nothing_changes(self, clock, staff, trattoria, data, sentence):
        order = placed(trattoria, clock)

        response = staff.post(f"/staff/orders/{order.pk}/status", data)

        assert (response.status_code, response.json()["error"]) == (400, sentence)
        assert Order.objects.get(pk=order.pk).status == "placed"

    def test_a_step_on_a_collected_order_is_refused(self, clock, staff, trattoria):
        order = placed(trattoria, clock)
        for to in ("accepted", "ready", "collected"):
            step(staff, order, to)

        response = step(staff, order, "cancelled", "Changed their mind")
        ready_again = step(staff, order, "ready")

        assert response.status_code == 409
        assert ready_again.json()["error"] == "Order 101 is collected now, so it cannot be marked ready."
        assert Order.objects.get(pk=order.pk).status == "collected"

    def test_another_restaurants_order_or_a_draft_is_missing(self, clock, staff, trattoria, beta):
        theirs = placed(beta, clock)
        draft = ready(trattoria, open_evening(clock))

        assert step(staff, theirs, "accepted").status_code == 404
        assert step(staff, draft, "accepted").json() == {"error": "There is no such order."}
        assert Order.objects.get(pk=theirs.pk).status == "placed"

    def test_a_get_or_a_post_without_the_csrf_token_changes_nothing(self, clock, trattoria):
        order = placed(trattoria, clock)
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_member("rome-staff", trattoria))

        assert client.get(f"/staff/orders/{order.pk}/status").status_code == 405
        assert client.post(f"/staff/orders/{order.pk}/status", {"to": "accepted"}).status_code == 403
        assert Order.objects.get(pk=order.pk).status == "placed"


# --- Told with the change ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_kitchen_hears_of_a_change_only_once_committed(clock, trattoria, django_capture_on_commit_callbacks):
    told = []

    def receiver(order_id, happened, **kwargs):
        told.append((order_id, happened))

    order_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as committed:
            order = placed(trattoria, clock)
            order_advance(order=order, to="accepted")
        with django_capture_on_commit_callbacks(execute=True) as rolled_back:
            with transaction.atomic():
                order_advance(order=order, to="ready")
                transaction.set_rollback(True)  # the change never happened
    finally:
        order_changed.disconnect(receiver)

    # The signal's receivers write in the change's transaction (a rolled-back change takes their rows with it);
    # the kitchen's publication waits for the commit, and a rolled-back change publishes nothing.
    assert told == [(order.pk, "placed"), (order.pk, "accepted"), (order.pk, "ready")]
    assert (len(committed), len(rolled_back)) == (2, 0)
    assert Order.objects.get(pk=order.pk).status == "accepted"


# --- The websocket ------------------------------------------------------------------------------------------------


@pytest.fixture
def layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@socket_db
def test_the_board_gets_its_orders_then_new_ones_live_and_never_anothers(clock, layer):
    trattoria, beta = make_takeout(), make_takeout(name="Osteria Beta", slug="beta")
    rome_staff = Login.of(staff_member("rome-staff", trattoria))
    waiting = placed(trattoria, clock, name="Anna")

    async def scenario():
        communicator, snapshot = await rome_staff.opened(PATH)
        await sync_to_async(placed)(beta, clock, name="Beta's diner")
        new = await sync_to_async(placed)(trattoria, clock, name="Bruno", hour=20)
        await sync_to_async(order_advance)(order=waiting, to="accepted")
        live = await received(communicator, wait=0.8)  # more than a poll: polling adds nothing new
        await communicator.disconnect()
        return snapshot, new, live

    snapshot, new, live = run(scenario)

    assert [e["order"]["customer_name"] for e in snapshot] == ["Anna"]
    assert {(e["order"]["id"], e["order"]["status"]) for e in live} == {(new.pk, "placed"), (waiting.pk, "accepted")}
    bruno = next(e["order"] for e in live if e["order"]["id"] == new.pk)
    assert (bruno["number"], bruno["pickup_time"], bruno["lines"][0]["name"]) == (102, "20:30", "Supplì")
    assert bruno["pickup_at"] == open_evening(clock, hour=20).astimezone(dt.UTC).isoformat()
    assert "Beta's diner" not in str(live)


@socket_db
def test_anonymous_and_non_staff_users_cannot_open_the_board(clock, layer):
    trattoria = make_takeout()
    diner = User.objects.create_user("diner")
    trattoria.staff.add(diner)

    assert Login.of(None).refused(PATH)
    assert Login.of(diner).refused(PATH)


def test_the_pickup_is_written_in_the_restaurants_time_whatever_the_machines_zone(clock, trattoria):
    order = placed(trattoria, clock, hour=19, minute=45)

    event = order_event(ready_orders().get(pk=order.pk))["order"]

    assert event["pickup_time"] == "19:45"
    assert dt.datetime.fromisoformat(event["pickup_at"]).astimezone(ROME).strftime("%H:%M") == "19:45"
