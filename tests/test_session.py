"""A whole AgentSession, text only, with a scripted LLM that calls the real tools against the database."""

from __future__ import annotations

import datetime as dt
from calendar import TUESDAY

import pytest
from asgiref.sync import async_to_sync
from livekit.agents import AgentSession

from agent_worker.agent import RestaurantAgent
from agent_worker.lookups import load_profile
from restaurants.models import MenuItem
from tests.conftest import MONDAY_NIGHT_UTC, pinned
from tests.fakes.llm import FALLBACK, Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

TOOLS = ["check_open", "find_menu_item", "get_address", "get_menu", "get_opening_hours", "record_unanswered_question"]


def converse(restaurant, model: ScriptedLLM, *questions: str):
    """Run each question through a started session; returns the RunResults."""

    async def main():
        async with model, AgentSession(llm=model) as session:
            await session.start(RestaurantAgent(await _profile(restaurant.pk)))
            return [await session.run(user_input=q) for q in questions]

    return async_to_sync(main)()


async def _profile(restaurant_id):
    from agent_worker.db import run_orm

    return await run_orm(load_profile, restaurant_id)


@pinned(MONDAY_NIGHT_UTC)  # the answer names no day but the one asked about: one clock is enough
def test_a_question_about_hours_calls_check_open_and_answers_from_the_database(clock, restaurant):
    tuesday = clock.next(TUESDAY).isoformat()
    model = ScriptedLLM(Rule("tuesday", "check_open", {"date": tuesday, "time": "20:00"}))

    [result] = converse(restaurant, model, "Are you open on Tuesday at 8 pm?")

    result.expect.next_event().is_function_call(name="check_open", arguments={"date": tuesday, "time": "20:00"})
    output = result.expect.next_event().is_function_call_output()
    assert output.event().item.output == f"Open at 20:00 on Tuesday {tuesday}, until 23:00."
    reply = result.expect.next_event().is_message(role="assistant")
    assert "until 23:00" in reply.event().item.text_content
    result.expect.no_more_events()


def test_a_menu_question_sees_an_admin_edit_made_between_two_turns(restaurant):
    model = ScriptedLLM(Rule("margherita", "find_menu_item", {"name": "margherita"}))

    async def main():
        async with model, AgentSession(llm=model) as session:
            await session.start(RestaurantAgent(await _profile(restaurant.pk)))
            first = await session.run(user_input="How much is the margherita?")
            from agent_worker.db import run_orm

            await run_orm(lambda: MenuItem.objects.filter(name="Margherita").update(is_available=False))
            second = await session.run(user_input="Can I still get the margherita?")
            return first, second

    first, second = async_to_sync(main)()

    first.expect.next_event().is_function_call(name="find_menu_item")
    assert "not available" not in first.expect.next_event().is_function_call_output().event().item.output
    second.expect.next_event().is_function_call(name="find_menu_item")
    assert "not available today" in second.expect.next_event().is_function_call_output().event().item.output
    assert "not available today" in second.expect.next_event().is_message(role="assistant").event().item.text_content


def test_a_vegan_question_gets_the_tagged_dishes(restaurant):
    model = ScriptedLLM(Rule("vegan", "get_menu", {"dietary_need": "vegan"}))

    [result] = converse(restaurant, model, "What's vegan?")

    result.expect.next_event().is_function_call(name="get_menu", arguments={"dietary_need": "vegan"})
    output = result.expect.next_event().is_function_call_output().event().item.output
    assert "Bruschetta al pomodoro" in output and "Carciofi alla giudia" in output
    assert "Margherita" not in output


def test_a_bad_argument_comes_back_as_a_sentence_the_agent_can_say(restaurant):
    model = ScriptedLLM(Rule("dessert", "get_menu", {"section": "Desserts"}))

    [result] = converse(restaurant, model, "What desserts do you have?")

    result.expect.next_event().is_function_call(name="get_menu")
    output = result.expect.next_event().is_function_call_output()
    assert output.event().item.is_error
    reply = result.expect.next_event().is_message(role="assistant").event().item.text_content
    assert "Our menu sections are: Antipasti, Pizze." in reply


def test_the_model_gets_the_six_tools_and_the_restaurants_rules(clock, restaurant):
    model = ScriptedLLM()

    [result] = converse(restaurant, model, "Tell me a joke")

    result.expect.next_event().is_message(role="assistant", )
    assert model.requests[0]["tools"] == TOOLS
    instructions = model.requests[0]["instructions"]
    assert "Trattoria Test" in instructions and "Roman trattoria" in instructions
    assert "Never invent or guess opening hours, prices, dishes, ingredients or allergens" in instructions
    assert "English (United Kingdom) (en-GB)" in instructions
    today = clock.today
    assert f"local time, Europe/Rome; when this call started it was {today:%A} {today} there" in instructions
    assert result.expect[-1].event().item.text_content == FALLBACK


@pinned(MONDAY_NIGHT_UTC)  # closed at 00:30 in Rome; the edit below opens it until 02:00
def test_open_now_is_answered_from_facts_read_when_asked_and_an_admin_edit_shows_on_the_next_turn(clock, restaurant):
    from agent_worker import turn_facts
    from agent_worker.db import run_orm
    from restaurants.models import ServicePeriod

    model = ScriptedLLM(Rule("open now", "check_open", {}, fact=turn_facts.OPEN_NOW))

    async def main():
        async with model, AgentSession(llm=model) as session:
            await session.start(RestaurantAgent(await _profile(restaurant.pk)))
            first = await session.run(user_input="Are you open now?")
            await run_orm(lambda: ServicePeriod.objects.create(
                restaurant=restaurant, weekday=clock.today.weekday(), opens=dt.time(0), closes=dt.time(2),
                label="Night owls",
            ))  # fmt: skip
            second = await session.run(user_input="Sorry, are you open now?")
            return first, second

    first, second = async_to_sync(main)()

    # No tool round trip: the model found the answer in the request's facts, read from the database.
    assert first.expect.next_event().is_message(role="assistant").event().item.text_content == clock.now_answer
    first.expect.no_more_events()
    reply = second.expect.next_event().is_message(role="assistant").event().item.text_content
    assert reply == "Open now (Tuesday 2026-06-09, 00:30), until 02:00."
    second.expect.no_more_events()
    facts = [m.text_content for m in model.requests[-1]["chat_ctx"].items if m.type == "message" and m.role == "system"]
    assert facts[-1].startswith(turn_facts.HEADER)
    assert "Via dei Coronari 12, 00186 Roma, Italy. Phone: 0 6, 1 2 3 4, 5 6 7 8." in facts[-1]
    assert clock.now_answer not in facts[-1]  # only this moment's facts: the first turn's are not carried on


def test_menu_questions_still_go_to_the_tools_and_facts_can_be_switched_off(restaurant, settings):
    from agent_worker import turn_facts

    settings.AGENT_TURN_FACTS = False
    model = ScriptedLLM(Rule("address", "get_address", {}, fact=turn_facts.ADDRESS), Rule("vegan", "get_menu", {"dietary_need": "vegan"}))

    address, vegan = converse(restaurant, model, "What is your address?", "What's vegan?")

    address.expect.next_event().is_function_call(name="get_address")
    vegan.expect.next_event().is_function_call(name="get_menu")
    assert not any(turn_facts.HEADER in r["instructions"].replace(f'"{turn_facts.HEADER}"', "") for r in model.requests)


@pinned(MONDAY_NIGHT_UTC)
def test_the_facts_each_request_carries_are_read_in_four_queries(clock, restaurant, django_assert_num_queries):
    from agent_worker import lookups, turn_facts

    with django_assert_num_queries(4):  # the restaurant, its service periods, its special days, its house facts
        facts = turn_facts.facts_now(restaurant.pk)

    # The same words the tools say, so a fact in the context and a tool's answer cannot disagree.
    assert facts == {
        turn_facts.OPEN_NOW: lookups.open_status(restaurant.pk),
        turn_facts.TODAY: lookups.open_status(restaurant.pk, "today"),
        turn_facts.WEEK: lookups.opening_hours(restaurant.pk),
        turn_facts.ADDRESS: lookups.address(restaurant.pk),
    }
