"""manage.py load_demo: six varied demo restaurants, and running it again converges on the same data."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import TestCase

from dispatch.models import Call
from restaurants import demo_data
from restaurants.models import MenuItem, Restaurant, ServicePeriod, SpecialDay
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
        rows.append(sorted((p.weekday, p.opens, p.closes, p.label) for p in r.service_periods.all()))
        rows.append(sorted((d.date, d.is_closed, d.opens, d.closes, d.note) for d in r.special_days.all()))
        for item in r.menu():
            rows.append((
                item.section.name, item.section.position, item.position, item.name, item.price, item.description,
                item.is_available, item.allergens_confirmed,
                sorted(t.code for t in item.dietary_tags.all()), sorted(a.code for a in item.allergens.all()),
            ))  # fmt: skip
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

        load_demo()
        assert snapshot() == before

    def test_it_leaves_other_restaurants_alone(self, db):
        mine = make_restaurant()
        before = len(mine.menu())

        load_demo()
        assert Restaurant.objects.count() == 7
        assert len(mine.menu()) == before

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
