"""The worker records a call as it goes: a real AgentSession with the scripted model, the real tools against the
database, and CallRecord following the session; what staff will read lands in the database, in order."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from livekit.agents import AgentSession

from agent_worker import answers
from agent_worker.agent import RestaurantAgent
from agent_worker.db import run_orm
from agent_worker.records import MAX_MESSAGE_CHARS, CallRecord
from dispatch.models import Call, UnansweredQuestion
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-1-00000000000000000000000000000001"
ADDRESS = "Trattoria Test is at Via dei Coronari 12, 00186 Roma, Italy. Phone: 0 6, 1 2 3 4, 5 6 7 8."
NOTED = (
    "Noted for the staff of Trattoria Test. Tell the diner you do not know, that the staff will see the question, "
    "and that they can call +390612345678."
)


@pytest.fixture
def call(restaurant) -> Call:
    return Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")


def converse(restaurant, room_name: str, *questions: str) -> None:
    """Each typed question through a session recorded as the worker records it; waits for the writes."""
    model = ScriptedLLM(
        Rule("address", "get_address"),
        Rule("parking", "record_unanswered_question", {"question": "Is there parking nearby?"}),
        Rule("dessert", "get_menu", {"section": "Desserts"}),
    )

    async def main():
        profile = await run_orm(answers.load_profile, restaurant.pk)
        record = CallRecord(room_name)
        async with model, AgentSession(llm=model) as session:
            record.follow(session)
            await session.start(RestaurantAgent(profile, record))
            for question in questions:
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
    assert answers.question_to_note(question) == noted
