"""Takeout orders through the agent: a whole conversation with the scripted model in a text-only AgentSession,
the tools calling orders.services against the database. Trattoria Test takes orders here; its Margherita (9.50)
has a required Size (Small -1.50, Regular, Large +3.00) and up to two Extras (Basil +0.50, Burrata +2.50).
The clock is pinned at 00:30 on Tuesday in Rome: tonight's dinner (19:00-23:00) takes pickups."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from livekit.agents import AgentSession

from agent_worker import lookups
from agent_worker.agent import PhoneAgent, PhoneCaller, RestaurantAgent
from agent_worker.db import run_orm
from agent_worker.records import CallRecord
from dispatch.models import Call
from orders.models import Order, OrderLine
from restaurants.models import Modifier, ModifierGroup
from tests.conftest import MONDAY_NIGHT_UTC, ROME, make_restaurant, pinned
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "maitre-trattoria-test-order"
ORDER_TOOLS = ["add_to_order", "cancel_order", "place_order", "read_order", "remove_from_order", "set_pickup"]
REQUIRED_SIZE = "For the Margherita, choose one of Size: Small, Regular or Large."


@pytest.fixture
def takeout(db):
    restaurant = make_restaurant(takes_orders=True)
    margherita = restaurant.menu_items().get(name="Margherita")
    size = ModifierGroup.objects.create(menu_item=margherita, name="Size", min_choices=1, max_choices=1, position=1)
    for position, (name, delta) in enumerate([("Small", "-1.50"), ("Regular", "0"), ("Large", "3.00")]):
        Modifier.objects.create(group=size, name=name, price_delta=Decimal(delta), position=position)
    extras = ModifierGroup.objects.create(menu_item=margherita, name="Extras", min_choices=0, max_choices=2, position=2)
    for position, (name, delta) in enumerate([("Basil", "0.50"), ("Burrata", "2.50")]):
        Modifier.objects.create(group=extras, name=name, price_delta=Decimal(delta), position=position)
    return restaurant


def talk(restaurant, model: ScriptedLLM, *turns, room: str = "", caller: PhoneCaller | None = None):
    """Each turn through one session: a string is what the diner types; a callable gets the results so far and
    may change the model's script (as a model that remembers what a tool said). With `caller`, the session is a
    phone call's (PhoneAgent). Returns the RunResults."""

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant.pk)
        results = []
        record = CallRecord(room)
        agent = PhoneAgent(profile, record, caller) if caller else RestaurantAgent(profile, record)
        async with model, AgentSession(llm=model) as session:
            await session.start(agent)
            for turn in turns:
                if callable(turn):
                    turn(results)
                else:
                    results.append(await session.run(user_input=turn))
        return results

    return async_to_sync(main)()


def output(result, tool: str) -> tuple[str, bool]:
    """The tool's call (checked by name) and its output: (text, is_error)."""
    result.expect.next_event().is_function_call(name=tool)
    item = result.expect.next_event().is_function_call_output().event().item
    return item.output, item.is_error


def version_in(text: str) -> int:
    return int(re.search(r"Version (\d+)\.", text)[1])


ADD_PLAIN = Rule("a margherita", "add_to_order", {"dish": "Margherita", "quantity": 1, "choices": ["Burrata"]})
ADD_LARGE = Rule(
    "large", "add_to_order", {"dish": "margherita", "quantity": 2, "choices": ["Large", "Burrata"], "note": "well done"}
)
PICKUP = Rule("pick it up", "set_pickup", {"name": "Giulia", "date": "today", "time": "19:30", "phone": "+39 333 123 4567"})
READ = Rule("read it back", "read_order")
DIAVOLA = Rule("diavola", "add_to_order", {"dish": "Diavola"})


@pinned(MONDAY_NIGHT_UTC)
def test_a_whole_order_is_asked_for_its_choice_read_back_confirmed_and_placed(clock, takeout):
    call = Call.objects.create(restaurant=takeout, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")
    model = ScriptedLLM(ADD_PLAIN, ADD_LARGE, PICKUP, READ)

    def confirm_with_the_version_read_back(results):
        heard = version_in(results[-1].expect[1].event().item.output)
        model.rules = (Rule("yes", "place_order", {"version": heard}),)

    missing, added, pickup, read, placed = talk(
        takeout, model,
        "I'd like a margherita with burrata to take away", "Make it two large ones with burrata, well done",
        "I'll pick it up tonight at half past seven, Giulia, +39 333 123 4567", "Please read it back",
        confirm_with_the_version_read_back, "Yes, place it",
        room=ROOM,
    )  # fmt: skip

    # The required size was missing: the model hears the domain's sentence and relays it.
    text, error = output(missing, "add_to_order")
    assert error and text == REQUIRED_SIZE
    assert REQUIRED_SIZE in missing.expect.next_event().is_message(role="assistant").event().item.text_content

    # 9.50 + 3.00 + 2.50 = 15.00 each, two of them.
    text, error = output(added, "add_to_order")
    assert not error and "2 Margherita with Large, Burrata (well done), €30.00" in text
    assert "total is now €30.00" in text

    text, error = output(pickup, "set_pickup")
    assert not error and text == "Pickup at 19:30 today. Name: Giulia. Phone: +393331234567."

    text, error = output(read, "read_order")
    assert not error
    assert "Line 1: 2 Margherita with Large, Burrata (well done), €30.00." in text
    assert "Total €30.00." in text and "Pickup at 19:30 today." in text
    version = version_in(text)
    assert f"place_order with version {version}" in text

    placed.expect.next_event().is_function_call(name="place_order", arguments={"version": version})
    text = placed.expect.next_event().is_function_call_output().event().item.output
    order = Order.objects.get()
    assert order.number and text == (
        f"Placed: order number {order.number}, Giulia, total €30.00, pickup at 19:30 today. Payment is at pickup."
    )
    assert (order.status, order.channel, order.call) == (Order.Status.PLACED, Order.Channel.WEB, call)
    assert order.pickup_at.astimezone(ROME) == dt.datetime(2026, 6, 9, 19, 30, tzinfo=ROME)
    assert (order.total, order.customer_name, order.version) == (Decimal("30.00"), "Giulia", version)
    [line] = order.lines.all()
    assert (line.quantity, line.choices, line.note, line.line_total) == (2, ["Large", "Burrata"], "well done", 30)


@pinned(MONDAY_NIGHT_UTC)
def test_on_the_phone_the_callers_number_is_on_the_order_without_asking(clock, takeout):
    Call.objects.create(
        restaurant=takeout, room_name=ROOM, channel=Call.Channel.PHONE, caller_number="+393471234567",
        participant_identity="sip_+393471234567",
    )  # fmt: skip
    caller = PhoneCaller(
        room_name=ROOM, identity="sip_+393471234567", number="+393471234567", dialled=str(takeout.phone),
        can_transfer=False,
    )  # fmt: skip
    model = ScriptedLLM(ADD_LARGE, Rule("pick it up", "set_pickup", {"name": "Marco", "time": "20:00"}), READ)

    def confirm(results):
        model.rules = (Rule("yes", "place_order", {"version": version_in(results[-1].expect[1].event().item.output)}),)

    added, pickup, read, placed = talk(
        takeout, model, "Two large margheritas with burrata, well done", "Marco, I'll pick it up at eight",
        "Read it back", confirm, "Yes", room=ROOM, caller=caller,
    )  # fmt: skip

    assert not output(added, "add_to_order")[1]
    assert output(pickup, "set_pickup") == ("Pickup at 20:00 today. Name: Marco. Phone: +393471234567.", False)
    text, error = output(read, "read_order")
    assert not error and "No phone number yet." not in text
    text, error = output(placed, "place_order")
    assert not error and text.startswith("Placed: order number 101, Marco, total €30.00, pickup at 20:00 today.")
    order = Order.objects.get()
    assert (order.channel, order.customer_phone, order.call.room_name) == (Order.Channel.PHONE, "+393471234567", ROOM)


@pinned(MONDAY_NIGHT_UTC)
def test_placing_a_version_older_than_the_last_change_refuses(clock, takeout):
    model = ScriptedLLM(ADD_LARGE, PICKUP, READ, DIAVOLA)

    def confirm_the_old_read_back(results):
        heard = version_in(results[2].expect[1].event().item.output)
        model.rules = (DIAVOLA, Rule("yes", "place_order", {"version": heard}))

    *_, changed, refused = talk(
        takeout, model,
        "Two large margheritas with burrata", "I'll pick it up at 19:30, Giulia, +39 333 123 4567", "Read it back",
        confirm_the_old_read_back, "Oh and a diavola", "Yes, that's right",
    )  # fmt: skip

    assert not output(changed, "add_to_order")[1]
    text, error = output(refused, "place_order")
    assert error and "changed since it was read back" in text
    order = Order.objects.get()
    assert (order.status, order.number, order.lines.count()) == (Order.Status.DRAFT, None, 2)


@pinned(MONDAY_NIGHT_UTC)
def test_a_line_can_be_removed_and_the_order_cancelled(clock, takeout):
    model = ScriptedLLM(
        Rule("no diavola", "remove_from_order", {"line": 2}), ADD_LARGE, DIAVOLA, Rule("cancel", "cancel_order")
    )
    *_, removed, cancelled = talk(
        takeout, model, "Two large margheritas", "And a diavola", "Actually no diavola", "Cancel everything"
    )

    assert output(removed, "remove_from_order") == ("Removed. The order total is now €30.00.", False)
    assert output(cancelled, "cancel_order") == ("The order is cancelled.", False)
    order = Order.objects.get()
    assert order.status == Order.Status.CANCELLED
    assert list(order.lines.values_list("name", flat=True)) == ["Margherita"]


@pytest.mark.parametrize(
    "arguments, heard",
    [
        ({"dish": "Diavola", "quantity": 0}, lookups.UNCLEAR_QUANTITY),
        ({"dish": "Diavola", "quantity": -1}, lookups.UNCLEAR_QUANTITY),
        ({"dish": "Diavola", "quantity": 21}, lookups.UNCLEAR_QUANTITY),
        ({"dish": "Diavola", "quantity": 1e9}, lookups.UNCLEAR_QUANTITY),
        ({"dish": "Diavola", "quantity": "lots"}, lookups.UNCLEAR_QUANTITY),
        ({"dish": "Diavola", "note": "x" * 10_000}, "A note for the kitchen can be at most 140 characters"),
        ({"dish": "Pizza al caviale"}, "We have no dish called “Pizza al caviale”."),
        ({"dish": "Tartufo"}, "Sorry, the Tartufo is not available right now."),
        ({"dish": "Margherita", "choices": ["Large", "Nduja"]}, "The Margherita has no choice called “Nduja”."),
    ],
    ids=["zero", "negative", "21", "1e9", "string", "10000-char-note", "unknown-dish", "86d-dish", "other-choice"],
)
@pinned(MONDAY_NIGHT_UTC)
def test_a_bad_dish_line_is_a_sentence_and_nothing_is_stored(clock, takeout, arguments, heard):
    [result] = talk(takeout, ScriptedLLM(Rule("order", "add_to_order", arguments)), "I want to order")

    text, error = output(result, "add_to_order")
    assert error and text.startswith(heard)
    assert not Order.objects.exists() and not OrderLine.objects.exists()


@pinned(MONDAY_NIGHT_UTC)
def test_before_any_dish_the_other_order_tools_say_there_is_no_order(clock, takeout):
    model = ScriptedLLM(READ, PICKUP, Rule("yes", "place_order", {"version": 1}), Rule("cancel", "cancel_order"))
    results = talk(takeout, model, "Read it back", "I'll pick it up at 19:30", "yes", "cancel")

    for result, tool in zip(results, ["read_order", "set_pickup", "place_order", "cancel_order"], strict=True):
        text, error = output(result, tool)
        assert error and text in (lookups.NO_ORDER_YET, lookups.NOTHING_TO_CANCEL)
    assert not Order.objects.exists()


@pinned(MONDAY_NIGHT_UTC)
def test_an_impossible_pickup_time_offers_the_nearest_and_changes_nothing(clock, takeout):
    model = ScriptedLLM(DIAVOLA, Rule("4 pm", "set_pickup", {"time": "16:00"}))
    _, refused = talk(takeout, model, "A diavola please", "At 4 pm")

    text, error = output(refused, "set_pickup")
    assert error and text.startswith("We are closed at 16:00 today. We can have it ready today at 13:45")
    assert Order.objects.get().pickup_at is None


def test_a_restaurant_that_does_not_take_orders_offers_no_order_tools(restaurant):
    model = ScriptedLLM()
    talk(restaurant, model, "Hello")

    assert not set(ORDER_TOOLS) & set(model.requests[0]["tools"])
    instructions = model.requests[0]["instructions"]
    assert "You cannot take orders, bookings or payments" in instructions
    assert "# Takeout orders" not in instructions


def test_a_restaurant_that_takes_orders_offers_them_with_their_rules(takeout):
    model = ScriptedLLM()
    talk(takeout, model, "Hello")

    assert set(ORDER_TOOLS) <= set(model.requests[0]["tools"])
    instructions = model.requests[0]["instructions"]
    assert "# Takeout orders" in instructions and "Never ask for card details" in instructions
    assert "You cannot take bookings, or payments (takeout orders are paid at pickup)" in instructions
    assert "You cannot take orders" not in instructions
