"""Table reservations through the agent: whole conversations with the scripted model in a text-only AgentSession,
the booking tools calling reservations.availability and reservations.services against the database.

The Copper Kettle (demo, London) takes reservations for up to 8: lunch and dinner on weekdays, 12:00-22:30 on
Saturdays, booked an hour ahead, every 15 minutes, the last table an hour before closing, a table held 90 minutes
for four. load_demo books every table of its next Saturday evening at 18:00, 19:30 and 21:00. The clock is pinned
at 22:30 UTC on Monday 8 June 2026 (23:30 in London): that Saturday is the 13th.

Trattoria Test (tests.conftest.make_restaurant, Rome) takes reservations too where the bad inputs are tried:
dinner 19:00-23:00 Tuesday to Sunday, its floor T1 and T2 for 2, T3 for 2-4 and T6 for 4-6. The clock is then
00:30 on Tuesday 9 June in Rome.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import logging
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from livekit.agents import AgentSession

from agent_worker import bookings, lookups
from agent_worker.agent import PhoneAgent, PhoneCaller, RestaurantAgent
from agent_worker.db import run_orm
from agent_worker.records import CallRecord
from dispatch.models import Call
from reservations.models import Reservation, Table
from reservations.services import reservation_book
from restaurants.models import Restaurant
from tests.conftest import CLOCKS, MONDAY_NIGHT_UTC, ROME, make_restaurant, pinned
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-1-0123456789abcdef0123456789abcdef"
BOOKING_TOOLS = ["book_table", "cancel_reservation", "change_reservation", "check_availability", "find_reservation"]
LONDON = ZoneInfo("Europe/London")
SATURDAY = "2026-06-13"  # the Copper Kettle's full evening, under MONDAY_NIGHT_UTC
THURSDAY = "2026-06-11"  # an ordinary evening at the trattoria, under MONDAY_NIGHT_UTC
DST_SPRING_BEFORE_JUMP = next(c for c in CLOCKS if c.id == "dst-spring-0115-rome-before-jump")


@pytest.fixture
def kettle(db) -> Restaurant:
    """The demo restaurants (request the clock first), the Copper Kettle with a web call in ROOM."""
    call_command("load_demo", stdout=io.StringIO())
    restaurant = Restaurant.objects.get(slug="the-copper-kettle")
    Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity="diner-1")
    return restaurant


def make_bookable(**overrides) -> Restaurant:
    """Trattoria Test taking reservations, with its floor (see the module docstring)."""
    restaurant = make_restaurant(**{"takes_reservations": True, **overrides})
    for name, low, high in [("T1", 1, 2), ("T2", 1, 2), ("T3", 2, 4), ("T6", 4, 6)]:
        Table.objects.create(restaurant=restaurant, name=name, min_seats=low, max_seats=high)
    return restaurant


@pytest.fixture
def trattoria(db) -> Restaurant:
    return make_bookable()


def talk(restaurant, model: ScriptedLLM, *turns, room: str = "", caller: PhoneCaller | None = None):
    """Each turn through one session: a string is what the diner types; a callable gets the results so far and may
    change the model's script or (returning an awaitable) the database between turns. With `caller`, the session
    is a phone call's (PhoneAgent). Returns the RunResults."""

    async def main():
        profile = await run_orm(lookups.load_profile, restaurant.pk)
        agent = PhoneAgent(profile, CallRecord(room), caller) if caller else RestaurantAgent(profile, CallRecord(room))
        results = []
        async with model, AgentSession(llm=model) as session:
            await session.start(agent)
            for turn in turns:
                if callable(turn):
                    done = turn(results)
                    if inspect.isawaitable(done):
                        await done
                else:
                    results.append(await session.run(user_input=turn))
        return results

    return async_to_sync(main)()


def output(result, tool: str) -> tuple[str, bool]:
    """The tool's call (checked by name) and its output: (text, is_error)."""
    result.expect.next_event().is_function_call(name=tool)
    item = result.expect.next_event().is_function_call_output().event().item
    return item.output, item.is_error


def said(result) -> str:
    """What the agent said last in the turn."""
    return [e.item.text_content for e in result.events if e.type == "message" and e.item.role == "assistant"][-1]


def check(date: str, time: str, party) -> dict:
    return {"date": date, "time": time, "party_size": party}


# --- The whole booking --------------------------------------------------------------------------------------


@pinned(MONDAY_NIGHT_UTC)
def test_a_table_for_four_is_booked_by_voice_when_the_first_choice_is_full(clock, kettle):
    model = ScriptedLLM(
        Rule("half past seven", "check_availability", check(SATURDAY, "19:30", 4)),
        Rule("half past four", "check_availability", check(SATURDAY, "16:30", 4)),
        Rule("anna rossi", "", reply="So that's a table for four this Saturday, 13 June, at 16:30, for Anna Rossi, "
             "with a birthday cake noted. Shall I book it?"),  # fmt: skip
        Rule("yes", "book_table", {**check(SATURDAY, "16:30", 4), "name": "Anna Rossi", "notes": "Birthday cake"}),
    )

    booked_before_the_yes = []

    async def look_in_the_book(_results):
        booked_before_the_yes.append(await run_orm(Reservation.objects.filter(guest_name="Anna Rossi").exists))

    full, free, read_back, booked = talk(
        kettle, model,
        "A table for four on Saturday at half past seven, please", "Half past four then",
        "Anna Rossi, and it's a birthday: we'll bring a cake", look_in_the_book, "Yes, please book it",
        room=ROOM,
    )  # fmt: skip

    # The first choice is full: the guest hears why, and the nearest times that day and on the next days.
    text, error = output(full, "check_availability")
    assert not error
    assert text.startswith(
        "We are fully booked at 19:30 on Saturday for 4. We have a table for 4 on Saturday at 16:15 or 16:30, "
        "or at 19:30 on "
    )
    assert "We are fully booked" in said(full) and "16:30" in said(full)
    # The one the guest picks is checked again and is free; nothing is booked yet.
    text, error = output(free, "check_availability")
    assert not error and text.startswith("A table for 4 is free at 16:30 on Saturday (2026-06-13). It is not booked")
    assert "Shall I book it?" in read_back.expect.next_event().is_message(role="assistant").event().item.text_content
    assert booked_before_the_yes == [False]

    text, error = output(booked, "book_table")
    reservation = Reservation.objects.get(guest_name="Anna Rossi")
    spelled = ", ".join(reservation.code)
    assert not error and text == (
        "Booked: a table for 4 at 16:30 on Saturday (2026-06-13), under Anna Rossi. The booking code is "
        f"{reservation.code}: say it letter by letter, {spelled}."
    )
    assert spelled in said(booked)  # the code, said letter by letter
    assert reservation.starts_at == dt.datetime(2026, 6, 13, 16, 30, tzinfo=LONDON)
    assert reservation.ends_at - reservation.starts_at == dt.timedelta(minutes=90)
    assert (reservation.party_size, reservation.notes, reservation.status) == (4, "Birthday cake", "booked")
    # Recorded with the call it was made on.
    assert (reservation.channel, reservation.call.room_name, reservation.guest_phone) == ("web", ROOM, "")


def test_a_restaurant_that_takes_no_reservations_offers_no_booking_tools(restaurant):
    model = ScriptedLLM()
    talk(restaurant, model, "Hello")

    assert not set(BOOKING_TOOLS) & set(model.requests[0]["tools"])
    instructions = model.requests[0]["instructions"]
    assert "You cannot take orders, bookings or payments" in instructions
    assert "# Table reservations" not in instructions


def test_a_restaurant_that_takes_reservations_offers_them_with_their_rules(trattoria):
    model = ScriptedLLM()
    talk(trattoria, model, "Hello")

    assert set(BOOKING_TOOLS) <= set(model.requests[0]["tools"])
    instructions = model.requests[0]["instructions"]
    assert "# Table reservations" in instructions and "books tables for parties of 1 to 8" in instructions
    assert "call book_table only after the diner says yes" in instructions
    assert "Never promise or name a particular table" in instructions
    assert "booking code letter by letter" in instructions
    assert "You cannot take orders or payments" in instructions and "bookings or payments" not in instructions


# --- Bad input ----------------------------------------------------------------------------------------------

BAD_CHECKS = [
    # (arguments, restaurant settings, what the diner hears, whether it is a tool error)
    (check(THURSDAY, "20:00", 0), {}, bookings.UNCLEAR_PARTY, True),
    (check(THURSDAY, "20:00", -2), {}, bookings.UNCLEAR_PARTY, True),
    (check(THURSDAY, "20:00", 500), {},
     "For more than 8 people, please talk to the staff: they will arrange it. Tell the diner they can call 0 6, "
     "1 2 3 4, 5 6 7 8.", True),
    (check(THURSDAY, "20:00", "a few"), {}, bookings.UNCLEAR_PARTY, True),
    (check(THURSDAY, "20:00", 7), {"max_party_size": 6}, "For more than 6 people, please talk to the staff", True),
    (check("2026-06-01", "20:00", 2), {}, bookings.DAY_PASSED, True),
    (check("2026-06-08", "20:00", 2), {}, "That time has already passed.", False),
    (check("2026-09-01", "20:00", 2), {}, "We take bookings up to 60 days ahead.", False),
    (check("2027-09-01", "20:00", 2), {}, "We take bookings up to 60 days ahead. Which day would you like?", True),
    (check("2027-02-31", "20:00", 2), {}, bookings.NO_SUCH_DAY, True),
    (check("the 31st of February", "20:00", 2), {}, lookups.UNCLEAR_DAY, True),
    (check(THURSDAY, "16:00", 2), {},
     "We are closed at 16:00 on Thursday. We have a table for 2 on Thursday at 13:15, 13:30, 19:00 or 19:15", False),
    (check(THURSDAY, "22:30", 2), {}, "The last table is at 22:00 on Thursday.", False),
    (check("today", "13:00", 2), {"booking_notice_minutes": 780}, "Tables are booked at least 13 hours ahead.", False),
    (check(THURSDAY, "20:10", 2), {},
     "Tables are booked every 15 minutes, on the quarter hour. We have a table for 2 on Thursday at 19:45, 20:00, "
     "20:15 or 20:30", False),
    (check(THURSDAY, "half eightish", 2), {}, lookups.UNCLEAR_TIME, True),
    (check(THURSDAY, "8" * 10_000, 2), {}, lookups.UNCLEAR_TIME, True),
    (check(None, "20:00", 2), {}, bookings.ASK_DAY, True),
    (check(THURSDAY, "20:00", 8), {}, "We have no table for 8.", False),
]  # fmt: skip


@pytest.mark.parametrize(
    "arguments, settings_, heard, is_error",
    BAD_CHECKS,
    ids=[
        "party-0", "party-minus-2", "party-500", "party-a-few", "party-above-max", "date-long-past",
        "date-yesterday", "date-beyond-horizon", "date-beyond-a-year", "date-31-february", "date-in-words",
        "outside-hours", "after-last-seating", "inside-notice", "off-the-grid", "time-in-words", "time-10000-chars",
        "no-date", "no-table-that-size",
    ],
)  # fmt: skip
@pinned(MONDAY_NIGHT_UTC)
def test_a_time_that_cannot_be_booked_is_a_sentence_and_proposes_nothing(
    clock, db, caplog, arguments, settings_, heard, is_error
):
    restaurant = make_bookable(**settings_)
    model = ScriptedLLM(
        Rule("table", "check_availability", arguments),
        Rule("book it", "book_table", {**arguments, "name": "Anna"}),
    )

    with caplog.at_level(logging.WARNING):
        checked, booked = talk(restaurant, model, "A table please", "Fine, book it")

    text, error = output(checked, "check_availability")
    assert text.startswith(heard) and error is is_error
    # Nothing was found possible, so there is nothing to book.
    text, error = output(booked, "book_table")
    assert error
    assert not Reservation.objects.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a sentence, never a traceback


@pinned(MONDAY_NIGHT_UTC)
def test_an_off_grid_time_is_booked_only_at_the_grid_time_the_guest_agrees_to(clock, trattoria):
    model = ScriptedLLM(
        Rule("ten past eight", "check_availability", check(THURSDAY, "20:10", 2)),
        Rule("book it", "book_table", {**check(THURSDAY, "20:10", 2), "name": "Anna"}),
        Rule("quarter past", "check_availability", check(THURSDAY, "20:15", 2)),
        Rule("yes", "book_table", {**check(THURSDAY, "20:15", 2), "name": "Anna"}),
    )

    off, not_rounded, agreed, booked = talk(
        trattoria, model, "Two at ten past eight on Thursday", "Just book it", "Quarter past then", "Yes"
    )

    assert "20:00, 20:15" in output(off, "check_availability")[0]
    assert output(not_rounded, "book_table") == (bookings.CHECK_FIRST, True)
    assert not output(agreed, "check_availability")[1]
    assert not output(booked, "book_table")[1]
    assert Reservation.objects.get().starts_at == dt.datetime(2026, 6, 11, 20, 15, tzinfo=ROME)


@pytest.mark.parametrize(
    "booking, heard",
    [
        ({"name": "A" * 10_000}, "That name is too long: at most 80 characters."),
        ({"name": "Anna", "notes": "n" * 10_000}, "A note for the booking can be at most 300 characters"),
        ({"name": None}, "I need a name for the booking."),
        ({"name": "Anna", "time": "20:30"}, bookings.CHECK_FIRST),  # not the time checked
        ({"name": "Anna", "party_size": 3}, bookings.CHECK_FIRST),  # nor the party
    ],
    ids=["name-10000-chars", "note-10000-chars", "no-name", "other-time", "other-party"],
)
@pinned(MONDAY_NIGHT_UTC)
def test_a_bad_booking_is_a_sentence_and_nothing_is_stored(clock, trattoria, booking, heard):
    model = ScriptedLLM(
        Rule("table", "check_availability", check(THURSDAY, "20:00", 2)),
        Rule("yes", "book_table", {**check(THURSDAY, "20:00", 2), **booking}),
    )

    checked, booked = talk(trattoria, model, "A table for two on Thursday at eight", "Yes")

    assert not output(checked, "check_availability")[1]
    text, error = output(booked, "book_table")
    assert error and text.startswith(heard)
    assert not Reservation.objects.exists()


@pinned(MONDAY_NIGHT_UTC)
def test_booking_without_checking_first_books_nothing(clock, trattoria):
    model = ScriptedLLM(Rule("book", "book_table", {**check(THURSDAY, "20:00", 2), "name": "Anna"}))

    [booked] = talk(trattoria, model, "Book a table for two on Thursday at eight, Anna")

    assert output(booked, "book_table") == (bookings.CHECK_FIRST, True)
    assert not Reservation.objects.exists()


@pinned(MONDAY_NIGHT_UTC)
def test_a_second_booking_in_one_call_is_refused(clock, trattoria):
    Call.objects.create(restaurant=trattoria, room_name=ROOM, participant_identity="diner-1")
    model = ScriptedLLM(
        Rule("eight", "check_availability", check(THURSDAY, "20:00", 2)),
        Rule("nine", "check_availability", check(THURSDAY, "21:00", 2)),
    )

    def yes_to(time):
        def script(_results):
            model.rules = (*model.rules[:2], Rule("yes", "book_table", {**check(THURSDAY, time, 2), "name": "Anna"}))

        return script

    *_, first, _, second = talk(
        trattoria, model, "Two at eight on Thursday", yes_to("20:00"), "Yes", "And another at nine", yes_to("21:00"),
        "Yes", room=ROOM,
    )  # fmt: skip

    assert not output(first, "book_table")[1]
    assert output(second, "book_table") == (bookings.BOOKED_ALREADY, True)
    assert Reservation.objects.get().starts_at == dt.datetime(2026, 6, 11, 20, 0, tzinfo=ROME)


@pinned(MONDAY_NIGHT_UTC)
def test_a_table_removed_between_the_check_and_the_booking_is_not_booked(clock, trattoria):
    model = ScriptedLLM(
        Rule("six of us", "check_availability", check(THURSDAY, "20:00", 6)),
        Rule("yes", "book_table", {**check(THURSDAY, "20:00", 6), "name": "Anna"}),
    )

    def staff_take_t6_out_of_service(_results):
        return run_orm(lambda: Table.objects.filter(restaurant=trattoria, name="T6").update(is_active=False))

    checked, booked = talk(trattoria, model, "Six of us on Thursday at eight", staff_take_t6_out_of_service, "Yes")

    assert output(checked, "check_availability")[0].startswith("A table for 6 is free at 20:00 on Thursday")
    text, error = output(booked, "book_table")
    assert error and text.startswith("We have no table for 6.")
    assert not Reservation.objects.exists()


@pinned(MONDAY_NIGHT_UTC)
def test_a_table_taken_between_the_check_and_the_booking_offers_the_nearest_times(clock, trattoria):
    model = ScriptedLLM(
        Rule("six of us", "check_availability", check(THURSDAY, "20:00", 6)),
        Rule("yes", "book_table", {**check(THURSDAY, "20:00", 6), "name": "Anna"}),
    )

    def another_guest_books_t6(_results):
        at = dt.datetime(2026, 6, 11, 19, 30, tzinfo=ROME)
        return run_orm(reservation_book, restaurant=trattoria, starts_at=at, party_size=5, guest_name="Marco")

    _, booked = talk(trattoria, model, "Six of us on Thursday at eight", another_guest_books_t6, "Yes")

    text, error = output(booked, "book_table")
    assert error and text.startswith("We are fully booked at 20:00 on Thursday for 6. We have a table for 6 on")
    assert list(Reservation.objects.values_list("guest_name", flat=True)) == ["Marco"]


@pinned(DST_SPRING_BEFORE_JUMP)  # 01:15 in Rome on 29 March 2026: at 02:00 the clocks go to 03:00
def test_half_past_two_on_the_night_the_clocks_go_forward_is_answered(clock, trattoria):
    model = ScriptedLLM(Rule("half past two", "check_availability", check("today", "02:30", 2)))

    [result] = talk(trattoria, model, "A table for two tonight at half past two")

    text, error = output(result, "check_availability")
    assert not error and text.startswith(
        "The clocks go forward that night, so 02:30 does not exist then; it is 03:00 at that moment. We are closed "
        "at 03:00 today. We have a table for 2 today at 12:00 or 12:15"
    )


# --- Finding, changing and cancelling ----------------------------------------------------------------------

CALLER = "+393471234567"


def phone_call(restaurant: Restaurant, number: str = CALLER, *, can_transfer: bool = False) -> PhoneCaller:
    Call.objects.create(
        restaurant=restaurant, room_name=ROOM, channel=Call.Channel.PHONE, caller_number=number,
        participant_identity=f"sip_{number}",
    )  # fmt: skip
    return PhoneCaller(
        room_name=ROOM, identity=f"sip_{number}", number=number, dialled=str(restaurant.phone),
        can_transfer=can_transfer,
    )  # fmt: skip


def booked_for(restaurant: Restaurant, phone: str = CALLER) -> Reservation:
    """Anna's table for four on Thursday at 20:00, booked earlier with `phone`."""
    return reservation_book(
        restaurant=restaurant, starts_at=dt.datetime(2026, 6, 11, 20, 0, tzinfo=ROME), party_size=4,
        guest_name="Anna Rossi", guest_phone=phone,
    )  # fmt: skip


@pinned(MONDAY_NIGHT_UTC)
def test_on_the_phone_the_callers_number_finds_the_booking_to_change_and_cancel(clock, trattoria):
    reservation = booked_for(trattoria)
    caller = phone_call(trattoria)
    model = ScriptedLLM(
        Rule("my booking", "find_reservation"),
        Rule("half past eight", "change_reservation", {"time": "20:30"}),
        Rule("cancel", "cancel_reservation"),
    )

    found, changed, cancelled = talk(
        trattoria, model, "I'd like to move my booking", "Make it half past eight", "Actually, cancel it",
        room=ROOM, caller=caller,
    )  # fmt: skip

    spelled = ", ".join(reservation.code)
    text, error = output(found, "find_reservation")
    assert not error and text.startswith(
        f"Found: a table for 4 at 20:00 on Thursday (2026-06-11), under Anna Rossi, code {spelled}."
    )
    text, error = output(changed, "change_reservation")
    assert not error and text == (
        f"Changed: a table for 4 at 20:30 on Thursday (2026-06-11), under Anna Rossi, code {spelled}. The code "
        "stays the same."
    )
    reservation.refresh_from_db()
    assert reservation.starts_at == dt.datetime(2026, 6, 11, 20, 30, tzinfo=ROME)
    text, error = output(cancelled, "cancel_reservation")
    assert not error and text == "Cancelled: the table for 4 at 20:30 on Thursday (2026-06-11) under Anna Rossi."
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CANCELLED


@pinned(MONDAY_NIGHT_UTC)
def test_another_callers_number_finds_nothing_and_changes_nothing(clock, trattoria):
    reservation = booked_for(trattoria)
    caller = phone_call(trattoria, "+393339876543")
    model = ScriptedLLM(
        Rule("my booking", "find_reservation", {"name": "Anna Rossi", "code": reservation.code}),
        Rule("cancel", "cancel_reservation"),
        Rule("nine", "change_reservation", {"time": "21:00"}),
    )

    found, cancelled, changed = talk(
        trattoria, model, "I'm calling about my booking", "Cancel it", "Or move it to nine", room=ROOM, caller=caller
    )

    # On the phone the number decides, even with the right name and code.
    text, error = output(found, "find_reservation")
    assert not error and text.startswith("I found no upcoming booking for the number the caller is calling from.")
    assert output(cancelled, "cancel_reservation") == (bookings.FIND_FIRST, True)
    assert output(changed, "change_reservation") == (bookings.FIND_FIRST, True)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.BOOKED
    assert reservation.starts_at == dt.datetime(2026, 6, 11, 20, 0, tzinfo=ROME)


@pinned(MONDAY_NIGHT_UTC)
def test_a_caller_with_several_bookings_says_which_one(clock, trattoria):
    first = booked_for(trattoria)
    second = reservation_book(
        restaurant=trattoria, starts_at=dt.datetime(2026, 6, 12, 19, 0, tzinfo=ROME), party_size=2,
        guest_name="Anna Rossi", guest_phone=CALLER,
    )  # fmt: skip
    caller = phone_call(trattoria)
    model = ScriptedLLM(
        Rule("my bookings", "find_reservation"),
        Rule("cancel", "cancel_reservation"),
        Rule("friday one", "cancel_reservation", {"which": 2}),
    )

    found, unclear, cancelled = talk(
        trattoria, model, "What are my bookings?", "Cancel please", "The Friday one", room=ROOM, caller=caller
    )

    text, _ = output(found, "find_reservation")
    assert text.startswith("Found 2 upcoming bookings: 1) a table for 4 at 20:00 on Thursday")
    assert "2) a table for 2 at 19:00 on Friday" in text
    assert output(unclear, "cancel_reservation") == ("I found 2 bookings: which one (1 to 2)?", True)
    assert not output(cancelled, "cancel_reservation")[1]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (Reservation.Status.BOOKED, Reservation.Status.CANCELLED)


@pinned(MONDAY_NIGHT_UTC)
def test_a_party_too_large_on_the_phone_is_offered_the_transfer(clock, trattoria):
    caller = phone_call(trattoria, can_transfer=True)
    model = ScriptedLLM(Rule("twelve", "check_availability", check(THURSDAY, "20:00", 12)))

    [result] = talk(trattoria, model, "A table for twelve on Thursday at eight", room=ROOM, caller=caller)

    assert output(result, "check_availability") == (
        "For more than 8 people, please talk to the staff: they will arrange it. Offer to put the caller through to "
        "the staff with transfer_to_staff.",
        True,
    )
    assert "transfer_to_staff" in model.requests[0]["tools"]


@pinned(MONDAY_NIGHT_UTC)
def test_a_booking_made_on_the_phone_has_the_callers_number(clock, trattoria):
    caller = phone_call(trattoria)
    model = ScriptedLLM(
        Rule("eight", "check_availability", check(THURSDAY, "20:00", 2)),
        Rule("yes", "book_table", {**check(THURSDAY, "20:00", 2), "name": "Marco"}),
    )

    talk(trattoria, model, "Two on Thursday at eight", "Yes", room=ROOM, caller=caller)

    reservation = Reservation.objects.get()
    assert (reservation.guest_phone, reservation.channel, reservation.call.room_name) == (CALLER, "phone", ROOM)


@pytest.mark.parametrize(
    "name, code",
    [("Anna Rossi", "WRONG1"), ("Giulia Bianchi", None), (None, None), ("Anna Rossi", "K" * 10_000)],
    ids=["wrong-code", "wrong-name", "nothing", "10000-char-code"],
)
@pinned(MONDAY_NIGHT_UTC)
def test_on_the_web_a_wrong_name_or_code_finds_nothing_and_changes_nothing(clock, trattoria, name, code):
    reservation = booked_for(trattoria)
    model = ScriptedLLM(
        Rule("my booking", "find_reservation", {"name": name, "code": code or reservation.code}),
        Rule("cancel", "cancel_reservation"),
    )
    if code is None and name is None:
        model.rules = (Rule("my booking", "find_reservation", {}), model.rules[1])

    found, cancelled = talk(trattoria, model, "About my booking", "Cancel it")

    text, _ = output(found, "find_reservation")
    assert not text.startswith("Found")
    assert output(cancelled, "cancel_reservation") == (bookings.FIND_FIRST, True)
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.BOOKED


@pinned(MONDAY_NIGHT_UTC)
def test_on_the_web_the_name_and_code_find_the_booking_to_change(clock, trattoria):
    reservation = booked_for(trattoria)
    model = ScriptedLLM(
        Rule("my booking", "find_reservation", {"name": "anna rossi", "code": " ".join(reservation.code.lower())}),
        Rule("six of us", "change_reservation", {"party_size": 6, "notes": "A high chair"}),
    )

    found, changed = talk(trattoria, model, "About my booking", "We'll be six of us now")

    assert output(found, "find_reservation")[0].startswith("Found: a table for 4 at 20:00 on Thursday")
    text, error = output(changed, "change_reservation")
    assert not error and text.startswith("Changed: a table for 6 at 20:00 on Thursday")
    reservation.refresh_from_db()
    assert (reservation.party_size, reservation.notes, reservation.table.name) == (6, "A high chair", "T6")


@pinned(MONDAY_NIGHT_UTC)
def test_a_change_to_a_time_that_cannot_be_booked_keeps_the_booking_as_it_was(clock, trattoria):
    reservation = booked_for(trattoria)
    caller = phone_call(trattoria)
    model = ScriptedLLM(
        Rule("my booking", "find_reservation"),
        Rule("four in the afternoon", "change_reservation", {"time": "16:00"}),
        Rule("fourteen", "change_reservation", {"party_size": 14}),
    )

    _, refused, too_many = talk(
        trattoria, model, "My booking please", "Move it to four in the afternoon", "We'll be fourteen",
        room=ROOM, caller=caller,
    )  # fmt: skip

    text, error = output(refused, "change_reservation")
    assert error and text.startswith("We are closed at 16:00 on Thursday. We have a table for 4 on Thursday at ")
    text, error = output(too_many, "change_reservation")
    assert error and text.startswith("For more than 8 people, please talk to the staff: they will arrange it.")
    reservation.refresh_from_db()
    assert (reservation.starts_at, reservation.party_size, reservation.status) == (
        dt.datetime(2026, 6, 11, 20, 0, tzinfo=ROME), 4, Reservation.Status.BOOKED
    )
