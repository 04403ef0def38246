"""Table reservations through the agent: what the booking tools (RestaurantAgent's, agent.py) do and say.

Every rule is the reservation book's: which times are possible is reservations.availability's (its sentences are
what the diner hears: possible, or why not and the nearest times instead), booking, finding, changing and
cancelling are reservations.services' (a refusal's sentence comes back as ToolError(sentence)); the availability
is checked again inside the booking's transaction. What this module adds is the reading of the model's arguments
(dates and times with lookups' parsers, turned into an instant with restaurants.hours.wall_clock: a time the
clocks skip is the jump, and the answer says so), the session's memory and the words.

A session (BookingSession) remembers the last time check_availability found possible (`proposal`): book_table
books exactly that and nothing else, so a table is never booked at a time nobody checked; and the reservations
booked or found in this call (`reservation_ids`): change_reservation and cancel_reservation act only on those.
On a phone call find_reservation finds the caller's bookings by the number they call from; on the web, by the
name and the code together. On a web call each tool's outcome is shown on the diner's page (booking_card.py).

The functions below the session are synchronous ORM code, run through db.run_orm. Each loads the restaurant
afresh, so a change staff make in admin (a table removed, reservations switched off) counts at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from livekit import rtc
from livekit.agents import ToolError

from dispatch.models import Call
from reservations.availability import Availability
from reservations.events import ready_reservations
from reservations.models import LIVE, MAX_GUEST_NAME_LENGTH, Reservation
from reservations.services import (
    BookingRefused,
    reservation_book,
    reservation_cancel,
    reservation_change,
    reservation_find,
)
from restaurants import hours, phones
from restaurants.models import Restaurant

from . import lookups
from .booking_card import BookingCards, checked_card, diner_identity, reservation_card
from .db import run_orm

logger = logging.getLogger("maitre.agent")

# What the agent hears when it sends an argument the tools cannot use: sentences it can say to the diner.
UNCLEAR_PARTY = "How many people will the table be for? Please give a number."
ASK_DAY = "Which day would you like the table for?"
ASK_TIME = "At what time would you like the table?"
NO_SUCH_DAY = "There is no such date in the calendar. Which day do you mean?"
DAY_PASSED = "That day has already passed. Which day would you like?"
UNCLEAR_NAME = "Which name should the booking be under?"
UNCLEAR_NOTES = "I didn't catch the note for the booking. Could you say it again, briefly?"
UNCLEAR_CODE = "I didn't catch the booking code. Could you say it again, letter by letter?"
UNCLEAR_WHICH = "Which of the bookings I found do you mean?"
CHECK_FIRST = (
    "Not booked. Check this day, time and party size with check_availability first, read the details back to the "
    "diner, and call book_table with exactly those once they say yes."
)
BOOKED_ALREADY = "A table is already booked on this call: I can change that booking, or cancel it, instead."
FIND_FIRST = (
    "There is no booking in this call yet. Find it first with find_reservation (on the web with the name and the "
    "code; on the phone the caller's number finds it)."
)
NOTHING_TO_CHANGE = "What should change: the day, the time, the number of people or the note?"
GONE = "I'm sorry, I can't look that up right now."
# ISO's shape with a day the calendar does not have ("2027-02-31"): said so, rather than "I didn't catch it".
ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The longest code a diner's spelling is read from (a code is 6 characters; spaces and dashes between them).
MAX_CODE_CHARS = 20


@dataclass(frozen=True)
class BookingContext:
    """Where a session's bookings come from: the restaurant, the channel ("web" or "phone"), the room of the call
    (its Call row, if any, is the booking's), on the phone the caller's number (as the network gave it), and what
    the agent is told when only the staff can help (`staff_help`, a sentence: how to reach them on this channel,
    e.g. "Offer to put the caller through to the staff with transfer_to_staff.")."""

    restaurant_id: int
    channel: str
    room_name: str = ""
    caller_number: str = ""
    staff_help: str = ""


@dataclass(frozen=True)
class Proposal:
    """A time check_availability found possible: aware `starts_at` (UTC) for `party_size`."""

    starts_at: dt.datetime
    party_size: int


@dataclass(frozen=True)
class Outcome:
    """What a tool says (`said`), the card to show (or None), and what the session remembers after it."""

    said: str
    card: dict | None = None
    proposal: Proposal | None = None
    reservation_ids: tuple[int, ...] = ()


class Refusal(ToolError):
    """A ToolError whose sentence the model relays, with a card to show all the same (a time taken meanwhile)."""

    def __init__(self, message: str, card: dict | None = None) -> None:
        super().__init__(message)
        self.card = card


class BookingSession:
    """One call's table bookings: the tools' state, their database work (through run_orm) and their cards.
    `room` returns the call's room, or None when there is none (console, tests without one)."""

    def __init__(self, context: BookingContext, room: Callable[[], rtc.Room | None]) -> None:
        self.context = context
        self.room = room
        self.proposal: Proposal | None = None  # the last time found possible, until booked or checked again
        self.reservation_ids: tuple[int, ...] = ()  # booked or found in this call, as find_reservation listed them
        self.booked_id: int | None = None  # the one booked in this call
        self.cards = BookingCards()
        self._diner = ""  # the web diner's identity, once read

    async def check(self, date: str | None, time: str | None, party_size: int | None) -> str:
        """check_availability: what availability_check says; a possible time becomes the proposal (any other
        answer clears it). Raises ToolError."""
        outcome = await self._run(availability_check, self.context, date, time, party_size)
        self.proposal = outcome.proposal
        return outcome.said

    async def book(
        self, date: str | None, time: str | None, party_size: int | None, name: str | None, notes: str | None
    ) -> str:
        """book_table: books the proposal (booking_make) and remembers the reservation. Raises ToolError."""
        outcome = await self._run(
            booking_make, self.context, self.proposal, self.booked_id, date, time, party_size, name, notes
        )
        self.proposal = None
        self.booked_id = outcome.reservation_ids[0]
        self.reservation_ids = outcome.reservation_ids
        return outcome.said

    async def find(self, name: str | None, code: str | None) -> str:
        """find_reservation: what booking_find says; what it found replaces what the session remembers."""
        outcome = await self._run(booking_find, self.context, name, code)
        if outcome.reservation_ids:
            self.reservation_ids = outcome.reservation_ids
        return outcome.said

    async def change(
        self, which: int | None, date: str | None, time: str | None, party_size: int | None, notes: str | None
    ) -> str:
        """change_reservation on the session's reservation `which` (booking_change). Raises ToolError."""
        chosen = _chosen(self.reservation_ids, which)
        return (await self._run(booking_change, self.context, chosen, date, time, party_size, notes)).said

    async def cancel(self, which: int | None) -> str:
        """cancel_reservation on the session's reservation `which` (booking_cancelling). Raises ToolError."""
        chosen = _chosen(self.reservation_ids, which)
        return (await self._run(booking_cancelling, self.context, chosen)).said

    async def _run(self, fn: Callable[..., Outcome], *args) -> Outcome:
        try:
            outcome = await run_orm(fn, *args)
        except Refusal as refused:
            await self.show(refused.card)
            raise
        await self.show(outcome.card)
        return outcome

    async def show(self, card: dict | None) -> None:
        """On a web call with a room, send `card` to the diner's page; else nothing. Never raises."""
        if card is None or self.context.channel != Call.Channel.WEB:
            return
        room = self.room()
        if room is None:
            return
        if not self._diner:
            try:
                self._diner = await run_orm(diner_identity, self.context.room_name)
            except Exception as exc:  # the card is a view: a tool's answer must not depend on it
                logger.warning("room %s: booking card's diner not read: %s", room.name, str(exc) or type(exc).__name__)
                return
        if self._diner:
            await self.cards.show(room, self._diner, card)


def _chosen(reservation_ids: tuple[int, ...], which: int | None) -> int:
    """The reservation the diner means among those booked or found in this call (`which`: its number in
    find_reservation's list, 1 first; None when there is one). Raises ToolError."""
    if not reservation_ids:
        raise ToolError(FIND_FIRST)
    if which is None:
        if len(reservation_ids) > 1:
            raise ToolError(f"I found {len(reservation_ids)} bookings: which one (1 to {len(reservation_ids)})?")
        return reservation_ids[0]
    if not 1 <= which <= len(reservation_ids):
        raise ToolError(UNCLEAR_WHICH)
    return reservation_ids[which - 1]


# --- The tools' database work ------------------------------------------------------------------------------


def availability_check(ctx: BookingContext, date: str | None, time: str | None, party_size: int | None) -> Outcome:
    """Whether local `date` and `time` can be booked for `party_size` now: yes (the proposal book_table may book),
    or why not in Availability's words with the nearest possible times. The restaurant, its schedule, tables and
    reservations: five queries. Raises ToolError for arguments it cannot read, a day outside the booking horizon's
    reach, a party above the restaurant's largest."""
    r = _restaurant(ctx)
    party = _party(r, party_size, ctx)
    at, skipped = _starts_at(r, date, time)
    availability = Availability(r, timezone.now(), party)
    reason = availability.refusal(at)
    if not reason:
        return Outcome(
            said=(
                f"{skipped}A table for {party} is free at {_say(r, at)}. It is not booked yet: ask for the name if "
                "you do not have it, read back the day, time, number of people and name, and call book_table with "
                "these only after the diner says yes."
            ),
            card=checked_card(r, at, party, possible=True),
            proposal=Proposal(at, party),
        )
    that_day, later = availability.alternatives(at)
    said = f"{skipped}{reason}"
    if that_day or later:
        said += f" {availability.offer(at)} Offer these; check again the time the diner chooses."
    return Outcome(said=said, card=checked_card(r, at, party, possible=False, offers=that_day + later))


def booking_make(
    ctx: BookingContext, proposal: Proposal | None, booked_id: int | None, date: str | None, time: str | None,
    party_size: int | None, name: str | None, notes: str | None,
) -> Outcome:  # fmt: skip
    """Book the proposal (the time check_availability found possible), which `date`, `time` and `party_size` must
    name, under `name` with `notes`; on the phone with the caller's number; linked to this room's call. Returns
    the booking's words with its code. Raises ToolError when nothing (or something else) was checked, when this
    call already booked a table that is still live, and with reservations.services' sentence when it refuses
    (a time taken meanwhile comes with the nearest times, and its card)."""
    r = _restaurant(ctx)
    if booked_id is not None and Reservation.objects.filter(pk=booked_id, status__in=LIVE).exists():
        raise ToolError(BOOKED_ALREADY)
    party = _party(r, party_size, ctx)
    at, _ = _starts_at(r, date, time)
    if proposal != Proposal(at, party):
        raise ToolError(CHECK_FIRST)
    call = Call.objects.filter(room_name=ctx.room_name).first() if ctx.room_name else None
    phone = phones.to_e164(ctx.caller_number, r.country) if ctx.channel == Call.Channel.PHONE else None
    try:
        made = reservation_book(
            restaurant=r, starts_at=at, party_size=party, guest_name="" if name is None else name,
            guest_phone=phone or "", notes=notes or "", channel=ctx.channel, call=call,
        )  # fmt: skip
    except BookingRefused as refused:
        card = checked_card(r, at, party, possible=False, offers=refused.times) if refused.times else None
        raise Refusal(refused.sentence, card) from None
    reservation = ready_reservations().get(pk=made.pk)
    return Outcome(
        said=(
            f"Booked: a table for {party} at {_say(r, at)}, under {reservation.guest_name}. The booking code is "
            f"{reservation.code}: say it letter by letter, {_spelled(reservation.code)}."
        ),
        card=reservation_card(reservation),
        reservation_ids=(reservation.pk,),
    )


def booking_find(ctx: BookingContext, name: str | None, code: str | None) -> Outcome:
    """The diner's upcoming bookings: on the phone by the caller's number (name and code aside), on the web by
    `name` and `code` together. Returns them numbered (the number picks one for change and cancel); on the web
    the one found is shown. Raises ToolError for a name or code too long to be one, or a missing one on the web."""
    r = _restaurant(ctx)
    if ctx.channel == Call.Channel.PHONE:
        found = reservation_find(restaurant=r, phone=ctx.caller_number) if ctx.caller_number else []
        if not found:
            return Outcome(
                f"I found no upcoming booking for the number the caller is calling from. {ctx.staff_help}".strip()
            )
    else:
        if name is not None and len(name) > MAX_GUEST_NAME_LENGTH:
            raise ToolError(UNCLEAR_NAME)
        if code is not None and len(code) > MAX_CODE_CHARS:
            raise ToolError(UNCLEAR_CODE)
        try:
            found = reservation_find(restaurant=r, name=name or "", code=code or "")
        except BookingRefused as refused:
            raise ToolError(refused.sentence) from None
        if not found:
            return Outcome(
                "I found no upcoming booking under that name with that code. Ask the diner to check the name and "
                "the code (six letters and digits) in their confirmation."
            )
    described = [_describe(r, reservation) for reservation in found]
    if len(found) == 1:
        said = f"Found: {described[0]}. To change or cancel it, read the change back and wait for a yes."
        card = reservation_card(ready_reservations().get(pk=found[0].pk))
    else:
        listed = "; ".join(f"{n}) {text}" for n, text in enumerate(described, 1))
        said = f"Found {len(found)} upcoming bookings: {listed}. Ask which one the diner means."
        card = None
    return Outcome(said, card, reservation_ids=tuple(reservation.pk for reservation in found))


def booking_change(
    ctx: BookingContext, reservation_id: int, date: str | None, time: str | None, party_size: int | None,
    notes: str | None,
) -> Outcome:  # fmt: skip
    """Change the session's reservation `reservation_id` to local `date` and/or `time` (one alone keeps the other)
    and/or `party_size`, and/or replace its notes. Returns the booking as it now is. Raises ToolError with nothing
    to change, unreadable arguments, and reservations.services' sentence when it refuses (with the nearest times
    when the time is not possible; the page keeps showing the booking as it stands)."""
    r = _restaurant(ctx)
    reservation = ready_reservations().filter(pk=reservation_id, restaurant=r).first()
    if reservation is None:
        raise ToolError(FIND_FIRST)
    if date is None and time is None and party_size is None and notes is None:
        raise ToolError(NOTHING_TO_CHANGE)
    party = _party(r, party_size, ctx) if party_size is not None else None
    starts_at = None
    if date is not None or time is not None:
        local = reservation.starts_at.astimezone(r.tz)
        day = _day(r, date) if date is not None else local.date()
        clock, later = lookups._parse_time(time) if time is not None else (local.time(), 0)
        starts_at, _ = _instant(r, day + dt.timedelta(days=later), clock)
    try:
        reservation_change(reservation=reservation, starts_at=starts_at, party_size=party, notes=notes)
    except BookingRefused as refused:
        raise ToolError(refused.sentence) from None
    changed = ready_reservations().get(pk=reservation.pk)
    return Outcome(f"Changed: {_describe(r, changed)}. The code stays the same.", reservation_card(changed))


def booking_cancelling(ctx: BookingContext, reservation_id: int) -> Outcome:
    """Cancel the session's reservation `reservation_id`. Raises ToolError with reservations.services' sentence
    when it is no longer booked or has started."""
    r = _restaurant(ctx)
    reservation = ready_reservations().filter(pk=reservation_id, restaurant=r).first()
    if reservation is None:
        raise ToolError(FIND_FIRST)
    try:
        reservation_cancel(reservation=reservation)
    except BookingRefused as refused:
        raise ToolError(refused.sentence) from None
    cancelled = ready_reservations().get(pk=reservation.pk)
    return Outcome(
        f"Cancelled: the table for {cancelled.party_size} at {_say(r, cancelled.starts_at)} under "
        f"{cancelled.guest_name}.",
        reservation_card(cancelled),
    )


# --- Reading the arguments ---------------------------------------------------------------------------------


def _restaurant(ctx: BookingContext) -> Restaurant:
    """The active restaurant (one query), if it still takes reservations. Raises ToolError."""
    r = Restaurant.objects.active().filter(pk=ctx.restaurant_id).first()
    if r is None:
        raise ToolError(GONE)
    if not r.takes_reservations:
        raise ToolError(f"Sorry, {r.name} does not take table reservations at the moment.")
    return r


def _party(r: Restaurant, party_size, ctx: BookingContext) -> int:
    """A party of 1 to the restaurant's max_party_size. Raises ToolError: a larger one is to talk to the staff."""
    if isinstance(party_size, bool) or not isinstance(party_size, int) or party_size < 1:
        raise ToolError(UNCLEAR_PARTY)
    if party_size > r.max_party_size:
        raise ToolError(
            f"For more than {r.max_party_size} people, please talk to the staff: they will arrange it. {ctx.staff_help}"
            .strip()
        )
    return party_size


def _day(r: Restaurant, value: str) -> dt.date:
    """A local date read by lookups._parse_date ("today", "tomorrow", ISO), with a booking's sentences for a day
    long past, one beyond a year, and one the calendar does not have. Raises ToolError."""
    today = r.local_now().date()
    try:
        return lookups._parse_date(value, today)
    except ToolError as error:
        text = value.strip().lower()
        if error.message != lookups.DAY_OUT_OF_RANGE:
            raise ToolError(NO_SUCH_DAY if ISO_SHAPE.match(text) else error.message) from None
        if dt.date.fromisoformat(text) < today:  # _parse_date read it, and found it out of range
            raise ToolError(DAY_PASSED) from None
        raise ToolError(
            f"We take bookings up to {r.booking_horizon_days} days ahead. Which day would you like?"
        ) from None


def _starts_at(r: Restaurant, date: str | None, time: str | None) -> tuple[dt.datetime, str]:
    """The instant of local `date` and `time` (both needed), and a sentence when that night's clocks skip the
    time (else ""). Raises ToolError."""
    if not date:
        raise ToolError(ASK_DAY)
    if not time:
        raise ToolError(ASK_TIME)
    day = _day(r, date)
    clock, later = lookups._parse_time(time)
    return _instant(r, day + dt.timedelta(days=later), clock)


def _instant(r: Restaurant, day: dt.date, clock: dt.time) -> tuple[dt.datetime, str]:
    """Local `clock` on `day` as an aware instant (UTC), and, when the clocks go forward over it that night (the
    instant is the jump: hours.wall_clock), the sentence saying so; else ""."""
    at = hours.wall_clock(day, clock, r.tz)
    if at.astimezone(r.tz).replace(tzinfo=None) == dt.datetime.combine(day, clock):
        return at, ""
    jump = hours.say_time(at.astimezone(r.tz), r.language)
    return at, (
        f"The clocks go forward that night, so {hours.say_time(clock, r.language)} does not exist then; "
        f"it is {jump} at that moment. "
    )


def _say(r: Restaurant, at: dt.datetime) -> str:
    """ "19:30 on Saturday (2026-06-13)" in the restaurant's local time."""
    today = r.local_now().date()
    return f"{hours.say_when(at, r.tz, r.language, today)} ({at.astimezone(r.tz).date().isoformat()})"


def _describe(r: Restaurant, reservation: Reservation) -> str:
    return (
        f"a table for {reservation.party_size} at {_say(r, reservation.starts_at)}, under {reservation.guest_name}, "
        f"code {_spelled(reservation.code)}" + (f", note: {reservation.notes}" if reservation.notes else "")
    )


def _spelled(code: str) -> str:
    """ "K7MR4X" -> "K, 7, M, R, 4, X"."""
    return ", ".join(code)

