"""The worker records a call as it goes: a real AgentSession with the scripted model, the real tools against the
database, and CallRecord following the session; what staff will read lands in the database, in order."""

from __future__ import annotations

import html
import re

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from livekit.agents import AgentSession

from agent_worker import lookups, turn_facts
from agent_worker.agent import RestaurantAgent
from agent_worker.db import run_orm
from agent_worker.records import MAX_FACT_CHARS, MAX_MESSAGE_CHARS, CallRecord
from dispatch.models import Call, TurnFacts, UnansweredQuestion
from restaurants.models import Restaurant
from tests.conftest import MONDAY_NIGHT_UTC, pinned
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-1-00000000000000000000000000000001"
ADDRESS = "Trattoria Test is at Via dei Coronari 12, 00186 Roma, Italy. Phone: 0 6, 1 2 3 4, 5 6 7 8."
NOTED = (
    "Noted for the staff of Trattoria Test. Tell the diner you do not know, that the staff will see the question, "
    "and that they can call 0 6, 1 2 3 4, 5 6 7 8."
)


@pytest.fixture
def call(restaurant) -> Call:
    return Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")


def converse(restaurant, room_name: str, *questions) -> None:
    """Each typed question through a session recorded as the worker records it; waits for the writes. A
    callable among the questions is run (through the ORM bridge) between the turns before and after it: a
    staff member's edit. The model answers "open now" and "when are you open" from the facts it is given."""
    model = ScriptedLLM(
        Rule("address", "get_address"),
        Rule("parking", "record_unanswered_question", {"question": "Is there parking nearby?"}),
        Rule("dessert", "get_menu", {"section": "Desserts"}),
        Rule("open now", "check_open", fact=turn_facts.OPEN_NOW),
        Rule("when are you open", "get_opening_hours", fact=turn_facts.WEEK),
    )

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant.pk)
        record = CallRecord(room_name)
        async with model, AgentSession(llm=model) as session:
            record.follow(session)
            await session.start(RestaurantAgent(profile, record))
            for question in questions:
                if callable(question):
                    await run_orm(question)
                else:
                    await session.run(user_input=question)
            await record.flushed()

    async_to_sync(main)()


def test_what_was_said_and_the_tools_land_in_the_database_in_order(restaurant, call):
    converse(restaurant, ROOM, "What is your address?", "Any desserts?")

    call.refresh_from_db()
    assert [(m.role, m.text) for m in call.messages.all()] == [
        ("diner", "What is your address?"),
        ("agent", ADDRESS),
        ("diner", "Any desserts?"),
        ("agent", "Sorry: We don't have a section called Desserts. Our menu sections are: Antipasti, Pizze."),
    ]
    assert [(t.name, t.arguments, t.output, t.is_error) for t in call.tool_calls.all()] == [
        ("get_address", {}, ADDRESS, False),
        ("get_menu", {"section": "Desserts"}, "We don't have a section called Desserts. Our menu sections are: Antipasti, Pizze.", True),
    ]  # fmt: skip
    assert all(t.duration_ms is not None and t.duration_ms >= 0 for t in call.tool_calls.all())
    assert (call.message_count, call.tool_call_count) == (4, 2)


def test_a_question_the_data_does_not_answer_is_queued_for_the_staff(restaurant, call):
    converse(restaurant, ROOM, "Is there parking nearby?")

    [asked] = UnansweredQuestion.objects.all()
    assert (asked.restaurant, asked.call, asked.question, asked.resolved_at) == (
        restaurant, call, "Is there parking nearby?", None,
    )  # fmt: skip
    assert list(call.messages.values_list("text", flat=True)) == ["Is there parking nearby?", NOTED]


def test_without_a_call_row_the_question_is_kept_for_the_restaurant(restaurant):
    converse(restaurant, "", "Is there parking nearby?")  # console mode: no Call

    [asked] = UnansweredQuestion.objects.all()
    assert (asked.restaurant, asked.call) == (restaurant, None)


def test_an_endless_typed_message_is_kept_cut(restaurant, call):
    converse(restaurant, ROOM, "Tell me " + "x" * 10_000)

    said = call.messages.first().text
    assert len(said) == MAX_MESSAGE_CHARS and said.endswith("…")


@pytest.mark.parametrize(
    "question,noted",
    [("  Do you   take dogs? ", "Do you take dogs?"), ("why " * 200, ("why " * 200)[:299] + "…")],
)
def test_the_question_staff_read_is_tidy_and_bounded(question, noted):
    assert lookups.question_to_note(question) == noted


# --- The facts the agent answered from (turn_facts), for staff ------------------------------------------------


def facts_in(call: Call) -> list[dict[str, str]]:
    return [dict(given.facts) for given in TurnFacts.objects.filter(call=call)]


@pinned(MONDAY_NIGHT_UTC)  # the open-now sentence names the minute: two turns in one minute give the same facts
def test_an_answer_from_the_facts_is_recorded_with_the_facts_it_came_from(clock, restaurant, call, admin_client):
    converse(restaurant, ROOM, "Are you open now?")

    assert not call.tool_calls.exists()  # nothing else says where the answer came from
    [given] = TurnFacts.objects.filter(call=call)
    labels = [turn_facts.OPEN_NOW, turn_facts.TODAY, turn_facts.WEEK, turn_facts.ADDRESS]
    assert [label for label, _ in given.facts] == labels
    assert dict(given.facts)[turn_facts.OPEN_NOW] == clock.now_answer
    assert dict(given.facts)[turn_facts.ADDRESS] == ADDRESS
    diner, agent = call.messages.all()
    assert (diner.text, agent.text) == ("Are you open now?", clock.now_answer)
    assert diner.created_at <= given.created_at <= agent.created_at

    # The staff's call page, in order: the question, the facts given, the answer.
    page = admin_client.get(f"/staff/calls/{call.pk}/").content.decode()
    record = re.search(r'<ol id="record".*?</ol>', page, re.S)[0]
    entries = re.findall(r"<li [^>]*>(.*?)</li>", record, re.S)
    texts = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", e)).split()[1:]) for e in entries]  # without the time
    assert texts[0] == "Diner Are you open now?"
    assert texts[1].startswith(f"Facts given Open now? {clock.now_answer} Today's hours: Tuesday 2026-06-09: ")
    assert texts[1].endswith(f"Address and phone: {ADDRESS}")
    assert texts[2] == f"Agent {clock.now_answer}"
    assert "“Facts given” is what the agent was told of the restaurant with its answers" in page

    # The Call admin, in the same order.
    admin_page = admin_client.get(reverse("admin:dispatch_call_change", args=[call.pk])).content.decode()
    positions = [admin_page.index(text) for text in (
        "<strong>Diner</strong>: Are you open now?",
        f"<strong>Facts given</strong>: Open now? {clock.now_answer} Today&#x27;s hours: ",
        f"<strong>Agent</strong>: {clock.now_answer}",
    )]  # fmt: skip
    assert positions == sorted(positions)


@pinned(MONDAY_NIGHT_UTC)
def test_the_same_facts_are_stored_once_and_an_edit_adds_the_new_ones(clock, restaurant, call):
    def staff_change_the_phone_number():
        Restaurant.objects.filter(pk=restaurant.pk).update(phone="+390698765432")

    # Five model requests (the address takes two: the tool call, then the answer), the same facts for four.
    converse(
        restaurant, ROOM, "Are you open now?", "When are you open?", "What is your address?",
        staff_change_the_phone_number, "Sorry, when are you open?",
    )  # fmt: skip

    given = facts_in(call)
    assert len(given) == 2
    assert given[0][turn_facts.ADDRESS] == ADDRESS
    assert given[1][turn_facts.ADDRESS] == ADDRESS.replace("1 2 3 4, 5 6 7 8", "9 8 7 6, 5 4 3 2")
    assert {**given[0], turn_facts.ADDRESS: ""} == {**given[1], turn_facts.ADDRESS: ""}
    assert call.messages.count() == 8


def test_with_the_facts_switched_off_none_are_recorded(restaurant, call, settings):
    settings.AGENT_TURN_FACTS = False

    converse(restaurant, ROOM, "What is your address?", "Are you open now?")

    assert not TurnFacts.objects.exists()
    assert [t.name for t in call.tool_calls.all()] == ["get_address", "check_open"]


def test_without_a_call_row_no_facts_are_recorded(restaurant):
    converse(restaurant, "", "Are you open now?")  # console mode: no Call

    assert not TurnFacts.objects.exists()


def test_a_fact_too_long_to_keep_is_kept_cut(restaurant, call):
    async def main():
        record = CallRecord(ROOM)
        record.facts_given({turn_facts.OPEN_NOW: "Open now.", turn_facts.WEEK: "Mondays " * 1000})
        await record.flushed()

    async_to_sync(main)()

    [given] = facts_in(call)
    assert given[turn_facts.OPEN_NOW] == "Open now."
    assert len(given[turn_facts.WEEK]) == MAX_FACT_CHARS and given[turn_facts.WEEK].endswith("…")
