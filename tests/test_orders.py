"""Takeout orders as a diner and the kitchen notice them: prices and totals computed in code, every bad input
refused with a sentence the agent can say (and nothing stored), pickup times inside the rules with the nearest
possible ones offered, and placing exactly the version read back.

Trattoria Test (tests.conftest.make_restaurant) takes orders here, in Europe/Rome: lunch 12:00-14:30 and dinner
19:00-23:00 Tuesday to Sunday (to 01:30 Friday and Saturday), closed Monday; 20 minutes' preparation, last
pickup 15 minutes before closing, 6 orders per 15-minute slot. Its Margherita (9.50) comes in a required Size
(Small -1.50, Regular, Large +3.00) with up to two Extras (Basil +0.50, Burrata +2.50, Olives +1.00, Anchovies
+1.00 but 86'd); its Diavola (11.00) has an optional Nduja (+2.00). The Tartufo is 86'd.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import DataError, IntegrityError, transaction
from django.urls import reverse

from dispatch.models import Call
from orders.models import Order, OrderLine
from orders.pickup import Pickups
from orders.services import (
    OrderRefused,
    order_add_line,
    order_cancel,
    order_place,
    order_read,
    order_remove_line,
    order_set_pickup,
    order_start,
)  # fmt: skip
from restaurants.models import MenuItem, Modifier, ModifierGroup, Restaurant, SpecialDay
from tests.conftest import KIRITIMATI, ROME, Clock, make_restaurant, pinned

pytestmark = pytest.mark.django_db

SAT_LATE = Clock(  # 23:30 on Saturday in Rome: the late dinner runs to 01:30
    "sat-2330-rome-late-dinner", dt.datetime(2026, 1, 17, 22, 30, tzinfo=dt.UTC), dt.datetime(2026, 1, 17, 23, 30),
    "Open now, until 01:30", "Open now (Saturday 2026-01-17, 23:30), until 01:30.",
)  # fmt: skip


def make_takeout(**overrides) -> Restaurant:
    """Trattoria Test taking orders, with choices on its pizzas (see the module docstring)."""
    restaurant = make_restaurant(**{"takes_orders": True, **overrides})
    margherita = restaurant.menu_items().get(name="Margherita")
    size = ModifierGroup.objects.create(menu_item=margherita, name="Size", min_choices=1, max_choices=1, position=1)
    for position, (name, delta) in enumerate([("Small", "-1.50"), ("Regular", "0"), ("Large", "3.00")]):
        Modifier.objects.create(group=size, name=name, price_delta=Decimal(delta), position=position)
    extras = ModifierGroup.objects.create(menu_item=margherita, name="Extras", min_choices=0, max_choices=2, position=2)
    for position, (name, delta, available) in enumerate(
        [("Basil", "0.50", True), ("Burrata", "2.50", True), ("Olives", "1.00", True), ("Anchovies", "1.00", False)]
    ):
        Modifier.objects.create(
            group=extras, name=name, price_delta=Decimal(delta), is_available=available, position=position
        )
    diavola = restaurant.menu_items().get(name="Diavola")
    hot = ModifierGroup.objects.create(menu_item=diavola, name="Extra heat", min_choices=0, max_choices=1)
    Modifier.objects.create(group=hot, name="Nduja", price_delta=Decimal("2.00"))
    return restaurant


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_takeout()


def dish(restaurant: Restaurant, name: str) -> MenuItem:
    return restaurant.menu_items().get(name=name)


def open_evening(clock: Clock, days: int = 2, hour: int = 19, minute: int = 30) -> dt.datetime:
    """A pickup that is possible under any of the clocks: `hour`:`minute` in Rome on the first day at least
    `days` days ahead that is not a Monday."""
    day = clock.today + dt.timedelta(days=days)
    if day.weekday() == 0:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), ROME)


def rome_today(clock: Clock, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(clock.today, dt.time(hour, minute), ROME)


def ready(restaurant: Restaurant, pickup_at: dt.datetime, *, name: str = "Anna") -> Order:
    """A draft with one Supplì, a name, a phone and `pickup_at`."""
    order = order_start(restaurant=restaurant)
    order_add_line(order=order, dish="Supplì")
    return order_set_pickup(order=order, name=name, phone="+39 333 123 4567", pickup_at=pickup_at)


def place(order: Order) -> Order:
    """Place the draft as read back now."""
    return order_place(order=order, version=order_read(order=order).version)


def refusal(call, **kwargs) -> str:
    with pytest.raises(OrderRefused) as refused:
        call(**kwargs)
    return refused.value.sentence


# --- Prices and totals ------------------------------------------------------------------------------------


class TestTotals:
    def test_it_prices_each_line_with_its_choices_and_totals_the_order(self, trattoria):
        order = order_start(restaurant=trattoria)

        order_add_line(order=order, dish="Margherita", quantity=2, modifiers=["Large", "Burrata"])
        order_add_line(order=order, dish="suppli")  # as a transcript writes it: no accent, lower case

        summary = order_read(order=order)
        lines = [(line.quantity, line.name, line.choices, line.unit_price, line.line_total) for line in summary.lines]
        assert lines == [
            (2, "Margherita", ("Large", "Burrata"), Decimal("15.00"), Decimal("30.00")),
            (1, "Supplì", (), Decimal("4.00"), Decimal("4.00")),
        ]  # fmt: skip
        assert (summary.subtotal, summary.total, summary.currency) == (Decimal("34.00"), Decimal("34.00"), "EUR")
        assert summary.text == (
            "2 Margherita with Large and Burrata: €30.00; 1 Supplì: €4.00. Total €34.00. No pickup time yet."
        )

    def test_a_negative_choice_lowers_the_price(self, trattoria):
        order = order_start(restaurant=trattoria)

        line = order_add_line(order=order, dish="Margherita", modifiers=["Small"], quantity=3)

        assert (line.unit_price, line.line_total) == (Decimal("8.00"), Decimal("24.00"))
        assert order_read(order=order).total == Decimal("24.00")

    def test_a_line_keeps_its_choices_names_and_price_changes(self, trattoria):
        order = order_start(restaurant=trattoria)

        line = order_add_line(order=order, dish="Margherita", modifiers=["Extras: Basil", "Size: Small"])

        assert [(m["group"], m["name"], m["price_delta"]) for m in line.modifiers] == [
            ("Size", "Small", "-1.50"), ("Extras", "Basil", "0.50"),
        ]  # fmt: skip
        assert line.unit_price == Decimal("8.50")

    def test_the_same_dish_made_the_same_way_adds_to_its_line(self, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Diavola")
        order_add_line(order=order, dish="Diavola", quantity=2)
        order_add_line(order=order, dish="Diavola", modifiers=["Nduja"])
        order_add_line(order=order, dish="Diavola", note="well done")

        assert [str(line) for line in order.lines.all()] == ["3 × Diavola", "1 × Diavola", "1 × Diavola"]
        assert order_read(order=order).total == Decimal("11.00") * 5 + Decimal("2.00")

    def test_every_change_to_the_draft_bumps_its_version(self, trattoria, clock):
        order = order_start(restaurant=trattoria)
        versions = [order_read(order=order).version]

        line = order_add_line(order=order, dish="Diavola")
        versions.append(order_read(order=order).version)
        order_add_line(order=order, dish="Supplì")
        versions.append(order_read(order=order).version)
        order_remove_line(order=order, line=line.pk)
        versions.append(order_read(order=order).version)
        order_set_pickup(order=order, name="Anna", pickup_at=open_evening(clock))
        versions.append(order_read(order=order).version)

        assert versions == sorted(set(versions))
        assert order_read(order=order).total == Decimal("4.00")

    def test_a_line_is_removed_by_the_dishs_name_or_its_id(self, trattoria):
        order = order_start(restaurant=trattoria)
        diavola = order_add_line(order=order, dish="Diavola")
        order_add_line(order=order, dish="Supplì")

        order_remove_line(order=order, line="supplì")
        order_remove_line(order=order, line=diavola.pk)

        assert order_read(order=order).text == "The order is empty. No pickup time yet."
        assert refusal(order_remove_line, order=order, line="Diavola") == "There is no “Diavola” on the order."


# --- Bad input: each refused with a sentence, nothing stored ----------------------------------------------


def nothing_stored(order: Order, lines_before: int = 0) -> bool:
    fresh = Order.objects.get(pk=order.pk)
    return fresh.lines.count() == lines_before and fresh.version == order.version and fresh.status == "draft"


class TestBadInput:
    @pytest.mark.parametrize("quantity", [0, -1, 21, 10**9, 1e9, 2.0, "two", "3", None, True])
    def test_a_quantity_outside_1_to_20_or_not_a_whole_number(self, trattoria, quantity):
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_add_line, order=order, dish="Supplì", quantity=quantity)

        assert sentence == "The quantity must be a whole number from 1 to 20."
        assert nothing_stored(order)

    def test_twenty_of_a_dish_but_not_twenty_one(self, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Supplì", quantity=20)

        sentence = refusal(order_add_line, order=order, dish="Supplì")

        assert sentence == "That would make 21 Supplì: the most is 20 of one dish made the same way."
        assert [str(line) for line in order.lines.all()] == ["20 × Supplì"]

    @pytest.mark.parametrize(
        "said, sentence",
        [
            ("Pizza Hawaii", "We have no dish called “Pizza Hawaii”."),
            ("Margarita", "We have no dish called “Margarita”. Did you mean Margherita?"),
            ("x" * 10_000, f"We have no dish called “{'x' * 40}…”."),
            ("", "We have no dish called “”."),
            (987654, "That dish is not on our menu."),
        ],
    )  # fmt: skip
    def test_an_unknown_dish(self, trattoria, said, sentence):
        order = order_start(restaurant=trattoria)

        assert refusal(order_add_line, order=order, dish=said) == sentence
        assert nothing_stored(order)

    def test_another_restaurants_dish(self, trattoria):
        other = make_takeout(name="Osteria Altra", slug="altra")
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_add_line, order=order, dish=dish(other, "Diavola").pk)

        assert sentence == "That dish is not on our menu."

    def test_an_86d_dish(self, trattoria):
        order = order_start(restaurant=trattoria)

        assert refusal(order_add_line, order=order, dish="Tartufo") == "Sorry, the Tartufo is not available right now."
        assert nothing_stored(order)

    @pytest.mark.parametrize(
        "modifiers, sentence",
        [
            (["Regular", "Nduja"],  # the Diavola's
             "The Margherita has no choice called “Nduja”. Its choices are Size: Small, Regular or Large; Extras: "
             "Basil, Burrata or Olives."),
            (["Regular", "Basil", "Burrata", "Olives"], "For the Margherita, choose at most two of Extras."),
            (["Small", "Large"], "For the Margherita, choose at most one of Size."),
            ([], "For the Margherita, choose one of Size: Small, Regular or Large."),
            (["Basil"], "For the Margherita, choose one of Size: Small, Regular or Large."),
            (["Regular", "Anchovies"], "Sorry, Anchovies is not available right now for the Margherita."),
            (["Regular", "Basil", "basil"], "Basil was chosen twice: each choice counts once."),
        ],
    )  # fmt: skip
    def test_choices_the_dish_does_not_take(self, trattoria, modifiers, sentence):
        order = order_start(restaurant=trattoria)

        assert refusal(order_add_line, order=order, dish="Margherita", modifiers=modifiers) == sentence
        assert nothing_stored(order)

    def test_another_dishs_choice_by_its_id(self, trattoria):
        nduja = Modifier.objects.get(name="Nduja")
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_add_line, order=order, dish="Margherita", modifiers=["Regular", nduja.pk])

        assert sentence.startswith(f"The Margherita has no choice called “{nduja.pk}”. Its choices are Size: ")
        assert nothing_stored(order)

    def test_a_dish_without_choices_says_it_comes_as_it_is(self, trattoria):
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_add_line, order=order, dish="Supplì", modifiers=["Large"])

        assert sentence == "The Supplì has no choice called “Large”. It comes as it is."

    def test_a_required_choice_with_none_left_on_offer(self, trattoria):
        Modifier.objects.filter(group__name="Size").update(is_available=False)
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_add_line, order=order, dish="Margherita")

        assert sentence == "Sorry, the Margherita cannot be ordered right now: not enough Size choices are available."

    def test_a_line_break_in_a_note_or_a_name_reads_as_a_space(self, trattoria):
        order = order_start(restaurant=trattoria)

        line = order_add_line(order=order, dish="Supplì", note="no\nonions,\tplease")
        named = order_set_pickup(order=order, name="Anna\nMaria")

        assert (line.note, named.customer_name) == ("no onions, please", "Anna Maria")

    def test_a_note_of_140_characters_but_not_more(self, trattoria):
        order = order_start(restaurant=trattoria)

        assert order_add_line(order=order, dish="Supplì", note="n" * 140).note == "n" * 140
        for note in ("n" * 141, "no onions " * 1_000):
            sentence = refusal(order_add_line, order=order, dish="Diavola", note=note)
            assert sentence == "A note for the kitchen can be at most 140 characters, like “no onions”."
        assert [line.name for line in order.lines.all()] == ["Supplì"]

    @pytest.mark.parametrize(
        "name, sentence",
        [("A" * 10_000, "That name is too long: at most 80 characters."), ("   ", "I need a name for the order.")],
    )
    def test_a_name_too_long_or_empty(self, trattoria, name, sentence):
        order = order_start(restaurant=trattoria)

        assert refusal(order_set_pickup, order=order, name=name) == sentence
        assert Order.objects.get(pk=order.pk).customer_name == ""

    @pytest.mark.parametrize("phone", ["12", "call me", "+39 " + "1" * 10_000])
    def test_a_phone_number_that_is_not_one(self, trattoria, phone):
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, name="Anna", phone=phone)

        assert sentence == "That phone number does not look right: could you say it again with the country code?"
        assert Order.objects.get(pk=order.pk).customer_name == ""  # the name given with it is not kept either

    def test_a_national_number_reads_as_the_restaurants_country(self, trattoria):
        order = order_start(restaurant=trattoria)

        order_set_pickup(order=order, phone="333 123 4567")

        assert Order.objects.get(pk=order.pk).customer_phone == "+393331234567"

    def test_a_restaurant_that_does_not_take_orders(self, db):
        restaurant = make_restaurant()

        assert refusal(order_start, restaurant=restaurant) == "Sorry, Trattoria Test does not take takeout orders."
        assert not Order.objects.exists()

    def test_a_restaurant_that_stops_taking_orders_mid_order(self, trattoria):
        order = order_start(restaurant=trattoria)
        Restaurant.objects.filter(pk=trattoria.pk).update(takes_orders=False)

        sentence = refusal(order_add_line, order=order, dish="Supplì")

        assert sentence == "Sorry, Trattoria Test does not take takeout orders."

    def test_the_database_holds_the_bounds_too(self, trattoria):
        order = order_start(restaurant=trattoria)
        for fields in ({"quantity": 0}, {"quantity": 21}, {"note": "n" * 141}, {"unit_price": Decimal("-1")}):
            values = dict(order=order, name="Supplì", quantity=1, unit_price=Decimal("4"), line_total=Decimal("4"))
            # PostgreSQL refuses a note longer than its varchar before any check constraint (DataError).
            with pytest.raises((IntegrityError, DataError)), transaction.atomic():
                OrderLine.objects.create(**(values | fields))


# --- Pickup times -----------------------------------------------------------------------------------------


@pinned(KIRITIMATI)  # Wednesday 12:30 in Rome, lunch until 14:30: the earliest pickup is 13:00
class TestPickupTimes:
    @pytest.mark.parametrize(
        "hour, minute, sentence",
        [
            (12, 0, "That time has already passed. We can have it ready today at 13:00, 13:15 or 13:30."),
            (12, 45, "The kitchen needs 20 minutes to prepare an order. We can have it ready today at 13:00, 13:15 "
                     "or 13:30."),
            (13, 10, "Pickups are every 15 minutes, on the quarter hour. We can have it ready today at 13:00, 13:15 "
                     "or 13:30."),
            (14, 25, "The last pickup is at 14:15 today, 15 minutes before closing. We can have it ready today at "
                     "13:45, 14:00 or 14:15."),
            (17, 0, "We are closed at 17:00 today. We can have it ready today at 19:00, 19:15 or 19:30."),
            (14, 30, "We are closed at 14:30 today. We can have it ready today at 13:45, 14:00 or 14:15."),
        ],
    )  # fmt: skip
    def test_an_impossible_time_today_offers_the_nearest_possible_ones(self, clock, trattoria, hour, minute, sentence):
        order = order_start(restaurant=trattoria)

        with pytest.raises(OrderRefused) as refused:
            order_set_pickup(order=order, pickup_at=rome_today(clock, hour, minute))

        assert refused.value.sentence == sentence
        assert all(trattoria.tz.utcoffset(at) for at in refused.value.times)
        assert Order.objects.get(pk=order.pk).pickup_at is None

    def test_next_year_is_too_far_ahead(self, clock, trattoria):
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, pickup_at=dt.datetime(2027, 6, 9, 19, 30, tzinfo=ROME))

        assert sentence == (
            "We take pickup orders up to 7 days ahead. We can have it ready today at 13:00, 13:15 or 13:30."
        )

    def test_a_closed_weekday(self, clock, trattoria):
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, pickup_at=dt.datetime(2026, 6, 15, 13, 0, tzinfo=ROME))

        assert sentence == "We are closed on Monday. We can have it ready on Sunday at 22:15, 22:30 or 22:45."

    def test_a_closed_special_day(self, clock, trattoria):
        SpecialDay.objects.create(restaurant=trattoria, date=dt.date(2026, 6, 11), note="Staff outing")
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, pickup_at=dt.datetime(2026, 6, 11, 19, 30, tzinfo=ROME))

        assert sentence == (
            "We are closed tomorrow (Staff outing). We can have it ready on Friday at 12:00, 12:15 or 12:30."
        )

    def test_a_special_days_own_hours_take_pickups(self, clock, trattoria):
        SpecialDay.objects.create(
            restaurant=trattoria, date=dt.date(2026, 6, 15), is_closed=False, opens=dt.time(17), closes=dt.time(21)
        )
        order = order_start(restaurant=trattoria)

        order_set_pickup(order=order, pickup_at=dt.datetime(2026, 6, 15, 20, 45, tzinfo=ROME))
        sentence = refusal(order_set_pickup, order=order, pickup_at=dt.datetime(2026, 6, 15, 21, 0, tzinfo=ROME))

        assert sentence == "We are closed at 21:00 on Monday. We can have it ready on Monday at 20:15, 20:30 or 20:45."

    def test_a_full_slot_offers_the_ones_around_it(self, clock, trattoria):
        for _ in range(6):
            place(ready(trattoria, rome_today(clock, 13, 15)))
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, pickup_at=rome_today(clock, 13, 15))

        assert sentence == (
            "We are fully booked for pickup at 13:15 today. We can have it ready today at 13:00, 13:30 or 13:45."
        )

    def test_a_naive_time_is_the_restaurants_wall_clock(self, clock, trattoria):
        order = order_start(restaurant=trattoria)

        order_set_pickup(order=order, pickup_at=dt.datetime.combine(clock.today, dt.time(13, 45)))

        assert order_read(order=order).pickup_at == rome_today(clock, 13, 45)
        assert order_read(order=order).text.endswith("Pickup at 13:45 today.")

    def test_the_possible_times_follow_the_restaurants_settings(self, clock, trattoria):
        trattoria.pickup_lead_minutes, trattoria.last_order_minutes = 45, 0

        times = Pickups(trattoria, clock.at).nearest(rome_today(clock, 14, 30), count=4)

        assert [f"{at.astimezone(ROME):%H:%M}" for at in times] == ["13:30", "13:45", "14:00", "14:15"]

    def test_nothing_free_in_the_week(self, clock, trattoria):
        for day in range(7):
            SpecialDay.objects.create(restaurant=trattoria, date=clock.today + dt.timedelta(days=day))
        SpecialDay.objects.create(restaurant=trattoria, date=clock.today + dt.timedelta(days=7))
        order = order_start(restaurant=trattoria)

        sentence = refusal(order_set_pickup, order=order, pickup_at=rome_today(clock, 13))

        assert sentence == "We are closed today. There is no pickup time free in the next 7 days."


def test_a_pickup_days_ahead_reads_back_in_local_time_whatever_the_machines_zone(clock, trattoria):
    order = order_start(restaurant=trattoria)
    at = open_evening(clock)

    order_set_pickup(order=order, pickup_at=at)

    summary = order_read(order=order)
    assert summary.pickup_at == at and summary.pickup_at.tzinfo == ROME
    assert summary.text.endswith(f"Pickup at 19:30 on {at:%A}.")


@pinned(SAT_LATE)
def test_a_pickup_after_midnight_belongs_to_the_late_service_that_began_the_day_before(clock, trattoria):
    order = place(ready(trattoria, dt.datetime(2026, 1, 18, 0, 45, tzinfo=ROME)))

    assert (order.number, order.service_date) == (101, dt.date(2026, 1, 17))
    sentence = refusal(order_set_pickup, order=order_start(restaurant=trattoria),
                       pickup_at=dt.datetime(2026, 1, 18, 1, 20, tzinfo=ROME))  # fmt: skip
    assert sentence == (
        "The last pickup is at 01:15 tomorrow, 15 minutes before closing. We can have it ready tomorrow at 00:45, "
        "01:00 or 01:15."
    )


# --- Placing ----------------------------------------------------------------------------------------------


class TestPlacing:
    def test_it_places_the_version_read_back_and_gives_a_number(self, clock, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Margherita", modifiers=["Regular", "Basil"], note="well done")
        order_set_pickup(order=order, name="Anna Rossi", phone="+39 333 123 4567", pickup_at=open_evening(clock))
        summary = order_read(order=order)

        placed = order_place(order=order, version=summary.version)

        assert (placed.status, placed.number, placed.total) == ("placed", 101, Decimal("10.00"))
        assert placed.service_date == open_evening(clock).date()
        assert placed.placed_at is not None and str(placed.customer_phone) == "+393331234567"
        assert order_read(order=order).text == (
            f"Order 101, placed. 1 Margherita with Regular and Basil (well done): €10.00. Total €10.00. Pickup at "
            f"19:30 on {open_evening(clock):%A}. Name: Anna Rossi."
        )

    def test_an_empty_order(self, clock, trattoria):
        order = order_start(restaurant=trattoria)
        order_set_pickup(order=order, name="Anna", phone="+393331234567", pickup_at=open_evening(clock))

        sentence = refusal(order_place, order=order, version=order_read(order=order).version)

        assert sentence == "The order is empty: add a dish first."

    @pytest.mark.parametrize(
        "missing, sentence",
        [
            ("name", "I still need a name for the order."),
            ("phone", "I still need a phone number the restaurant can call about the order."),
            ("pickup_at", "I still need a pickup time."),
        ],
    )
    def test_what_is_still_missing(self, clock, trattoria, missing, sentence):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Supplì")
        given = {"name": "Anna", "phone": "+393331234567", "pickup_at": open_evening(clock)}
        del given[missing]
        order_set_pickup(order=order, **given)

        assert refusal(order_place, order=order, version=order_read(order=order).version) == sentence
        assert Order.objects.get(pk=order.pk).status == "draft"

    def test_a_phone_caller_needs_give_no_number(self, clock, trattoria):
        call = Call.objects.create(
            restaurant=trattoria, room_name="room", participant_identity="sip", channel="phone",
            caller_number="+393471234567",
        )  # fmt: skip
        order = order_start(restaurant=trattoria, channel="phone", call=call)
        order_add_line(order=order, dish="Supplì")
        order_set_pickup(order=order, name="Anna", pickup_at=open_evening(clock))

        placed = place(order)

        assert (placed.channel, str(placed.customer_phone), placed.call) == ("phone", "+393471234567", call)

    def test_placing_twice(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        version = order_read(order=order).version
        order_place(order=order, version=version)

        sentence = refusal(order_place, order=order, version=version)

        assert sentence == f"Order 101 is already placed, for pickup at 19:30 on {open_evening(clock):%A}."
        assert Order.objects.get().number == 101

    def test_an_old_version(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        heard = order_read(order=order).version
        order_add_line(order=order, dish="Diavola")  # after the read-back

        sentence = refusal(order_place, order=order, version=heard)

        assert sentence == "The order changed since it was read back: please read it back again and confirm."
        assert Order.objects.get(pk=order.pk).status == "draft"

    def test_a_dish_86d_between_adding_and_placing_is_named(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        order_add_line(order=order, dish="Diavola")
        version = order_read(order=order).version
        MenuItem.objects.filter(name="Diavola").update(is_available=False)

        sentence = refusal(order_place, order=order, version=version)

        assert sentence == "Sorry, the Diavola is no longer available. The order was not placed."
        assert Order.objects.get(pk=order.pk).status == "draft"
        assert order_read(order=order).text.startswith(
            "1 Supplì: €4.00; 1 Diavola: €11.00. Total €15.00. No longer available: Diavola."
        )

    def test_a_choice_86d_or_a_dish_deleted_between_adding_and_placing(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        order_add_line(order=order, dish="Margherita", modifiers=["Large", "Burrata"])
        version = order_read(order=order).version
        Modifier.objects.filter(name="Burrata").update(is_available=False)

        assert refusal(order_place, order=order, version=version) == (
            "Sorry, Burrata is no longer available for the Margherita. The order was not placed."
        )
        dish(trattoria, "Margherita").delete()
        assert refusal(order_place, order=order, version=version) == (
            "Sorry, the Margherita is no longer on the menu. The order was not placed."
        )

    def test_a_price_changed_since_the_read_back_is_refused_with_the_new_total(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        order_add_line(order=order, dish="Margherita", quantity=2, modifiers=["Large"])
        heard = order_read(order=order)
        assert heard.total == Decimal("29.00")
        MenuItem.objects.filter(name="Margherita").update(price=Decimal("10.00"))
        Modifier.objects.filter(name="Large").update(price_delta=Decimal("3.50"))

        with pytest.raises(OrderRefused) as refused:
            order_place(order=order, version=heard.version)

        assert refused.value.sentence == (
            "Prices changed since the read-back: the total is now €31.00. Please confirm the new total."
        )
        again = order_read(order=order)
        assert (again.total, again.version) == (Decimal("31.00"), refused.value.version)
        assert order_place(order=order, version=again.version).total == Decimal("31.00")

    def test_the_read_back_takes_the_current_prices(self, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Supplì", quantity=2)
        before = order_read(order=order)
        MenuItem.objects.filter(name="Supplì").update(price=Decimal("4.50"))

        after = order_read(order=order)

        assert (before.total, after.total) == (Decimal("8.00"), Decimal("9.00"))
        assert after.version > before.version

    def test_a_menu_edit_after_placing_does_not_rewrite_the_order(self, clock, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Margherita", modifiers=["Large", "Olives"])
        order_set_pickup(order=order, name="Anna", phone="+393331234567", pickup_at=open_evening(clock))
        place(order)

        MenuItem.objects.filter(name="Margherita").update(name="Pizza Margherita", price=Decimal("12.00"))
        Modifier.objects.filter(name="Large").update(name="Grande", price_delta=Decimal("5.00"))
        dish(trattoria, "Pizza Margherita").delete()

        line = OrderLine.objects.get(order=order)
        assert (line.name, line.choices, line.unit_price, line.menu_item) == (
            "Margherita", ["Large", "Olives"], Decimal("13.50"), None,
        )  # fmt: skip
        assert order_read(order=order).total == Decimal("13.50")

    def test_a_restaurant_that_stopped_taking_orders_before_placing(self, clock, trattoria):
        order = ready(trattoria, open_evening(clock))
        version = order_read(order=order).version
        Restaurant.objects.filter(pk=trattoria.pk).update(takes_orders=False)

        sentence = refusal(order_place, order=order, version=version)

        assert sentence == "Sorry, Trattoria Test does not take takeout orders."

    @pinned(KIRITIMATI)
    def test_a_pickup_that_came_too_close_while_the_diner_talked(self, clock, trattoria):
        order = ready(trattoria, rome_today(clock, 13))
        version = order_read(order=order).version

        with time_machine.travel(clock.at + dt.timedelta(minutes=15), tick=True):
            with pytest.raises(OrderRefused) as refused:
                order_place(order=order, version=version)

        assert refused.value.sentence == (
            "The kitchen needs 20 minutes to prepare an order. We can have it ready today at 13:15, 13:30 or 13:45."
        )


@pinned(KIRITIMATI)
class TestSlotsAndNumbers:
    def test_a_full_slot_refuses_the_next_placement_and_a_cancellation_frees_it(self, clock, trattoria):
        drafts = [ready(trattoria, rome_today(clock, 13, 30), name=f"Diner {n}") for n in range(7)]
        placed = [place(order) for order in drafts[:6]]

        sentence = refusal(place, order=drafts[6])

        assert sentence == (
            "We are fully booked for pickup at 13:30 today. We can have it ready today at 13:00, 13:15 or 13:45."
        )
        assert Order.objects.get(pk=drafts[6].pk).status == "draft"
        assert Order.objects.holding_slots().filter(pickup_at=rome_today(clock, 13, 30)).count() == 6
        order_cancel(order=placed[0])
        assert place(drafts[6]).status == "placed"

    def test_numbers_run_per_service_day(self, clock, trattoria):
        today = [place(ready(trattoria, rome_today(clock, 13, 30))) for _ in range(3)]
        tonight = place(ready(trattoria, rome_today(clock, 21)))
        tomorrow = place(ready(trattoria, rome_today(clock, 13, 30) + dt.timedelta(days=1)))

        assert [o.number for o in today] + [tonight.number, tomorrow.number] == [101, 102, 103, 104, 101]
        assert tomorrow.service_date == clock.today + dt.timedelta(days=1)

    def test_a_number_is_never_given_twice_on_a_day(self, clock, trattoria):
        order = place(ready(trattoria, rome_today(clock, 13, 30)))
        other = place(ready(trattoria, rome_today(clock, 13, 45)))

        other.number = order.number
        with pytest.raises(IntegrityError):
            other.save()


# --- Cancelling -------------------------------------------------------------------------------------------


class TestCancelling:
    def test_a_diner_cancels_a_draft_and_it_takes_no_more_changes(self, trattoria):
        order = order_start(restaurant=trattoria)

        assert order_cancel(order=order).status == "cancelled"
        assert refusal(order_add_line, order=order, dish="Supplì") == "This order was cancelled: start a new one."
        assert refusal(order_cancel, order=order) == "This order is already cancelled."

    def test_a_diner_cannot_cancel_what_the_kitchen_accepted_but_staff_can(self, clock, trattoria):
        order = place(ready(trattoria, open_evening(clock)))
        Order.objects.filter(pk=order.pk).update(status="accepted")

        sentence = refusal(order_cancel, order=order)
        cancelled = order_cancel(order=order, by_staff=True, reason="Out of dough")

        assert sentence == "The kitchen has already started on order 101: please speak to the staff to change it."
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Out of dough")


# --- Admin ------------------------------------------------------------------------------------------------


@pinned(KIRITIMATI)
class TestAdmin:
    def test_staff_read_an_order_with_its_lines_and_cannot_change_it(self, clock, admin_client, trattoria):
        order = order_start(restaurant=trattoria)
        order_add_line(order=order, dish="Margherita", modifiers=["Large", "Basil"], note="well done")
        order_set_pickup(order=order, name="Anna Rossi", phone="+393331234567", pickup_at=rome_today(clock, 13, 30))
        place(order)
        path = reverse("admin:orders_order_change", args=[order.pk])

        page = admin_client.get(path).content.decode()

        for shown in ("Order 101", "Anna Rossi", "Margherita", "Large (3.00), Basil (0.50)", "well done", "€13.00",
                      "Wed 10 Jun 2026 13:30"):  # fmt: skip
            assert shown in page, shown
        assert 'name="_save"' not in page
        assert admin_client.post(path, {"customer_name": "Changed"}).status_code == 403
        assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403

    def test_the_day_filter_is_each_restaurants_own_day(self, clock, admin_client, trattoria):
        today = place(ready(trattoria, rome_today(clock, 13, 30), name="Today Diner"))
        place(ready(trattoria, rome_today(clock, 13, 30) + dt.timedelta(days=1), name="Tomorrow Diner"))
        order_start(restaurant=trattoria)  # a draft has no day

        listed = admin_client.get(reverse("admin:orders_order_changelist"), {"day": "today"}).context["cl"].result_list

        assert list(listed) == [today]
