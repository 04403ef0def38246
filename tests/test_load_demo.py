"""manage.py load_demo: six varied demo restaurants, three of which take orders with choices on their dishes,
and running it again converges on the same data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import TestCase

from dispatch.models import Call, UnansweredQuestion
from restaurants import demo_data
from reservations.availability import Availability
from reservations.models import Table
from restaurants.models import MenuItem, Modifier, ModifierGroup, Restaurant, ServicePeriod, SpecialDay
from tests.conftest import MONDAY_NIGHT_UTC, NEW_YEAR_UTC, make_restaurant, pinned

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def snapshot() -> list:
    """Everything the demo loads, without row ids."""
    rows = []
    for r in Restaurant.objects.order_by("slug"):
        rows.append((r.slug, r.name, r.cuisine, r.city, r.country, r.phone, r.time_zone, r.language, r.currency))
        rows.append((r.takes_orders, r.pickup_lead_minutes, r.orders_per_slot, r.last_order_minutes))
        rows.append(sorted((p.weekday, p.opens, p.closes, p.label) for p in r.service_periods.all()))
        rows.append(sorted((d.date, d.is_closed, d.opens, d.closes, d.note) for d in r.special_days.all()))
        for item in r.menu():
            rows.append((
                item.section.name, item.section.position, item.position, item.name, item.price, item.description,
                item.is_available, item.allergens_confirmed,
                sorted(t.code for t in item.dietary_tags.all()), sorted(a.code for a in item.allergens.all()),
            ))  # fmt: skip
            for group in item.modifier_groups.all():
                rows.append((group.position, group.name, group.min_choices, group.max_choices))
                rows += [(m.position, m.name, m.price_delta, m.is_available) for m in group.modifiers.all()]
        rows.append((r.takes_reservations, r.max_party_size, r.booking_notice_minutes, r.last_seating_minutes))
        rows += [(t.name, t.min_seats, t.max_seats, t.is_active) for t in r.tables.order_by("name")]
        rows += [
            (b.table.name, b.party_size, b.starts_at, b.ends_at, b.status, b.guest_name, b.guest_phone, b.notes)
            for b in r.reservations.select_related("table").order_by("starts_at", "table__name")
        ]  # the codes are new each time
    return rows


@pytest.fixture
def demo(db) -> list[Restaurant]:
    load_demo()
    return list(Restaurant.objects.order_by("name"))


class TestLoadDemo(TestCase):
    """Loads the demo once for the class (each test runs in a transaction rolled back after it)."""

    @classmethod
    def setUpTestData(cls):
        cls.out = load_demo()
        cls.demo = list(Restaurant.objects.order_by("name"))

    def test_it_loads_six_active_restaurants_and_prints_a_line_for_each(self):
        restaurants = Restaurant.objects.all()
        assert restaurants.count() == 6
        assert all(r.is_active for r in restaurants)
        lines = self.out.strip().splitlines()
        assert len(lines) == 6
        for r in restaurants:
            assert sum(r.slug in line for line in lines) == 1

    def test_every_restaurant_is_complete_and_valid(self):
        for r in self.demo:
            r.full_clean()
            for field in ("name", "cuisine", "description", "street_address", "city", "postal_code", "phone"):
                assert getattr(r, field), (r.slug, field)
            assert r.tts_voice in ("", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")

    def test_some_restaurant_has_split_shifts(self):
        assert any(len(periods) >= 2 for r in self.demo for periods in r.weekly_periods().values())

    def test_some_restaurant_serves_past_midnight(self):
        assert ServicePeriod.objects.filter(restaurant__in=self.demo).filter(closes__lte=F("opens")).exists()

    def test_some_restaurant_is_closed_on_a_weekday(self):
        assert any(not periods for r in self.demo for periods in r.weekly_periods().values())

    def test_some_restaurant_is_at_least_five_hours_from_europe(self):
        january, july = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC), dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)

        def offset(r, when):
            return when.astimezone(r.tz).utcoffset()

        europe = [r for r in self.demo if r.time_zone.startswith("Europe/")]
        far = [
            r for r in self.demo
            if all(abs(offset(r, w) - offset(e, w)) >= dt.timedelta(hours=5) for e in europe for w in (january, july))
        ]  # fmt: skip
        assert europe and far

    def test_some_restaurant_speaks_another_language_and_greets_in_it(self):
        others = [r for r in self.demo if not r.language.startswith("en")]

        assert others
        assert all(r.greeting and "How can I help" not in r.greeting for r in others)
        assert {r.language for r in others} <= {"de-DE", "fr-FR", "es-ES", "it-IT"}

    def test_menus_have_10_to_40_dishes_in_ordered_sections(self):
        for r in self.demo:
            items = list(r.menu())
            assert 10 <= len(items) <= 40, r.slug
            positions = [(i.section.position, i.position) for i in items]
            assert positions == sorted(positions)
            assert len({i.section.position for i in items}) == r.menu_sections.count() >= 2

    def test_prices_are_in_the_restaurants_currency(self):
        currencies = {r.currency for r in self.demo}

        assert len(currencies) >= 4
        for r in self.demo:
            for item in r.menu():
                assert item.price > 0
                if r.currency == "JPY":
                    assert item.price == item.price.to_integral_value(), item.name

    def test_dishes_carry_tags_and_allergens(self):
        items = MenuItem.objects.filter(section__restaurant__in=self.demo)

        assert items.filter(dietary_tags__code="vegan").exists()
        assert items.filter(allergens__code="gluten").exists()
        assert items.filter(allergens__code="crustaceans").exists()
        assert not items.filter(dietary_tags__code="vegan", allergens__code__in=["milk", "eggs", "fish"]).exists()
        assert not items.filter(dietary_tags__code="gluten-free", allergens__code="gluten").exists()
        assert not items.filter(dietary_tags__code="dairy-free", allergens__code="milk").exists()

    def test_some_dish_is_unavailable_and_some_allergens_are_unconfirmed(self):
        items = MenuItem.objects.filter(section__restaurant__in=self.demo)

        assert items.filter(is_available=False).exists()
        assert items.filter(allergens_confirmed=False).exists()
        assert items.filter(allergens_confirmed=True).count() > items.count() / 2


class TestTakeoutDemo(TestCase):
    """What a diner ordering, or staff setting up takeout, would notice in the demo."""

    @classmethod
    def setUpTestData(cls):
        cls.out = load_demo()
        cls.ordering = Restaurant.objects.filter(takes_orders=True)
        cls.groups = ModifierGroup.objects.filter(menu_item__section__restaurant__in=cls.ordering)

    def test_three_restaurants_take_orders_each_at_its_own_pace(self):
        paces = {r.slug: (r.pickup_lead_minutes, r.orders_per_slot, r.last_order_minutes) for r in self.ordering}

        assert paces == {
            "the-copper-kettle": (25, 4, 30), "taqueria-la-paloma": (15, 8, 15), "harbour-dumpling-house": (20, 6, 15)
        }  # fmt: skip
        for r in Restaurant.objects.filter(takes_orders=False):
            assert (r.pickup_lead_minutes, r.orders_per_slot, r.last_order_minutes) == (20, 6, 15), r.slug

    def test_only_restaurants_taking_orders_have_choices_and_each_has_some(self):
        with_choices = {g.menu_item.section.restaurant.slug for g in ModifierGroup.objects.select_related("menu_item")}

        assert with_choices == {r.slug for r in self.ordering}

    def test_a_taco_needs_a_salsa_and_takes_up_to_three_extras(self):
        al_pastor = MenuItem.objects.get(name="Al pastor")

        groups = [(g.name, g.rule_text(), [m.name for m in g.modifiers.all()]) for g in al_pastor.modifier_groups.all()]
        assert groups == [
            ("Choose your salsa", "required, choose 1", ["Salsa roja", "Salsa verde", "Habanero"]),
            ("Extras", "optional, up to 3", ["Guacamole", "Pickled jalapeños", "Grilled onions", "Grilled pineapple"]),
        ]  # fmt: skip

    def test_each_restaurant_taking_orders_has_a_required_choice_and_extras_up_to_a_maximum(self):
        for r in self.ordering:
            groups = self.groups.filter(menu_item__section__restaurant=r)
            assert groups.filter(min_choices=1, max_choices=1).exists(), r.slug
            # The maximum bites: more extras on offer than a diner may pick.
            assert any(g.min_choices == 0 and g.modifiers.count() > g.max_choices for g in groups), r.slug

    def test_a_small_size_costs_less_but_never_less_than_nothing(self):
        cheaper = Modifier.objects.filter(group__in=self.groups, price_delta__lt=0).select_related("group__menu_item")

        assert {(m.group.menu_item.name, m.name, m.price_delta) for m in cheaper} >= {
            ("Horchata", "Small", Decimal("-1.50")), ("Beer-battered haddock and chips", "Small", Decimal("-4.00")),
        }  # fmt: skip
        assert all(m.group.menu_item.price + m.price_delta > 0 for m in cheaper)

    def test_a_choice_is_86d_in_each_restaurant_yet_every_dish_can_still_be_ordered(self):
        sold_out = Modifier.objects.filter(group__in=self.groups, is_available=False)

        assert {m.restaurant.slug for m in sold_out} == {r.slug for r in self.ordering}
        assert "Salsa verde" in {m.name for m in sold_out}
        assert not self.groups.unsatisfiable().exists()

    def test_it_says_which_restaurants_take_orders_and_with_how_many_choices(self):
        lines = {line.split("(")[1].split(")")[0]: line for line in self.out.strip().splitlines()}

        assert lines["taqueria-la-paloma"].endswith(
            "; takes orders, 16 modifier groups on 9 dishes, 7 modifiers unavailable; phone +15105550100"
        )
        assert "; takes orders, 5 modifier groups on 3 dishes, 1 modifier unavailable" in lines["harbour-dumpling-house"]
        assert "takes orders" not in lines["izakaya-koyo"]

    def test_each_restaurant_has_house_facts_in_its_language_and_questions_asked_again(self):
        topics = {
            "parking": ("park",), "dogs": ("dog", "hund", "chien"),
            "high chairs": ("high chair", "hochst", "chaises hautes"),
            "access": ("wheelchair", "barrierefrei", "fauteuil"),
        }  # fmt: skip
        for r in Restaurant.objects.all():
            facts = list(r.house_facts.all())
            assert 3 <= len(facts) <= 4 and all(f.is_active and f.answer for f in facts), r.slug
            said = " ".join(f.question.lower() for f in facts)
            assert sum(any(word in said for word in words) for words in topics.values()) >= 3, r.slug
            groups, _ = UnansweredQuestion.objects.filter(restaurant=r).open().grouped()
            assert max(g.count for g in groups) >= 3 and max(len(g.wordings) for g in groups) >= 2, r.slug
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        assert not kettle.house_facts.filter(question__icontains="park").exists()  # for staff to answer
        groups, _ = UnansweredQuestion.objects.filter(restaurant=kettle).grouped()
        assert [(g.question, g.count, len(g.wordings)) for g in sorted(groups, key=lambda g: -g.count)] == [
            ("Is there parking?", 14, 5), ("Do you show the football?", 3, 2),
            ("Can I bring my own birthday cake?", 1, 1),
        ]  # fmt: skip


@pinned(MONDAY_NIGHT_UTC)
class TestReservationDemo:
    """What a guest booking a table, or staff running the floor, would notice in the demo. Monday 8 June 2026,
    23:30 in London: the full evening is Saturday 13 June."""

    def test_two_restaurants_take_reservations_with_a_floor_and_bookings(self, clock, demo):
        booking = Restaurant.objects.filter(takes_reservations=True).order_by("slug")

        assert [r.slug for r in booking] == ["bistrot-des-halles", "the-copper-kettle"]
        for r in booking:
            seats = sorted(t.max_seats for t in r.tables.all())
            assert seats[0] == 2 and 4 in seats and seats[-1] >= 6  # twos, fours and a six
            assert r.reservations.filter(status="booked").count() >= 3
        assert not Table.objects.exclude(restaurant__in=booking).exists()

    def test_the_kettle_is_full_on_saturday_evening_and_offers_other_times(self, clock, demo):
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        saturday = dt.datetime(2026, 6, 13, 19, 30, tzinfo=kettle.tz)
        availability = Availability(kettle, clock.at, 4)

        refusal = availability.refusal(saturday)
        that_day, later = availability.alternatives(saturday)

        assert refusal == "We are fully booked at 19:30 on Saturday for 4."
        assert [f"{t.astimezone(kettle.tz):%H:%M}" for t in that_day] == ["16:15", "16:30"]
        # Sunday closes at 18:00: the same time on the next days that have it.
        assert [f"{t.astimezone(kettle.tz):%a %H:%M}" for t in later] == ["Mon 19:30", "Tue 19:30", "Wed 19:30"]
        assert availability.refusal(saturday - dt.timedelta(hours=3, minutes=15)) == ""  # 16:15 is free

    def test_it_says_which_restaurants_take_reservations(self, clock, db):
        lines = {line.split("(")[1].split(")")[0]: line for line in load_demo().strip().splitlines()}

        assert "; takes reservations, 6 tables, 21 reservations (the evening of Saturday 2026-06-13 full)" in (
            lines["the-copper-kettle"]
        )
        assert "; takes reservations, 6 tables, 3 reservations" in lines["bistrot-des-halles"]


D = dt.date
# Every demo special day (restaurant, date, note), worked out by hand from demo_data: "in_days" counts from the
# restaurant's own today, "on" is that date's next occurrence from it. The demo's two weeks ahead hold closures
# and changed hours, which the restaurant pages show.
SPECIAL_DAYS = {
    # 22:30 UTC on Monday 8 June: still Monday in London and Los Angeles, Tuesday 9 June in Berlin, Paris,
    # Tokyo and Sydney.
    MONDAY_NIGHT_UTC: {
        ("the-copper-kettle", D(2026, 12, 25), "Christmas Day"),
        ("the-copper-kettle", D(2026, 12, 26), "Boxing Day"),
        ("zum-goldenen-hirsch", D(2026, 12, 24), "Heiligabend"),
        ("zum-goldenen-hirsch", D(2026, 6, 12), "Geschlossene Gesellschaft"),
        ("zum-goldenen-hirsch", D(2026, 6, 18), "Betriebsausflug, erst ab 17 Uhr"),
        ("izakaya-koyo", D(2026, 12, 31), "New Year's Eve"),
        ("izakaya-koyo", D(2027, 1, 1), "New Year's Day"),
        ("izakaya-koyo", D(2026, 6, 14), "Staff holiday"),
        ("bistrot-des-halles", D(2026, 6, 13), "Fermeture exceptionnelle pour inventaire"),
        ("bistrot-des-halles", D(2026, 6, 20), "Soirée dégustation, ouvert tard"),
        ("harbour-dumpling-house", D(2026, 12, 25), "Christmas Day"),
        ("harbour-dumpling-house", D(2026, 6, 16), "Lunch only, private dinner"),
    },
    # 23:30 UTC on 31 December 2026: still that day in London and Los Angeles, 1 January 2027 everywhere else.
    NEW_YEAR_UTC: {
        ("the-copper-kettle", D(2027, 12, 25), "Christmas Day"),
        ("the-copper-kettle", D(2027, 12, 26), "Boxing Day"),
        ("zum-goldenen-hirsch", D(2027, 12, 24), "Heiligabend"),
        ("zum-goldenen-hirsch", D(2027, 1, 4), "Geschlossene Gesellschaft"),
        ("zum-goldenen-hirsch", D(2027, 1, 10), "Betriebsausflug, erst ab 17 Uhr"),
        ("izakaya-koyo", D(2027, 12, 31), "New Year's Eve"),
        ("izakaya-koyo", D(2027, 1, 1), "New Year's Day"),
        ("izakaya-koyo", D(2027, 1, 6), "Staff holiday"),
        ("bistrot-des-halles", D(2027, 1, 5), "Fermeture exceptionnelle pour inventaire"),
        ("bistrot-des-halles", D(2027, 1, 12), "Soirée dégustation, ouvert tard"),
        ("harbour-dumpling-house", D(2027, 12, 25), "Christmas Day"),
        ("harbour-dumpling-house", D(2027, 1, 8), "Lunch only, private dinner"),
    },
}


@pinned(*SPECIAL_DAYS)
def test_special_days_are_placed_from_each_restaurants_own_today(clock, demo):
    placed = {(sd.restaurant.slug, sd.date, sd.note) for sd in SpecialDay.objects.select_related("restaurant")}

    assert placed == SPECIAL_DAYS[clock]


@pinned(MONDAY_NIGHT_UTC)  # loads compared with each other must see the same today in every restaurant's zone
@pytest.mark.usefixtures("clock")
class TestRunningItAgain:
    def test_it_leaves_the_same_data(self, db):
        load_demo()
        first = snapshot()
        load_demo()

        assert snapshot() == first
        assert Restaurant.objects.count() == 6
        assert MenuItem.dietary_tags.through.objects.count() > 0

    def test_it_undoes_edits_to_demo_restaurants(self, demo):
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        before = snapshot()
        kettle.name = "The Tin Kettle"
        kettle.save()
        ServicePeriod.objects.filter(restaurant=kettle).delete()
        MenuItem.objects.filter(section__restaurant=kettle).update(is_available=False)
        Modifier.objects.filter(name="Extra Yorkshire pudding").update(is_available=True)
        ModifierGroup.objects.filter(name="Portion").delete()
        Restaurant.objects.filter(slug="taqueria-la-paloma").update(takes_orders=False, orders_per_slot=1)

        load_demo()
        assert snapshot() == before

    def test_it_leaves_other_restaurants_alone(self, db):
        mine = make_restaurant()
        before = len(mine.menu())

        load_demo()
        assert Restaurant.objects.count() == 7
        assert len(mine.menu()) == before

    def test_it_restores_the_demo_questions_and_facts_and_keeps_those_of_calls(self, demo):
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        call = Call.objects.create(restaurant=kettle, room_name="r-2", participant_identity="diner-2")
        recorded = UnansweredQuestion.objects.create(restaurant=kettle, call=call, question="Is there parking?")
        demo_questions = UnansweredQuestion.objects.filter(call=None).values_list("restaurant__slug", "question")
        before = sorted(demo_questions)
        UnansweredQuestion.objects.filter(call=None, restaurant=kettle).update(resolved_at=dt.datetime.now(dt.UTC))
        kettle.house_facts.all().delete()

        load_demo()

        assert sorted(demo_questions.all()) == before
        assert not UnansweredQuestion.objects.filter(call=None, resolved_at__isnull=False).exists()
        assert UnansweredQuestion.objects.get(call=call) == recorded
        assert kettle.house_facts.count() == 3

    def test_it_runs_again_when_calls_point_at_a_demo_restaurant(self, demo):
        kettle = Restaurant.objects.get(slug="the-copper-kettle")
        Call.objects.create(restaurant=kettle, room_name="r-1", dispatch_id="AD_1", participant_identity="diner-1")

        load_demo()
        assert Call.objects.get().restaurant == kettle

    def test_bad_data_changes_nothing(self, demo, monkeypatch):
        before = snapshot()
        broken = [dict(r) for r in demo_data.RESTAURANTS]
        broken[0] = {**broken[0], "name": "Renamed before the error"}
        broken[-1] = {**broken[-1], "phone": "not a phone"}
        monkeypatch.setattr(demo_data, "RESTAURANTS", broken)

        with pytest.raises(CommandError, match="harbour-dumpling-house"):
            load_demo()
        assert snapshot() == before
