"""Bad rows are refused: by the database's named constraints even when code skips validation, and with a
readable message by full_clean() (what the admin and load_demo run)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from dispatch.models import Call
from restaurants import hours
from restaurants.models import MenuItem, MenuSection, Modifier, ModifierGroup, Restaurant, ServicePeriod, SpecialDay

pytestmark = pytest.mark.django_db
t = dt.time
MON, TUE, SUN = 0, 1, 6


def restaurant_fields(**overrides) -> dict:
    fields = dict(
        name="Bar Test", slug="bar-test", cuisine="Wine bar", street_address="1 Test Street", city="London",
        postal_code="N1 7RZ", country="GB", phone="+442079460999", time_zone="Europe/London", language="en-GB",
        currency="GBP",
    )  # fmt: skip
    return {**fields, **overrides}


def rejected(constraint: str, create) -> None:
    """Asserts that `create()` raises IntegrityError naming `constraint` where the backend names it.

    PostgreSQL names every constraint; SQLite names CHECK constraints but reports UNIQUE ones by column.
    """
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        create()
    if connection.vendor == "postgresql" or "CHECK" in str(error.value):
        assert constraint in str(error.value)


@pytest.fixture
def bar(db) -> Restaurant:
    return Restaurant.objects.create(**restaurant_fields())


@pytest.fixture
def section(bar) -> MenuSection:
    return MenuSection.objects.create(restaurant=bar, name="Small plates")


@pytest.fixture
def olives(section) -> MenuItem:
    return MenuItem.objects.create(section=section, name="Olives", price=Decimal("4.00"))


@pytest.fixture
def size(olives) -> ModifierGroup:
    return ModifierGroup.objects.create(menu_item=olives, name="Size", min_choices=1, max_choices=1)


class TestDatabaseConstraints:
    def test_it_refuses_a_second_restaurant_with_the_same_slug(self, bar):
        rejected("restaurant_slug_unique", lambda: Restaurant.objects.create(**restaurant_fields(name="Other")))

    def test_it_refuses_a_weekday_outside_monday_to_sunday(self, bar):
        rejected(
            "service_period_weekday_range",
            lambda: ServicePeriod.objects.create(restaurant=bar, weekday=7, opens=t(12), closes=t(14)),
        )

    def test_it_refuses_two_periods_starting_at_the_same_time_on_one_day(self, bar):
        ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(14))

        rejected(
            "service_period_unique_start",
            lambda: ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(15)),
        )

    def test_the_same_start_on_another_day_or_restaurant_is_fine(self, bar):
        other = Restaurant.objects.create(**restaurant_fields(slug="other-bar"))
        ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(14))

        ServicePeriod.objects.create(restaurant=bar, weekday=MON, opens=t(12), closes=t(14))
        ServicePeriod.objects.create(restaurant=other, weekday=TUE, opens=t(12), closes=t(14))
        assert ServicePeriod.objects.count() == 3

    def test_it_refuses_two_special_days_on_one_date(self, bar):
        SpecialDay.objects.create(restaurant=bar, date=dt.date(2026, 12, 25))

        rejected(
            "special_day_unique_date",
            lambda: SpecialDay.objects.create(restaurant=bar, date=dt.date(2026, 12, 25), note="Again"),
        )

    @pytest.mark.parametrize(
        "fields",
        [
            {"is_closed": True, "opens": t(12), "closes": t(16)},
            {"is_closed": True, "opens": t(12)},
            {"is_closed": False},
            {"is_closed": False, "opens": t(12)},
        ],
    )
    def test_a_special_day_is_either_closed_or_has_both_times(self, bar, fields):
        rejected(
            "special_day_closed_or_hours",
            lambda: SpecialDay.objects.create(restaurant=bar, date=dt.date(2026, 12, 24), **fields),
        )

    def test_it_refuses_two_sections_with_one_name(self, bar, section):
        rejected("menu_section_unique_name", lambda: MenuSection.objects.create(restaurant=bar, name="Small plates"))

    def test_it_refuses_two_dishes_with_one_name_in_a_section(self, section):
        MenuItem.objects.create(section=section, name="Olives", price=Decimal("4.00"))

        rejected("menu_item_unique_name", lambda: MenuItem.objects.create(section=section, name="Olives", price=5))

    def test_it_refuses_a_negative_price(self, section):
        rejected(
            "menu_item_price_not_negative",
            lambda: MenuItem.objects.create(section=section, name="Olives", price=Decimal("-0.01")),
        )

    def test_a_free_dish_is_kept_at_zero(self, section):
        MenuItem.objects.create(section=section, name="Tap water", price=Decimal("0"))

        assert MenuItem.objects.get(name="Tap water").price == Decimal("0.00")

    def test_it_refuses_two_modifier_groups_with_one_name_on_a_dish(self, size):
        rejected(
            "modifier_group_unique_name",
            lambda: ModifierGroup.objects.create(menu_item=size.menu_item, name="Size", max_choices=2),
        )

    @pytest.mark.parametrize(
        ("min_choices", "max_choices"), [(2, 1), (0, 0), (1, 0), (0, 21), (21, 21)], ids=lambda v: str(v)
    )
    def test_a_modifier_group_asks_for_1_to_20_choices_and_no_more_than_its_maximum(
        self, olives, min_choices, max_choices
    ):
        rejected(
            "modifier_group_choices_range",
            lambda: ModifierGroup.objects.create(
                menu_item=olives, name="Extras", min_choices=min_choices, max_choices=max_choices
            ),
        )

    def test_groups_at_the_bounds_are_kept(self, olives):
        for name, low, high in [("Extras", 0, 20), ("Pick two", 2, 2), ("Everything", 20, 20)]:
            ModifierGroup.objects.create(menu_item=olives, name=name, min_choices=low, max_choices=high)

        assert [(g.name, g.rule_text()) for g in olives.modifier_groups.order_by("id")] == [
            ("Extras", "optional, up to 20"), ("Pick two", "required, choose 2"), ("Everything", "required, choose 20"),
        ]  # fmt: skip

    def test_it_refuses_two_modifiers_with_one_name_in_a_group(self, size):
        Modifier.objects.create(group=size, name="Large", price_delta=Decimal("2.00"))

        rejected("modifier_unique_name", lambda: Modifier.objects.create(group=size, name="Large"))

    @pytest.mark.parametrize("delta", ["10000.01", "-10000.01", "9999999.99"])
    def test_it_refuses_a_price_change_beyond_10000(self, size, delta):
        rejected(
            "modifier_price_delta_range",
            lambda: Modifier.objects.create(group=size, name="Gold leaf", price_delta=Decimal(delta)),
        )

    def test_price_changes_up_to_10000_either_way_and_none_are_kept(self, size):
        for name, delta in [("Gold leaf", "10000"), ("Small", "-1.50"), ("Regular", "0")]:
            Modifier.objects.create(group=size, name=name, price_delta=Decimal(delta))

        assert [(m.name, m.price_delta) for m in size.modifiers.order_by("id")] == [
            ("Gold leaf", Decimal("10000.00")), ("Small", Decimal("-1.50")), ("Regular", Decimal("0.00"))
        ]  # fmt: skip

    @pytest.mark.parametrize("field", ["pickup_lead_minutes", "last_order_minutes"])
    def test_it_refuses_pickup_minutes_beyond_four_hours(self, db, field):
        rejected(
            "restaurant_pickup_minutes_range", lambda: Restaurant.objects.create(**restaurant_fields(**{field: 241}))
        )

    @pytest.mark.parametrize("orders", [0, 101])
    def test_it_refuses_a_kitchen_pace_outside_1_to_100_orders_per_slot(self, db, orders):
        rejected(
            "restaurant_orders_per_slot_range",
            lambda: Restaurant.objects.create(**restaurant_fields(orders_per_slot=orders)),
        )

    def test_it_refuses_two_calls_in_one_room(self, bar):
        call = dict(restaurant=bar, room_name="restaurant-1-abc", dispatch_id="AD_1", participant_identity="diner-1")
        Call.objects.create(**call)

        rejected("call_room_name_unique", lambda: Call.objects.create(**{**call, "dispatch_id": "AD_2"}))


def errors_of(obj) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        obj.full_clean()
    return error.value.message_dict


class TestRestaurantValidation:
    def test_a_complete_restaurant_is_valid(self, db):
        Restaurant(**restaurant_fields()).full_clean()

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("phone", "020 7946 0999"),
            ("phone", "+0207946099"),
            ("phone", "+44"),
            ("time_zone", "Europe/Londres"),
            ("time_zone", "GMT+1 hour"),
            ("time_zone", "../../etc/passwd"),
            ("language", "english"),
            ("language", "en_GB"),
            ("currency", "EURO"),
            ("currency", "ZZZ"),
            ("country", "GBR"),
            ("country", "G1"),
        ],
    )
    def test_it_names_the_bad_field(self, db, field, value):
        errors = errors_of(Restaurant(**restaurant_fields(**{field: value})))

        assert list(errors) == [field]

    def test_a_taken_slug_is_reported_on_the_slug(self, bar):
        errors = errors_of(Restaurant(**restaurant_fields(name="Other")))

        assert list(errors) == ["slug"]


class TestServicePeriodValidation:
    def test_it_refuses_a_period_overlapping_a_saved_one(self, bar):
        ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(14, 30))

        errors = errors_of(ServicePeriod(restaurant=bar, weekday=TUE, opens=t(14), closes=t(16)))
        assert errors["__all__"] == ["This period overlaps Tuesday 12:00-14:30."]

    def test_it_refuses_sunday_night_running_into_mondays_period(self, bar):
        ServicePeriod.objects.create(restaurant=bar, weekday=MON, opens=t(1), closes=t(3))

        errors = errors_of(ServicePeriod(restaurant=bar, weekday=SUN, opens=t(22), closes=t(2)))
        assert errors["__all__"] == ["This period overlaps Monday 01:00-03:00."]

    def test_a_missing_weekday_is_reported_on_the_weekday(self, bar):
        ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(14, 30))

        errors = errors_of(ServicePeriod(restaurant=bar, weekday=None, opens=t(18), closes=t(22)))
        assert list(errors) == ["weekday"]

    def test_back_to_back_periods_are_accepted_and_read_in_order(self, bar):
        ServicePeriod.objects.create(restaurant=bar, weekday=SUN, opens=t(18), closes=t(1))

        for period in (ServicePeriod(restaurant=bar, weekday=MON, opens=t(1), closes=t(3)),
                       ServicePeriod(restaurant=bar, weekday=SUN, opens=t(12), closes=t(18))):  # fmt: skip
            period.full_clean()
            period.save()

        assert hours.say_weekly(bar.weekly_periods(), bar.language) == (
            "Monday: 01:00 to 03:00. Tuesday to Saturday: closed. Sunday: 12:00 to 18:00 and 18:00 to 01:00 (past "
            "midnight)."
        )

    def test_editing_a_period_does_not_clash_with_itself(self, bar):
        period = ServicePeriod.objects.create(restaurant=bar, weekday=TUE, opens=t(12), closes=t(14))
        period.closes = t(15)

        period.full_clean()
        period.save()

        assert list(bar.service_periods.values_list("opens", "closes")) == [(t(12), t(15))]


class TestSpecialDayValidation:
    def test_a_closed_day_with_hours_is_refused(self, bar):
        day = SpecialDay(restaurant=bar, date=dt.date(2026, 12, 24), is_closed=True, opens=t(12), closes=t(16))

        assert "A day marked closed has no opening hours" in errors_of(day)["__all__"][0]

    def test_an_open_day_without_both_times_is_refused(self, bar):
        day = SpecialDay(restaurant=bar, date=dt.date(2026, 12, 24), is_closed=False, opens=t(12))

        assert "Give both opening and closing times" in errors_of(day)["__all__"][0]

    def test_closed_or_changed_hours_are_accepted_and_replace_the_week(self, bar):
        christmas = dt.date(2026, 12, 25)
        for day in (SpecialDay(restaurant=bar, date=christmas, note="Christmas Day"),
                    SpecialDay(restaurant=bar, date=dt.date(2026, 12, 31), is_closed=False, opens=t(19), closes=t(2))):  # fmt: skip
            day.full_clean()
            day.save()

        schedule = bar.schedule(christmas, 7)
        assert schedule.periods_on(christmas) == ([], "Christmas Day")
        periods, note = schedule.periods_on(dt.date(2026, 12, 31))
        assert (hours.say_periods(periods, bar.language), note) == (
            "19:00 to 02:00 (past midnight)", ""
        )


class TestTakeoutValidation:
    def test_a_new_restaurant_takes_no_orders_until_staff_switch_it_on(self, bar):
        assert (bar.takes_orders, bar.pickup_lead_minutes, bar.orders_per_slot, bar.last_order_minutes) == (
            False, 20, 6, 15
        )  # fmt: skip

    def test_out_of_range_takeout_settings_are_reported_on_their_fields(self, db):
        restaurant = Restaurant(**restaurant_fields(pickup_lead_minutes=241, orders_per_slot=0, last_order_minutes=241))

        assert errors_of(restaurant) == {
            "pickup_lead_minutes": ["Ensure this value is less than or equal to 240."],
            "orders_per_slot": ["Ensure this value is greater than or equal to 1."],
            "last_order_minutes": ["Ensure this value is less than or equal to 240."],
        }

    def test_a_minimum_above_the_maximum_is_reported_on_the_minimum(self, olives):
        errors = errors_of(ModifierGroup(menu_item=olives, name="Extras", min_choices=3, max_choices=2))

        assert errors == {"min_choices": ["The minimum (3) cannot be above the maximum (2)."]}

    def test_a_group_asking_for_no_choice_at_all_is_refused(self, olives):
        errors = errors_of(ModifierGroup(menu_item=olives, name="Extras", min_choices=0, max_choices=0))

        assert errors == {"max_choices": ["Ensure this value is greater than or equal to 1."]}

    def test_a_second_group_of_the_same_name_is_named_in_the_message(self, size):
        errors = errors_of(ModifierGroup(menu_item=size.menu_item, name="Size", min_choices=0, max_choices=1))

        assert errors == {"__all__": ["This dish already has a modifier group named “Size”."]}

    def test_the_same_group_name_on_another_dish_is_fine(self, size, section):
        bread = MenuItem.objects.create(section=section, name="Bread", price=Decimal("3.00"))

        ModifierGroup(menu_item=bread, name="Size", min_choices=1, max_choices=1).full_clean()

    def test_a_second_modifier_of_the_same_name_is_named_in_the_message(self, size):
        Modifier.objects.create(group=size, name="Large", price_delta=Decimal("2.00"))

        errors = errors_of(Modifier(group=size, name="Large", price_delta=Decimal("3.00")))
        assert errors == {"__all__": ["This group already has a modifier named “Large”."]}

    def test_a_price_cut_below_the_dishes_price_is_refused(self, size):
        errors = errors_of(Modifier(group=size, name="Tiny", price_delta=Decimal("-4.01")))

        assert errors == {
            "price_delta": ["Olives costs £4.00: a price change of -£4.01 would make it cost less than nothing."]
        }

    def test_a_price_cut_to_zero_is_accepted(self, size):
        Modifier(group=size, name="Taster", price_delta=Decimal("-4.00")).full_clean()

    def test_a_price_change_beyond_10000_is_reported_on_the_field(self, size):
        errors = errors_of(Modifier(group=size, name="Gold leaf", price_delta=Decimal("10000.01")))

        assert errors == {"price_delta": ["Ensure this value is less than or equal to 10000."]}
