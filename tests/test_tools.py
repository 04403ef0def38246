"""The agent's tools against the database: what a diner would hear, and that admin edits are live."""

from __future__ import annotations

import datetime as dt
from calendar import MONDAY, SATURDAY, TUESDAY
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from livekit.agents import ToolError

from agent_worker.agent import RestaurantAgent
from agent_worker.lookups import load_profile
from restaurants.models import MenuItem, SpecialDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(restaurant) -> RestaurantAgent:
    return RestaurantAgent(load_profile(restaurant.pk))


def call(agent: RestaurantAgent, tool: str, **kwargs) -> str:
    """Run the tool the way a session does: awaited on an event loop, the ORM reached through db.run_orm."""
    async def ask() -> str:
        return await getattr(agent, tool)(**kwargs)

    return async_to_sync(ask)()


def test_the_agent_has_exactly_the_seven_tools(agent):
    # find_house_facts is offered to the model only when the house facts do not all come with the request
    # (tests/test_house_facts.py); the agent holds it so that it can run whenever the model calls it.
    assert sorted(t.info.name for t in agent.tools) == [
        "check_open", "find_house_facts", "find_menu_item", "get_address", "get_menu", "get_opening_hours",
        "record_unanswered_question",
    ]  # fmt: skip


class TestOpeningHours:
    def test_it_tells_the_weekly_hours_in_local_time(self, agent):
        text = call(agent, "get_opening_hours")

        assert "Europe/Rome" in text
        assert "Monday: closed" in text
        assert "12:00 to 14:30 (Lunch)" in text
        assert "19:00 to 01:30 (past midnight) (Dinner)" in text

    def test_a_special_day_added_in_admin_is_told_on_the_next_question(self, clock, agent, restaurant):
        tomorrow = clock.today + dt.timedelta(days=1)
        assert "Special days" not in call(agent, "get_opening_hours")

        SpecialDay.objects.create(restaurant=restaurant, date=tomorrow, is_closed=True, note="Staff holiday")

        assert call(agent, "get_opening_hours").endswith(
            f" Special days coming up: tomorrow ({tomorrow.isoformat()}): closed (Staff holiday)."
        )


class TestCheckOpen:
    def test_open_at_a_local_date_and_time(self, clock, agent):
        tuesday = clock.next(TUESDAY).isoformat()

        text = call(agent, "check_open", date=tuesday, time="13:15")

        assert text == f"Open at 13:15 on Tuesday {tuesday}, until 14:30."

    def test_closed_between_services_says_when_it_opens(self, clock, agent):
        tuesday = clock.next(TUESDAY)
        # The day is said from Rome's today: the next Tuesday is tomorrow, a weekday this week, or a week away.
        said = {1: "tomorrow", 7: f"Tuesday {tuesday.day} {tuesday:%B}"}.get((tuesday - clock.today).days, "Tuesday")

        text = call(agent, "check_open", date=tuesday.isoformat(), time="16:00")

        assert text == f"Closed at 16:00 on Tuesday {tuesday}, opens {said} 19:00 ({tuesday})."

    def test_today_tomorrow_24_00_and_12_hour_times_are_understood(self, clock, agent):
        today, tomorrow = clock.today, clock.today + dt.timedelta(days=1)

        assert f"at 19:30 on {tomorrow:%A} {tomorrow}" in call(agent, "check_open", date="tomorrow", time="7:30 pm")
        assert call(agent, "check_open", date="Tomorrow", time="19:30") == call(
            agent, "check_open", date=tomorrow.isoformat(), time="19:30"
        )
        assert call(agent, "check_open", date="today").startswith(f"{today:%A} {today}: ")
        # Midnight at the end of a day is 00:00 the next day.
        assert f"at 00:00 on {tomorrow:%A} {tomorrow}" in call(agent, "check_open", date="today", time="24:00")
        assert f"at 12:00 on {today:%A} {today}" in call(agent, "check_open", time="12 p.m.")

    def test_after_midnight_belongs_to_fridays_late_service(self, clock, agent):
        saturday = clock.next(SATURDAY)

        assert call(agent, "check_open", date=saturday.isoformat(), time="01:00") == (
            f"Open at 01:00 on Saturday {saturday}, until 01:30."
        )
        closed = call(agent, "check_open", date=saturday.isoformat(), time="02:00")
        assert closed.startswith(f"Closed at 02:00 on Saturday {saturday}, opens ")
        assert closed.endswith(f" 12:00 ({saturday}).")

    def test_a_date_alone_gives_that_days_hours(self, clock, agent):
        monday = clock.next(MONDAY)

        assert call(agent, "check_open", date=monday.isoformat()) == f"Monday {monday.isoformat()}: closed (local time)."

    def test_now_is_the_restaurants_local_date_and_time(self, clock, agent):
        assert call(agent, "check_open") == clock.now_answer

    @pytest.mark.parametrize("kwargs", [{"date": "next friday", "time": "19:00"}, {"date": "2026-02-30"}, {"time": "evening"}, {"time": "25:00"},
     {"time": "19:75"}])
    def test_unreadable_dates_and_times_raise_a_speakable_error(self, agent, kwargs):
        with pytest.raises(ToolError, match=r"^I didn't catch .*\?$"):
            call(agent, "check_open", **kwargs)


class TestAddress:
    def test_it_gives_address_country_and_phone(self, agent):
        assert call(agent, "get_address") == (
            "Trattoria Test is at Via dei Coronari 12, 00186 Roma, Italy. Phone: 0 6, 1 2 3 4, 5 6 7 8."
        )

    def test_an_address_change_is_live(self, agent, restaurant):
        restaurant.street_address = "Piazza Navona 1"
        restaurant.save()

        assert "Piazza Navona 1" in call(agent, "get_address")


class TestMenu:
    def test_the_whole_menu_lists_sections_in_order_with_prices(self, agent):
        text = call(agent, "get_menu")

        assert text.index("Antipasti:") < text.index("Pizze:")
        assert "Margherita, €9.50 (vegetarian)" in text
        assert "Tartufo, €16.00 (vegetarian), not available today" in text

    def test_a_section_as_the_diner_says_it(self, agent):
        text = call(agent, "get_menu", section="pizza")

        assert "Margherita" in text and "Bruschetta" not in text

    def test_vegetarian_includes_vegan_dishes(self, agent):
        text = call(agent, "get_menu", dietary_need="vegetarian")

        assert "Bruschetta al pomodoro" in text  # tagged vegan
        assert "Margherita" in text
        assert "Diavola" not in text

    def test_no_match_for_a_need_is_said_plainly(self, agent):
        assert call(agent, "get_menu", dietary_need="halal") == (
            "There are no halal dishes on the menu. Only dishes the kitchen has tagged count."
        )

    def test_an_unknown_section_lists_the_real_ones(self, agent):
        with pytest.raises(ToolError, match="We don't have a section called Sushi. Our menu sections are: Antipasti, Pizze."):
            call(agent, "get_menu", section="Sushi")

    def test_a_price_edit_in_admin_is_live_on_the_next_question(self, agent):
        assert "€9.50" in call(agent, "find_menu_item", name="Margherita")

        MenuItem.objects.filter(name="Margherita").update(price=Decimal("10.50"))

        assert "€10.50" in call(agent, "find_menu_item", name="Margherita")


class TestFindMenuItem:
    def test_it_tells_price_description_tags_and_confirmed_allergens(self, agent):
        text = call(agent, "find_menu_item", name="bruschetta")

        assert text == (
            "Bruschetta al pomodoro, €6.50 (vegan). Section: Antipasti. Grilled bread, tomatoes, garlic, olive oil."
            " Contains these allergens (confirmed by the kitchen): cereals containing gluten."
        )

    def test_a_misheard_name_still_finds_the_dish(self, agent):
        assert call(agent, "find_menu_item", name="margarita").startswith("Margherita, €9.50")

    def test_unconfirmed_allergens_send_the_diner_to_the_staff(self, agent):
        text = call(agent, "find_menu_item", name="Carciofi alla giudia")

        assert "not confirmed by the kitchen: the diner must ask the staff before ordering" in text

    def test_an_86ed_dish_is_not_available(self, agent):
        assert "not available today" not in call(agent, "find_menu_item", name="Diavola")

        MenuItem.objects.filter(name="Diavola").update(is_available=False)

        assert "Diavola, €11.00, not available today" in call(agent, "find_menu_item", name="Diavola")

    def test_a_dish_not_on_the_menu_is_said_plainly(self, agent):
        assert call(agent, "find_menu_item", name="sushi platter") == "Nothing on the menu is called sushi platter."

    def test_an_empty_name_asks_which_dish(self, agent):
        with pytest.raises(ToolError, match="Which dish"):
            call(agent, "find_menu_item", name=" ")


def test_a_restaurant_deactivated_mid_call_makes_tools_apologise(agent, restaurant):
    restaurant.is_active = False
    restaurant.save()

    with pytest.raises(ToolError, match="can't look that up"):
        call(agent, "get_address")
