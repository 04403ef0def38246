"""The order card the diner's page shows (agent_worker/order_card.py): a whole order conversation on the demo
data through AgentSession with the scripted model, in a room whose agent side records what it sends
(tests/fakes/data_streams.py stands in for LiveKit's client, which cannot connect without a server).

Taquería La Paloma (demo) takes orders: Al pastor (4.25) needs one of "Choose your salsa" and takes up to three
Extras (Guacamole +1.50). The clock is pinned at 22:30 UTC on Monday 8 June 2026: 15:30 in Los Angeles, open
until 22:00, so 19:30 is a pickup time for today.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from livekit.agents import AgentSession, room_io

from agent_worker import lookups
from agent_worker.agent import PhoneAgent, PhoneCaller, RestaurantAgent
from agent_worker.cards import SEND_WAIT
from agent_worker.db import run_orm
from agent_worker.order_card import MAX_CARD_BYTES, TOPIC, encode
from agent_worker.records import CallRecord
from dispatch.models import Call
from orders.models import Order
from restaurants.models import Restaurant
from tests.conftest import MONDAY_NIGHT_UTC, pinned
from tests.fakes.data_streams import SentData, room_sending_to
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-3-0123456789abcdef0123456789abcdef"
DINER = "diner-7f3a"
PM = "\u202fPM"  # en-US writes "7:30 PM" with a narrow no-break space (CLDR)

ADD = Rule(
    "al pastor", "add_to_order", {"dish": "Al pastor", "quantity": 2, "choices": ["Salsa roja", "Guacamole"]}
)
ADD_NO_SALSA = Rule("tacos", "add_to_order", {"dish": "Al pastor", "quantity": 2, "choices": ["Guacamole"]})
PICKUP = Rule("pick", "set_pickup", {"name": "Giulia", "date": "today", "time": "19:30", "phone": "+1 323 555 0199"})
READ = Rule("read", "read_order")


def web_call_at_paloma() -> Restaurant:
    """La Paloma (load_demo has run), with a web call in ROOM whose diner is DINER."""
    restaurant = Restaurant.objects.get(slug="taqueria-la-paloma")
    Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity=DINER)
    return restaurant


@pytest.fixture
def paloma(db) -> Restaurant:
    """The demo restaurants (request the clock first), La Paloma's web call with its diner in the room."""
    call_command("load_demo", stdout=io.StringIO())
    return web_call_at_paloma()


def talk(restaurant, model: ScriptedLLM, sent: SentData, *turns, caller: PhoneCaller | None = None, settle=0.0):
    """Each turn through one session in a room whose agent side is `sent`: a string is what the diner types; a
    callable gets the results so far and may change the model's script. `settle`: seconds to wait after the last
    turn (for sends still going). Returns the RunResults."""

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant.pk)
        record = CallRecord(ROOM)
        agent = PhoneAgent(profile, record, caller) if caller else RestaurantAgent(profile, record)
        results = []
        async with model, AgentSession(llm=model) as session:
            await session.start(
                agent, room=room_sending_to(sent, ROOM),
                room_options=room_io.RoomOptions(audio_input=False, audio_output=False),
            )  # fmt: skip
            for turn in turns:
                if callable(turn):
                    turn(results)
                else:
                    results.append(await session.run(user_input=turn))
            await asyncio.sleep(settle)
        return results

    return async_to_sync(main)()


def output(result, tool: str) -> tuple[str, bool]:
    result.expect.next_event().is_function_call(name=tool)
    item = result.expect.next_event().is_function_call_output().event().item
    return item.output, item.is_error


def cards(sent: SentData) -> list[dict]:
    return [json.loads(each.text) for each in sent.on_topic(TOPIC)]


def order_by_voice(restaurant: Restaurant) -> tuple[SentData, ScriptedLLM, list]:
    """A diner at La Paloma (web_call_at_paloma) asks for two tacos with guacamole (an extra), is asked for the
    salsa the dish requires, names it, gives a name, a pickup time at 19:30 today and a phone number, hears the
    order read back and says yes. Returns what the agent sent, the scripted model and the turns' RunResults."""
    sent = SentData()
    model = ScriptedLLM(ADD_NO_SALSA, ADD, PICKUP, READ)

    def confirm_the_version_read_back(results):
        version = int(results[-1].expect[1].event().item.output.split("Version ")[1].split(".")[0])
        model.rules = (Rule("yes", "place_order", {"version": version}),)

    results = talk(
        restaurant, model, sent,
        "Two tacos with guacamole to take away", "Two al pastor with salsa roja and guacamole",
        "I'll pick them up at half past seven, Giulia, +1 323 555 0199", "Please read it back",
        confirm_the_version_read_back, "Yes, place it",
    )  # fmt: skip
    return sent, model, results


@pinned(MONDAY_NIGHT_UTC)
def test_the_diner_sees_each_line_with_its_choices_and_total_and_then_the_confirmation(clock, paloma):
    sent, model, (missing, added, *_) = order_by_voice(paloma)

    assert output(missing, "add_to_order")[1]  # the salsa was missing: no order yet, nothing to show
    assert not output(added, "add_to_order")[1]
    order = Order.objects.get()
    shown = cards(sent)
    assert [card["seq"] for card in shown] == [1, 2, 3, 4]  # add, pickup, read back, placed
    assert all(each.destination_identities == [DINER] for each in sent.texts)  # the diner's page, nobody else's
    assert sent.rpcs == []

    # After add_to_order: the line with its choices and price, and the total, as the restaurant writes them.
    assert shown[0] == {
        "seq": 1, "status": "draft", "number": None,
        "lines": [{"quantity": 2, "name": "Al pastor", "choices": ["Salsa roja", "Guacamole"], "note": "",
                   "line_total": "$11.50", "available": True}],
        "more_lines": 0, "total": "$11.50", "pickup": None, "customer_name": "",
    }  # fmt: skip
    # After set_pickup: the time in Los Angeles (19:30 there is 02:30 UTC tomorrow).
    assert shown[1]["pickup"] == {"time": f"7:30{PM}", "day": "today", "date": "2026-06-08"}
    assert shown[1]["customer_name"] == "Giulia" and shown[2]["status"] == "draft"
    # After place_order: the confirmation, with the number the kitchen will call.
    assert order.status == Order.Status.PLACED and order.number
    assert {k: shown[3][k] for k in ("status", "number", "total", "pickup", "customer_name")} == {
        "status": "placed", "number": order.number, "total": "$11.50",
        "pickup": {"time": f"7:30{PM}", "day": "today", "date": "2026-06-08"}, "customer_name": "Giulia",
    }  # fmt: skip
    assert shown[3]["lines"] == shown[0]["lines"]

    # Each card was with LiveKit before its tool returned (the model's next request), within half a second of
    # the request that called the tool.
    tool_calls = [r["at"] for r in model.requests if r["chat_ctx"].items[-1].type == "message"][1:]
    tool_returns = [r["at"] for r in model.requests if r["chat_ctx"].items[-1].type == "function_call_output"][1:]
    for card, called, returned in zip(sent.texts, tool_calls, tool_returns, strict=True):
        assert called <= card.at and card.done_at <= returned
        assert card.done_at - called < 0.5


@pinned(MONDAY_NIGHT_UTC)
def test_a_cancelled_order_is_shown_cancelled(clock, paloma):
    sent = SentData()
    model = ScriptedLLM(ADD, Rule("cancel", "cancel_order"))

    talk(paloma, model, sent, "Two al pastor with salsa roja and guacamole", "Cancel it please")

    assert [(card["status"], card["total"]) for card in cards(sent)] == [("draft", "$11.50"), ("cancelled", "$11.50")]


@pinned(MONDAY_NIGHT_UTC)
def test_nothing_is_sent_on_a_phone_call(clock, paloma):
    Call.objects.filter(room_name=ROOM).update(channel=Call.Channel.PHONE, participant_identity="sip_+13235550199")
    caller = PhoneCaller(
        room_name=ROOM, identity="sip_+13235550199", number="+13235550199", dialled="+13235550142", can_transfer=False
    )
    sent = SentData()
    model = ScriptedLLM(ADD, READ)

    added, read = talk(paloma, model, sent, "Two al pastor with salsa roja and guacamole", "Read it back",
                       caller=caller)  # fmt: skip

    assert not output(added, "add_to_order")[1] and not output(read, "read_order")[1]
    assert Order.objects.get().channel == Order.Channel.PHONE
    assert sent.texts == [] and sent.rpcs == []


@pinned(MONDAY_NIGHT_UTC)
def test_a_card_that_cannot_be_sent_does_not_fail_the_tool(clock, paloma, caplog):
    sent = SentData(fail="engine: data channel closed")
    model = ScriptedLLM(ADD)

    with caplog.at_level(logging.WARNING, logger="maitre.agent"):
        [added] = talk(paloma, model, sent, "Two al pastor with salsa roja and guacamole")

    text, error = output(added, "add_to_order")
    assert not error and "total is now $11.50" in text
    assert Order.objects.get().total == 11.5
    warnings = [r for r in caplog.records if r.name == "maitre.agent" and r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"room {ROOM}: order card 1 not sent to {DINER}: engine: data channel closed"
    ]
    assert warnings[0].exc_info is None  # one line, no traceback


@pinned(MONDAY_NIGHT_UTC)
def test_a_slow_network_holds_the_tool_back_at_most_a_moment(clock, paloma):
    sent = SentData(delay=1.5)
    model = ScriptedLLM(ADD)

    [added] = talk(paloma, model, sent, "Two al pastor with salsa roja and guacamole", settle=1.6)

    assert not output(added, "add_to_order")[1]
    [card] = sent.texts
    answered = model.requests[-1]["at"]  # the model hears the tool's output
    assert card.at < answered < card.at + SEND_WAIT + 0.5  # not the 1.5 s the send takes
    assert card.done_at > answered  # the card went on, and got there
    assert json.loads(card.text)["total"] == "$11.50"


def test_a_huge_order_still_fits_one_card_and_says_how_many_lines_are_left_out():
    line = {"quantity": 20, "name": "N" * 120, "choices": ["C" * 80] * 20, "note": "n" * 140,
            "line_total": "$1,234.50", "available": True}  # fmt: skip
    card = {"status": "draft", "number": None, "lines": [line] * 30, "more_lines": 0, "total": "$37,035.00",
            "pickup": None, "customer_name": "G" * 80}  # fmt: skip

    text = encode(card, 7)

    assert len(text.encode()) <= MAX_CARD_BYTES
    shown = json.loads(text)
    assert shown["seq"] == 7 and shown["total"] == "$37,035.00"
    assert 0 < len(shown["lines"]) < 30 and shown["more_lines"] == 30 - len(shown["lines"])
