"""The menu as the agent and the pages read it: order, dietary filters, finding dishes by name, prices.

Trattoria Test (tests.conftest.make_restaurant): Antipasti (Bruschetta al pomodoro [vegan], Supplì
[vegetarian], Carciofi alla giudia [vegan, gluten-free]) then Pizze (Margherita [vegetarian], Diavola,
Tartufo [vegetarian, unavailable]).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from restaurants.models import Allergen, DietaryTag, MenuItem, MenuSection
from tests.conftest import make_restaurant

pytestmark = pytest.mark.django_db

MENU_ORDER = ["Bruschetta al pomodoro", "Supplì", "Carciofi alla giudia", "Margherita", "Diavola", "Tartufo"]


def names(items) -> list[str]:
    return [i.name for i in items]


class TestMenu:
    def test_it_lists_every_dish_in_menu_order_sold_out_ones_included(self, restaurant):
        assert names(restaurant.menu()) == MENU_ORDER
        assert restaurant.menu().get(name="Tartufo").is_available is False

    def test_section_and_dish_positions_set_the_order(self, restaurant):
        MenuSection.objects.filter(restaurant=restaurant, name="Pizze").update(position=0)
        MenuItem.objects.filter(name="Diavola").update(position=5)

        assert names(restaurant.menu()) == [
            "Margherita", "Tartufo", "Diavola", "Bruschetta al pomodoro", "Supplì", "Carciofi alla giudia",
        ]  # fmt: skip

    def test_it_shows_one_section(self, restaurant):
        pizze = restaurant.find_section("Pizze")

        assert names(restaurant.menu(section=pizze)) == ["Margherita", "Diavola", "Tartufo"]

    def test_vegan_dishes_count_as_vegetarian(self, restaurant):
        assert names(restaurant.menu(dietary_need="vegetarian")) == [
            "Bruschetta al pomodoro", "Supplì", "Carciofi alla giudia", "Margherita", "Tartufo",
        ]  # fmt: skip
        assert names(restaurant.menu(dietary_need="vegan")) == ["Bruschetta al pomodoro", "Carciofi alla giudia"]

    def test_vegan_dishes_count_as_dairy_free(self, restaurant):
        assert names(restaurant.menu(dietary_need="dairy-free")) == ["Bruschetta al pomodoro", "Carciofi alla giudia"]

    def test_a_dish_tagged_both_vegan_and_vegetarian_is_listed_once(self, restaurant):
        MenuItem.objects.get(name="Bruschetta al pomodoro").dietary_tags.add(DietaryTag.objects.get(code="vegetarian"))

        assert names(restaurant.menu(dietary_need="vegetarian")).count("Bruschetta al pomodoro") == 1

    def test_other_needs_match_their_own_tag_only(self, restaurant):
        assert names(restaurant.menu(dietary_need="gluten-free")) == ["Carciofi alla giudia"]
        assert names(restaurant.menu(dietary_need="halal")) == []

    def test_section_and_dietary_need_combine(self, restaurant):
        pizze = restaurant.find_section("Pizze")

        assert names(restaurant.menu(section=pizze, dietary_need="vegetarian")) == ["Margherita", "Tartufo"]

    def test_another_restaurants_dishes_never_appear(self, restaurant):
        other = make_restaurant(name="Other Place", slug="other-place")
        MenuItem.objects.filter(section__restaurant=other, name="Diavola").update(name="Capricciosa")

        assert "Capricciosa" not in names(restaurant.menu())
        assert "Capricciosa" in names(other.menu())
        assert restaurant.find_menu_items("Capricciosa") == []


class TestAvailable:
    def test_it_leaves_out_dishes_that_are_86ed(self, restaurant):
        assert names(restaurant.menu().available()) == [n for n in MENU_ORDER if n != "Tartufo"]
        assert names(restaurant.menu(dietary_need="vegetarian").available()) == [
            "Bruschetta al pomodoro", "Supplì", "Carciofi alla giudia", "Margherita",
        ]  # fmt: skip

    def test_a_dish_back_on_is_listed_again(self, restaurant):
        MenuItem.objects.filter(name="Tartufo").update(is_available=True)

        assert "Tartufo" in names(MenuItem.objects.available())


class TestFindSection:
    @pytest.mark.parametrize("asked", ["Pizze", "pizze", "PIZZE ", "pizza", "le pizze!"])
    def test_it_finds_a_section_by_a_close_name(self, restaurant, asked):
        assert restaurant.find_section(asked).name == "Pizze"

    def test_it_finds_nothing_for_a_section_the_menu_lacks(self, restaurant):
        assert restaurant.find_section("Desserts") is None


class TestFindMenuItems:
    def test_an_exact_name_in_any_case(self, restaurant):
        assert names(restaurant.find_menu_items("margherita")) == ["Margherita"]

    def test_part_of_a_name(self, restaurant):
        assert names(restaurant.find_menu_items("bruschetta")) == ["Bruschetta al pomodoro"]

    def test_a_misspelt_name(self, restaurant):
        assert names(restaurant.find_menu_items("margarita")) == ["Margherita"]
        assert names(restaurant.find_menu_items("suppli")) == ["Supplì"]

    def test_a_sold_out_dish_is_found_so_the_agent_can_say_it_is_off(self, restaurant):
        [tartufo] = restaurant.find_menu_items("Tartufo")

        assert tartufo.is_available is False

    @pytest.mark.parametrize("asked", ["xylophone quartet", "", "?!"])
    def test_nonsense_finds_nothing(self, restaurant, asked):
        assert restaurant.find_menu_items(asked) == []

    def test_it_returns_at_most_limit_dishes_by_name(self, restaurant):
        for n in range(5):
            MenuItem.objects.create(section=restaurant.find_section("Pizze"), name=f"Pizza bianca {n}", price=9)

        found = restaurant.find_menu_items("pizza bianca")

        assert names(found) == ["Pizza bianca 0", "Pizza bianca 1", "Pizza bianca 2"]
        assert len(restaurant.find_menu_items("pizza bianca", limit=5)) == 5


class TestFormatPrice:
    @pytest.mark.parametrize(
        ("language", "currency", "amount", "expected"),
        [
            ("en-GB", "EUR", "12.50", "€12.50"),
            ("de-DE", "EUR", "12.50", "12,50\xa0€"),
            ("fr-FR", "EUR", "1234.50", "1\u202f234,50\xa0€"),
            ("en-GB", "GBP", "9.5", "£9.50"),
            ("en-US", "USD", "4.25", "$4.25"),
            ("en-US", "JPY", "1200.00", "¥1,200"),
            ("ja-JP", "JPY", "480", "￥480"),
            ("xx-YY", "EUR", "3", "€3.00"),  # an unknown locale falls back to English
        ],
    )
    def test_it_writes_prices_the_restaurants_way(self, restaurant, language, currency, amount, expected):
        restaurant.language, restaurant.currency = language, currency

        assert restaurant.format_price(Decimal(amount)) == expected


def test_the_database_holds_the_14_allergen_groups_and_every_dietary_tag_the_agent_offers(db):
    assert Allergen.objects.count() == 14
    assert sorted(DietaryTag.objects.values_list("code", flat=True)) == sorted(DietaryTag.CODES)
