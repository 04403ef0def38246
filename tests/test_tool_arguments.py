"""Tool arguments a model may send: wrong types, values outside the choices, endless strings, dates centuries
away. Each gets a short sentence the agent can say (a ToolError), never a traceback or "An internal error
occurred". Run through a real AgentSession, so the framework's own argument validation is on the path."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from asgiref.sync import async_to_sync
from livekit.agents import AgentSession

from agent_worker import lookups
from agent_worker.agent import RestaurantAgent
from agent_worker.db import run_orm
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, 11:00 in Rome.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def tool_output(restaurant, tool: str, arguments: dict, caplog) -> tuple[str, bool]:
    """Ask the agent once, with a model that calls `tool` with `arguments`; (the tool's output, is_error).

    Also checks that nothing was logged at ERROR level (a traceback) on the way.
    """
    model = ScriptedLLM(Rule("?", tool, arguments))

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant.pk)
        async with model, AgentSession(llm=model) as session:
            await session.start(RestaurantAgent(profile))
            return await session.run(user_input="?")

    with caplog.at_level(logging.WARNING), time_machine.travel(NOW, tick=True):
        result = async_to_sync(main)()
    result.expect.next_event().is_function_call(name=tool)
    output = result.expect.next_event().is_function_call_output().event().item
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    return output.output, output.is_error


@pytest.mark.parametrize(
    "tool,arguments,sentence",
    [
        ("get_menu", {"section": "x" * 10_000}, lookups.UNCLEAR_SECTION + " Our menu sections are: Antipasti, Pizze."),
        ("get_menu", {"section": 42}, lookups.UNCLEAR_SECTION),
        ("get_menu", {"dietary_need": "pescatarian"}, lookups.UNKNOWN_DIETARY_NEED),
        ("find_menu_item", {"name": "margherita " * 1000}, lookups.UNCLEAR_DISH),
        ("find_menu_item", {"name": ["margherita"]}, lookups.UNCLEAR_DISH),
        ("find_menu_item", {}, lookups.UNCLEAR_DISH),
        ("check_open", {"date": "9999-12-31"}, lookups.DAY_OUT_OF_RANGE),
        ("check_open", {"date": "0001-01-01", "time": "12:00"}, lookups.DAY_OUT_OF_RANGE),
        ("check_open", {"date": "2026-11-21"}, lookups.DAY_OUT_OF_RANGE),  # the day before yesterday
        ("check_open", {"date": "2027-11-25"}, lookups.DAY_OUT_OF_RANGE),  # a year and two days ahead
        ("check_open", {"date": "2026-11-24" + " " * 10_000}, lookups.UNCLEAR_DAY),
        ("check_open", {"date": 20261124}, lookups.UNCLEAR_DAY),
        ("check_open", {"time": "19:30" * 2000}, lookups.UNCLEAR_TIME),
        ("check_open", {"time": 1930}, lookups.UNCLEAR_TIME),
    ],
    ids=["long-section", "section-number", "unknown-need", "long-dish", "dish-list", "no-dish", "year-9999",
         "year-0001", "before-yesterday", "over-a-year", "long-date", "date-number", "long-time", "time-number"],
)  # fmt: skip
def test_a_bad_argument_comes_back_as_a_short_sentence(restaurant, caplog, tool, arguments, sentence):
    output, is_error = tool_output(restaurant, tool, arguments, caplog)

    assert is_error
    assert output == sentence
    assert len(output) < 200  # nothing the model sent is echoed back at length


@pytest.mark.parametrize(
    "date,expected",
    [("2026-11-22", "Sunday 2026-11-22: "), ("2027-11-24", "Wednesday 2027-11-24: ")],
    ids=["yesterday", "a-year-and-a-day-ahead"],
)
def test_dates_from_yesterday_to_a_year_ahead_are_answered(restaurant, caplog, date, expected):
    output, is_error = tool_output(restaurant, "check_open", {"date": date}, caplog)

    assert not is_error
    assert output.startswith(expected)


def test_the_model_is_told_the_limits(restaurant):
    agent = RestaurantAgent(lookups.load_profile(restaurant.pk))
    schema = {t.info.name: t for t in agent.tools}

    from livekit.agents.llm import ToolContext

    described = {
        t["function"]["name"]: t["function"]["parameters"]["properties"]
        for t in ToolContext(list(schema.values())).parse_function_tools("openai", strict=True)
    }
    assert "at most 80 characters" in described["get_menu"]["section"]["description"]
    assert "at most 120 characters" in described["find_menu_item"]["name"]["description"]
    assert "from yesterday to a year ahead" in described["check_open"]["date"]["description"]
    assert described["get_menu"]["dietary_need"]["enum"] == [
        "vegan", "vegetarian", "gluten-free", "dairy-free", "nut-free", "halal", "kosher", None,
    ]  # fmt: skip
