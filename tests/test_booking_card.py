"""The booking card the diner's page shows (agent_worker/booking_card.py): a whole booking on the demo data through
AgentSession with the scripted model, in a room whose agent side records what it sends (tests/fakes/data_streams.py
stands in for LiveKit's client, which cannot connect without a server).

The Copper Kettle (demo, London) takes reservations; load_demo books every table of its next Saturday evening at
18:00, 19:30 and 21:00. The clock is pinned at 22:30 UTC on Monday 8 June 2026 (23:30 in London): the diner asks
for Saturday 13 June at 19:30, hears it is full, takes 16:30 and books it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from icalendar import Calendar
from livekit.agents import AgentSession, room_io

from agent_worker import lookups
from agent_worker.agent import PhoneAgent, PhoneCaller, RestaurantAgent
from agent_worker.booking_card import MAX_CARD_BYTES, TOPIC, encode, reservation_card
from agent_worker.db import run_orm
from agent_worker.records import CallRecord
from dispatch.models import Call
from reservations.events import ready_reservations
from reservations.models import Reservation
from reservations.services import reservation_book
from restaurants.models import Restaurant
from tests.conftest import MONDAY_NIGHT_UTC, pinned
from tests.fakes.data_streams import SentData, room_sending_to
from tests.fakes.llm import Rule, ScriptedLLM

pytestmark = pytest.mark.django_db

ROOM = "restaurant-1-0123456789abcdef0123456789abcdef"
DINER = "diner-5c1e"
LONDON = ZoneInfo("Europe/London")
SATURDAY = "2026-06-13"
FULL = Rule("half past seven", "check_availability", {"date": SATURDAY, "time": "19:30", "party_size": 4})
FREE = Rule("half past four", "check_availability", {"date": SATURDAY, "time": "16:30", "party_size": 4})
BOOK = Rule("yes", "book_table", {"date": SATURDAY, "time": "16:30", "party_size": 4, "name": "Anna Rossi",
                                  "notes": "Birthday cake"})  # fmt: skip


def web_call_at_kettle() -> Restaurant:
    """The Copper Kettle (load_demo has run), with a web call in ROOM whose diner is DINER."""
    restaurant = Restaurant.objects.get(slug="the-copper-kettle")
    Call.objects.create(restaurant=restaurant, room_name=ROOM, dispatch_id="AD_1", participant_identity=DINER)
    return restaurant


@pytest.fixture
def kettle(db) -> Restaurant:
    """The demo restaurants (request the clock first), the Copper Kettle's web call with its diner in the room."""
    call_command("load_demo", stdout=io.StringIO())
    return web_call_at_kettle()


def talk(restaurant, model: ScriptedLLM, sent: SentData, *turns, caller: PhoneCaller | None = None, settle=0.0):
    """Each turn through one session in a room whose agent side is `sent`: a string is what the diner types.
    `settle`: seconds to wait after the last turn (for sends still going). Returns the RunResults."""

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


def book_by_voice(restaurant: Restaurant) -> tuple[SentData, list]:
    """A diner at the Copper Kettle (web_call_at_kettle) asks for a table for four on Saturday at 19:30, which is
    full, takes 16:30 instead and says yes to the booking read back. Returns what the agent sent and the turns'
    RunResults."""
    sent = SentData()
    results = talk(
        restaurant, ScriptedLLM(FULL, FREE, BOOK), sent,
        "A table for four on Saturday at half past seven", "Half past four then, for Anna Rossi", "Yes, book it",
    )  # fmt: skip
    return sent, results


def event_of(ics: str):
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    return event


@pinned(MONDAY_NIGHT_UTC)
def test_the_diner_sees_the_proposed_table_and_then_the_booking_with_its_calendar_file(clock, kettle):
    sent, (full, free, booked) = book_by_voice(kettle)

    assert not output(booked, "book_table")[1]
    reservation = Reservation.objects.get(guest_name="Anna Rossi")
    unavailable, proposed, confirmed = cards(sent)
    assert all(each.destination_identities == [DINER] for each in sent.texts)  # the diner's page, nobody else's
    assert sent.rpcs == []

    # The first choice: not available, with the times offered instead, in London's time.
    assert {k: unavailable[k] for k in ("seq", "status", "date", "day", "time", "party_size", "code", "ics")} == {
        "seq": 1, "status": "unavailable", "date": SATURDAY, "day": "Saturday", "time": "19:30", "party_size": 4,
        "code": None, "ics": None,
    }  # fmt: skip
    assert unavailable["offers"][:2] == [
        {"date": SATURDAY, "day": "Saturday", "time": "16:15"}, {"date": SATURDAY, "day": "Saturday", "time": "16:30"}
    ]
    assert unavailable["offers"][2] == {"date": "2026-06-15", "day": "Monday 15 June", "time": "19:30"}
    # The time the diner took: proposed, not booked yet.
    assert proposed == {
        "seq": 2, "status": "proposed", "date": SATURDAY, "day": "Saturday", "time": "16:30", "party_size": 4,
        "guest_name": "", "code": None, "offers": [], "ics": None,
    }  # fmt: skip
    # Booked: the code, and the calendar file for the table's 90 minutes.
    assert {k: confirmed[k] for k in ("seq", "status", "date", "time", "party_size", "guest_name", "code")} == {
        "seq": 3, "status": "booked", "date": SATURDAY, "time": "16:30", "party_size": 4, "guest_name": "Anna Rossi",
        "code": reservation.code,
    }  # fmt: skip
    event = event_of(confirmed["ics"])
    assert event.start == dt.datetime(2026, 6, 13, 16, 30, tzinfo=LONDON)
    assert event.end == dt.datetime(2026, 6, 13, 18, 0, tzinfo=LONDON)
    assert str(event["SUMMARY"]) == "Table for 4 people at The Copper Kettle"
    assert f"Booking code {reservation.code}, under the name Anna Rossi." in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"


@pinned(MONDAY_NIGHT_UTC)
def test_a_change_and_a_cancel_update_the_card(clock, kettle):
    reservation = reservation_book(
        restaurant=kettle, starts_at=dt.datetime(2026, 6, 10, 19, 30, tzinfo=LONDON), party_size=2,
        guest_name="Anna Rossi",
    )  # fmt: skip
    model = ScriptedLLM(
        Rule("my booking", "find_reservation", {"name": "Anna Rossi", "code": reservation.code}),
        Rule("eight", "change_reservation", {"time": "20:00"}),
        Rule("cancel", "cancel_reservation"),
    )
    sent = SentData()

    talk(kettle, model, sent, "About my booking", "Make it eight", "Cancel it after all")

    found, changed, cancelled = cards(sent)
    assert (found["status"], found["time"], found["code"]) == ("booked", "19:30", reservation.code)
    assert (changed["status"], changed["time"], changed["code"]) == ("booked", "20:00", reservation.code)
    assert event_of(changed["ics"]).start == dt.datetime(2026, 6, 10, 20, 0, tzinfo=LONDON)
    assert (cancelled["status"], cancelled["ics"]) == ("cancelled", None)  # nothing left to add to a calendar


@pinned(MONDAY_NIGHT_UTC)
def test_nothing_is_sent_on_a_phone_call(clock, kettle):
    Call.objects.filter(room_name=ROOM).update(channel=Call.Channel.PHONE, participant_identity="sip_+447911123456")
    caller = PhoneCaller(
        room_name=ROOM, identity="sip_+447911123456", number="+447911123456", dialled="+442079460123",
        can_transfer=False,
    )  # fmt: skip
    sent = SentData()

    _, _, booked = talk(
        kettle, ScriptedLLM(FULL, FREE, BOOK), sent, "Saturday at half past seven", "Half past four then", "Yes",
        caller=caller,
    )  # fmt: skip

    assert not output(booked, "book_table")[1]
    assert Reservation.objects.get(guest_name="Anna Rossi").guest_phone == "+447911123456"
    assert sent.texts == [] and sent.rpcs == []


@pinned(MONDAY_NIGHT_UTC)
def test_a_card_that_cannot_be_sent_does_not_fail_the_tool(clock, kettle, caplog):
    sent = SentData(fail="engine: data channel closed")

    with caplog.at_level(logging.WARNING, logger="maitre.agent"):
        [checked] = talk(kettle, ScriptedLLM(FREE), sent, "Half past four on Saturday")

    text, error = output(checked, "check_availability")
    assert not error and text.startswith("A table for 4 is free at 16:30 on Saturday")
    warnings = [r.getMessage() for r in caplog.records if r.name == "maitre.agent" and r.levelno >= logging.WARNING]
    assert warnings == [f"room {ROOM}: booking card 1 not sent to {DINER}: engine: data channel closed"]


@pinned(MONDAY_NIGHT_UTC)
def test_the_longest_booking_still_fits_one_card(clock, kettle):
    reservation = reservation_book(
        restaurant=kettle, starts_at=dt.datetime(2026, 6, 10, 19, 30, tzinfo=LONDON), party_size=8,
        guest_name="Ñ" * 80, notes="é" * 300,
    )  # fmt: skip

    text = encode(reservation_card(ready_reservations().get(pk=reservation.pk)), 12)

    assert text is not None and len(text.encode()) <= MAX_CARD_BYTES
    assert event_of(json.loads(text)["ics"]).start == dt.datetime(2026, 6, 10, 19, 30, tzinfo=LONDON)
