"""RestaurantAgent: one agent class for every restaurant, configured by a RestaurantProfile.

The instructions hold who the agent is and the rules; every fact (hours, address, menu, prices,
allergens) comes from a tool that reads the database when called. Import this module only after
`django.setup()` (lookups.py imports the models).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from livekit.agents import Agent, ModelSettings, RunContext, ToolError, function_tool, llm
from livekit.agents.beta.tools import EndCallTool
from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from dispatch.livekit import client, sip
from dispatch.models import Call
from orders.models import MAX_NAME_LENGTH, MAX_NOTE_LENGTH, MAX_QUANTITY
from reservations.models import CODE_LENGTH, MAX_GUEST_NAME_LENGTH, MAX_NOTES_LENGTH
from restaurants import hours
from restaurants.models import DietaryTag

from . import bookings, lookups, turn_facts
from .db import run_orm
from .lookups import RestaurantProfile
from .order_card import OrderCards
from .records import CallRecord

logger = logging.getLogger("maitre.agent")


def say_instead(sentence: str) -> WrapValidator:
    """A tool argument's validation that answers a value of the wrong type or outside its choices with
    ToolError(`sentence`), which the model hears and can relay, instead of pydantic's ValidationError, which
    the framework logs as a traceback and tells the model only "An internal error occurred"."""

    def validate(value, handler: ValidatorFunctionWrapHandler):
        try:
            return handler(value)
        except ValidationError:
            raise ToolError(sentence) from None

    return WrapValidator(validate)


# Length limits are in the descriptions, not the schema (`maxLength` is not in every provider's strict
# dialect): lookups.py enforces them with a sentence.
LocalDate = Annotated[
    str | None,
    Field(description='Local date: "today", "tomorrow" or ISO, e.g. 2026-12-24, from yesterday to a year ahead; '
          "null for now."),  # fmt: skip
    say_instead(lookups.UNCLEAR_DAY),
]
LocalTime = Annotated[
    str | None,
    Field(description="Local time, 24-hour HH:MM, e.g. 19:30; null for now (or, with a date, that day's hours)."),
    say_instead(lookups.UNCLEAR_TIME),
]
PickupDate = Annotated[
    str | None,
    Field(description='Local pickup date: "today", "tomorrow" or ISO, e.g. 2026-12-24; null for today.'),
    say_instead(lookups.UNCLEAR_DAY),
]
PickupTime = Annotated[
    str | None,
    Field(description="Local pickup time, 24-hour HH:MM, e.g. 19:30; null to keep the time already set."),
    say_instead(lookups.UNCLEAR_TIME),
]
SectionName = Annotated[
    str | None,
    Field(description=f'A menu section name such as "Starters" (at most {lookups.MAX_SECTION_CHARS} characters), '
          "or null for the whole menu."),  # fmt: skip
    say_instead(lookups.UNCLEAR_SECTION),
]
DietaryNeed = Annotated[
    Literal[DietaryTag.CODES] | None,  # the model may ask for exactly the seeded tags
    Field(description="Only dishes the kitchen tagged for this need, or null."),
    say_instead(lookups.UNKNOWN_DIETARY_NEED),
]
DinersQuestion = Annotated[
    str | None,  # optional only so that a call without it gets a sentence, not the framework's error
    Field(description="The diner's question in a few words, in their language, e.g. \"Is there parking nearby?\" "
          f"(at most {lookups.MAX_QUESTION_CHARS} characters)."),  # fmt: skip
    say_instead(lookups.UNCLEAR_QUESTION),
]
FactQuery = Annotated[
    str | None,  # optional only so that a call without it gets a sentence, not the framework's error
    Field(description="The diner's question in a few words, in the language the restaurant's staff write in, e.g. "
          f'"Can I bring my dog?" (at most {lookups.MAX_QUESTION_CHARS} characters).'),  # fmt: skip
    say_instead(lookups.UNCLEAR_FACT_QUESTION),
]
DishName = Annotated[
    str | None,  # optional only so that a call without it gets a sentence, not the framework's error
    Field(description=f'The dish as the diner named it, e.g. "margherita" (at most {lookups.MAX_DISH_CHARS} characters).'),
    say_instead(lookups.UNCLEAR_DISH),
]


# Takeout order arguments. Quantity's bounds are in the schema (the model sees them); text lengths are checked by
# orders.services, which answers an overlong note or name with a sentence.
OrderDish = Annotated[
    str | None,
    Field(description='The dish exactly as on the menu, e.g. "Margherita" (at most '
          f"{lookups.MAX_DISH_CHARS} characters)."),  # fmt: skip
    say_instead(lookups.UNCLEAR_DISH),
]
OrderQuantity = Annotated[
    int,
    Field(ge=1, le=MAX_QUANTITY, description=f"How many of this dish made this way, a whole number from 1 to {MAX_QUANTITY}."),
    say_instead(lookups.UNCLEAR_QUANTITY),
]
OrderChoices = Annotated[
    list[str] | None,
    Field(description='The diner\'s choices for the dish, by name, e.g. ["Large", "Burrata"]; '
          '"Group: Name" when two groups share a name; [] for none.'),  # fmt: skip
    say_instead(lookups.UNCLEAR_CHOICES),
]
OrderNote = Annotated[
    str | None,
    Field(description=f'A short note for the kitchen, e.g. "no onions" (at most {MAX_NOTE_LENGTH} characters), or null.'),
    say_instead(lookups.UNCLEAR_NOTE),
]
OrderLineRef = Annotated[
    int | str | None,
    Field(description='The line\'s number as read_order numbered it (e.g. 2), or the dish\'s name.'),
    say_instead(lookups.UNCLEAR_LINE),
]
CustomerName = Annotated[
    str | None,
    Field(description=f'The name to call out at pickup, e.g. "Giulia" (at most {MAX_NAME_LENGTH} characters), or null '
          "to keep it."),  # fmt: skip
    say_instead(lookups.UNCLEAR_NAME),
]
CustomerPhone = Annotated[
    str | None,
    Field(description='A phone number with its country code, e.g. "+39 06 1234 5678", or null to keep it.'),
    say_instead(lookups.UNCLEAR_PHONE),
]
OrderVersion = Annotated[
    int | None,
    Field(ge=0, description="The version read_order gave when the order was read back and the diner confirmed it."),
    say_instead(lookups.UNCLEAR_VERSION),
]


# Table reservation arguments. The party's lower bound is in the schema; its upper bound is the restaurant's
# (bookings.py says what a larger party should do), and text lengths are checked with a sentence.
BookingDate = Annotated[
    str | None,
    Field(description='Local date of the booking: "today", "tomorrow" or ISO, e.g. 2026-12-24.'),
    say_instead(bookings.ASK_DAY),
]
BookingTime = Annotated[
    str | None,
    Field(description="Local time of the booking, 24-hour HH:MM, e.g. 19:30, exactly as the diner asked."),
    say_instead(bookings.ASK_TIME),
]
PartySize = Annotated[
    int | None,
    Field(ge=1, description="How many people, a whole number, e.g. 4."),
    say_instead(bookings.UNCLEAR_PARTY),
]
GuestName = Annotated[
    str | None,
    Field(description=f'The name the booking is under, e.g. "Anna Rossi" (at most {MAX_GUEST_NAME_LENGTH} '
          "characters)."),  # fmt: skip
    say_instead(bookings.UNCLEAR_NAME),
]
BookingNotes = Annotated[
    str | None,
    Field(description=f'What the diner asked to note, e.g. "a high chair" (at most {MAX_NOTES_LENGTH} characters), '
          "or null."),  # fmt: skip
    say_instead(bookings.UNCLEAR_NOTES),
]
BookingCode = Annotated[
    str | None,
    Field(description=f'The booking code the diner spells, {CODE_LENGTH} letters and digits, e.g. "K7MR4X".'),
    say_instead(bookings.UNCLEAR_CODE),
]
WhichBooking = Annotated[
    int | None,
    Field(ge=1, description="When find_reservation found several bookings, the number it gave the one meant (1, 2...); "
          "null when it found one."),  # fmt: skip
    say_instead(bookings.UNCLEAR_WHICH),
]


def build_instructions(p: RestaurantProfile, caller: PhoneCaller | None = None) -> str:
    """The system prompt for one restaurant, in headed sections; for a phone call (`caller`), rules for the ear
    only and the call-handling tools."""
    rules = f"\n\n# House rules from {p.name}\n{p.house_rules.strip()}" if p.house_rules.strip() else ""
    today = dt.datetime.now(ZoneInfo(p.time_zone)).date()  # to turn "Friday" or "the 24th" into a date
    contact = how_to_reach_staff(p, caller)
    offered = {"to order takeout for pickup": p.takes_orders, "to book a table": p.takes_reservations}
    return f"""You are the voice host of {p.name}, a {p.cuisine} restaurant in {p.city}. Diners call you to ask \
about opening hours, the address and the menu{"".join(f" and {what}" for what, on in offered.items() if on)}.\
{phone_rules(p, caller) if caller else ""}{order_rules(p, caller) if p.takes_orders else ""}\
{booking_rules(p, caller) if p.takes_reservations else ""}

# Language
Speak {hours.language_name(p.language)} ({p.language}). If the diner speaks another language, answer in theirs.

# Output rules
- You are heard, not read: plain sentences, no lists, markdown, symbols or emoji.
- Keep answers to one to three short sentences; offer more detail instead of reading everything out.
- Say times and prices the way a person would say them aloud.

# Tools
- Opening hours for the week: get_opening_hours. Open now, or at a day and time the diner names: check_open
  (give the day as "today", "tomorrow" or an ISO date, and the time as 24-hour HH:MM, in the restaurant's
  local time, {p.time_zone}; when this call started it was {today:%A} {today.isoformat()} there).
- Address, directions, phone number: get_address.
- What is on the menu, a section, or dishes for a dietary need: get_menu. One dish's price, description,
  allergens or availability: find_menu_item.
- House facts: the staff's own answers to questions diners ask (parking, dogs, high chairs, access...), as
  lines "House fact “<question>”: <answer>" in the facts message described below, or, when that message says to
  search them, through find_house_facts.
- A question about the restaurant that neither a tool nor a house fact answers (parking, {"private events" if
  p.takes_reservations else "reservations"}, a dish not on the menu):
  record_unanswered_question, so that the staff see it.
- Call the tool every time a fact is asked for: staff change the data during the day. Exception: a message
  headed "{turn_facts.HEADER}" comes with each of the diner's questions; answer from it whether the
  restaurant is open now, today's and the weekly opening hours, the address and phone number, and the house
  facts it holds, without calling a tool for those. It is read afresh for each question: its latest lines win.

# Guardrails
- Never invent or guess opening hours, prices, dishes, ingredients or allergens. Say only what the tools (or
  the facts message) said.
- If the tools do not answer a question about the restaurant, say plainly that you do not know and that the
  diner can {contact}; note it for the staff with record_unanswered_question.
- A house fact answers its own question only, in its own words: say what it says and nothing it does not say
  ("dogs are welcome in the bar" says nothing of the dining room or the terrace; a car park with no price given
  has no price you know). When a diner asks more than a fact says, give what it says, say you do not know the
  rest, and note the question with record_unanswered_question.
- Allergens: repeat the tool's answer exactly; if it says the information is not confirmed, tell the diner to
  ask the staff before ordering. Never say a dish is safe for an allergy on your own.
- {cannot_take(p)}; say so, and that the diner can {contact}.
- Stay on the topic of the restaurant; politely steer other topics back.{rules}"""


def cannot_take(p: RestaurantProfile) -> str:
    """What the agent refuses: payments always, orders and bookings unless the restaurant takes them."""
    if p.takes_orders and p.takes_reservations:
        return "You cannot take payments (takeout orders are paid at pickup)"
    if p.takes_orders:
        return "You cannot take bookings, or payments (takeout orders are paid at pickup)"
    if p.takes_reservations:
        return "You cannot take orders or payments"
    return "You cannot take orders, bookings or payments"


def order_rules(p: RestaurantProfile, caller: PhoneCaller | None) -> str:
    """The takeout section of the instructions, for a restaurant that takes orders."""
    phone = (
        "the caller's number is already on the order; call set_pickup with a phone number only if they want another"
        if caller
        else "ask for a phone number the restaurant can call about the order"
    )
    return f"""

# Takeout orders
{p.name} takes takeout orders for pickup; payment is at pickup.
- Add each dish with add_to_order, with every choice the dish requires: if the diner has not said one, ask \
(the tool tells you which choices are missing and what is on offer). Never add a dish or choice the diner \
did not ask for.
- Take the name and the pickup time with set_pickup; {phone}.
- Before placing, call read_order and read the order back (dishes, choices, total, pickup time); only when the \
diner says yes, call place_order with the version read_order gave. If anything changed after the read-back, \
read it back again.
- Never invent a dish, a price, a total or an allergen: say only what the tools said.
- Never ask for card details or any payment information: the diner pays at pickup.
- After placing, tell the diner the order number and the pickup time."""


def booking_rules(p: RestaurantProfile, caller: PhoneCaller | None) -> str:
    """The table reservations section of the instructions, for a restaurant that takes them."""
    if caller:
        find = (
            "find_reservation finds the caller's bookings by the number they are calling from (no name or code "
            "needed)"
        )
        name = "; the caller's number goes on the booking by itself"
    else:
        find = "ask for the name the booking is under and its code, then call find_reservation with both"
        name = ""
    return f"""

# Table reservations
{p.name} books tables for parties of 1 to {p.max_party_size}.
- Ask for the day, the time and the number of people, then call check_availability before saying anything about \
free tables. Never say a table is free unless check_availability said so in this conversation.
- If the time is not possible, the tool gives the reason and the nearest possible times: offer those and let the \
diner choose. Never move the time yourself, not even to the nearest quarter hour: check the time the diner agrees to.
- Ask for the name for the booking{name}. Read back the day and date, the time, the number of people, the name \
and any note, and call book_table only after the diner says yes. One booking per call.
- After booking, say the day and time, and the booking code letter by letter.
- Never promise or name a particular table (by the window, on the terrace, a table number): the restaurant \
chooses it. A wish can go in the booking's note.
- For more than {p.max_party_size} people the diner should talk to the staff. {staff_help(p, caller)}
- To change or cancel a booking, {find}. Change or cancel only a booking found or made in this call: read the \
change back, and call change_reservation or cancel_reservation only after the diner says yes."""


def staff_help(p: RestaurantProfile, caller: PhoneCaller | None) -> str:
    """What the agent is told to do when only the staff can help with a booking (a party above max_party_size, a
    booking it cannot find), as a sentence: offer the transfer on a phone line that has one, else say how to
    reach them."""
    if caller and caller.can_transfer:
        return "Offer to put the caller through to the staff with transfer_to_staff."
    return f"Tell the diner they can {how_to_reach_staff(p, caller)}."


def phone_rules(p: RestaurantProfile, caller: PhoneCaller) -> str:
    """The phone call's section of the instructions."""
    transfer = (
        "- If the caller wants to speak to a person at the restaurant, or needs something only the staff can do, "
        "call transfer_to_staff; it tells them they are being put through."
        if caller.can_transfer
        else "- You cannot put callers through to a person."
    )
    return f"""

# On the phone
You are answering {p.name}'s telephone. The caller only hears you: never mention pages, links, buttons, \
screens or typing.
- Speak a little slower than in person. Say phone numbers digit by digit in small groups, prices in words \
("twelve fifty"), and times the way people say them ("half past seven").
- If the caller asks how to spell the street or another hard word of the address, spell it letter by letter.
- Phone lines cut words: if you did not catch something, ask again rather than guess.
{transfer}
- When the caller says they are done ("that's all, thanks, bye"), call end_call; you say goodbye after it."""


def how_to_reach_staff(p: RestaurantProfile, caller: PhoneCaller | None) -> str:
    """The end of "the diner can ...": how to reach a person at the restaurant, for this channel."""
    if caller is None:
        return f"call {p.phone_spoken}"
    if caller.can_transfer:
        return "ask to be put through to the staff"
    if caller.dialled != p.phone:
        return f"call {p.phone_spoken}, where a person answers"
    return "call back later: the staff will see the question"


def shows_order(tool):
    """An order tool that, once it has run (done or refused: a refusal may have changed the order too), shows the
    order on the diner's page (RestaurantAgent.show_order) before the model hears the result."""

    @functools.wraps(tool)
    async def run(self: RestaurantAgent, *args, **kwargs) -> str:
        try:
            said = await tool(self, *args, **kwargs)
        except ToolError:
            await self.show_order()
            raise
        await self.show_order()
        return said

    return run


@dataclass(frozen=True)
class PhoneCaller:
    """Who is on a phone call: the SIP participant's identity in `room_name`, their number (`number`,
    sip.phoneNumber: E.164, or whatever the network sent, e.g. "anonymous"), the restaurant's number they
    dialled (`dialled`, sip.trunkPhoneNumber, E.164), and whether that line has a transfer number now."""

    room_name: str
    identity: str
    number: str
    dialled: str
    can_transfer: bool


class RestaurantAgent(Agent):
    """Answers one restaurant's diners. Tools read the database at call time (admin edits are live)."""

    def __init__(
        self, profile: RestaurantProfile, record: CallRecord | None = None, *, caller: PhoneCaller | None = None,
        **agent_options,
    ) -> None:  # fmt: skip
        """`record`: where the call's unanswered questions go (with no call, as in console mode or tests, they
        are recorded for the restaurant alone). `caller`: a phone call's caller (PhoneAgent passes it)."""
        record = record or CallRecord(room_name="")
        if profile.takes_orders:  # a restaurant that does not take orders never offers them to the model
            order_tools = [
                self.add_to_order, self.remove_from_order, self.read_order, self.set_pickup, self.place_order,
                self.cancel_order,
            ]  # fmt: skip
            agent_options["tools"] = [*agent_options.get("tools", []), *map(function_tool, order_tools)]
        if profile.takes_reservations:  # nor booking tools, unless the restaurant takes reservations
            booking_tools = [
                self.check_availability, self.book_table, self.find_reservation, self.change_reservation,
                self.cancel_reservation,
            ]  # fmt: skip
            agent_options["tools"] = [*agent_options.get("tools", []), *map(function_tool, booking_tools)]
        super().__init__(instructions=build_instructions(profile, caller), **agent_options)
        self.profile = profile
        self.record = record
        self.contact = how_to_reach_staff(profile, caller)
        # The session's draft order: none until the first dish is added; kept after placing (cancel_order).
        self.order_id: int | None = None
        self.order_context = lookups.OrderContext(
            restaurant_id=profile.id, channel="phone" if caller else "web", room_name=record.room_name,
            caller_number=caller.number if caller else "",
        )  # fmt: skip
        self.order_cards = OrderCards()  # the order as the diner's page shows it (web calls only)
        self.bookings = bookings.BookingSession(
            bookings.BookingContext(
                restaurant_id=profile.id, channel=self.order_context.channel, room_name=record.room_name,
                caller_number=caller.number if caller else "", staff_help=staff_help(profile, caller),
            ),
            room=self._room,
        )  # fmt: skip

    def _room(self):
        """The call's room, or None in a session without one (console, tests)."""
        try:
            return self.session.room_io.room
        except RuntimeError:
            return None

    async def llm_node(self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings):
        """Every model request gets the restaurant's commonest facts and its house facts (turn_facts), read from
        the database right before it is sent, so hours, address and house facts need no tool round trip (an edit
        in admin is in the next request); find_house_facts is offered only when the house facts are too many to
        come along (or no facts come at all: AGENT_TURN_FACTS off). The call's record gets the facts too
        (queued, written when the agent is not thinking), so that staff see what an answer came from. Done here
        rather than in on_user_turn_completed: a change made there discards the reply LiveKit started
        preemptively while the turn was still being confirmed; a request started here carries its own facts."""
        asked_at = time.time()  # before the reply starts (its message is stamped then), after the diner spoke
        facts = await run_orm(turn_facts.facts_now, self.profile.id) if settings.AGENT_TURN_FACTS else None
        if facts:
            chat_ctx = turn_facts.with_facts(chat_ctx, facts)
            self.record.facts_given(facts, at=asked_at)
        if not turn_facts.searches_house_facts(facts):  # they are all in the facts: nothing to search
            tools = [tool for tool in tools if getattr(tool, "id", None) != "find_house_facts"]
        async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
            yield chunk

    @function_tool
    async def get_opening_hours(self) -> str:
        """Get the restaurant's regular weekly opening hours and the special days coming up (closures, changed
        hours), in local time.

        Call when the diner asks about opening hours or days in general ("when are you open?", "are you open
        on Sundays?"). For "are you open now" or at one particular moment, call check_open instead.
        """
        return await run_orm(lookups.opening_hours, self.profile.id)

    @function_tool
    async def check_open(self, date: LocalDate = None, time: LocalTime = None) -> str:
        """Check whether the restaurant is open right now or at a particular local date and time, and when it
        closes or next opens. Special days and holidays are included.

        Call with no arguments for "are you open now?". Call with a date and time for "are you open Friday at
        8 pm?", with only a time for "at 3 pm today", with only a date for "what are your hours on the 24th?".
        Do not call for the general weekly schedule: use get_opening_hours.

        Args:
            date: "today", "tomorrow", a local ISO date (YYYY-MM-DD), or null.
            time: local 24-hour time (HH:MM; midnight at the end of a day is 24:00) or null.
        """
        return await run_orm(lookups.open_status, self.profile.id, date, time)

    @function_tool
    async def get_address(self) -> str:
        """Get the restaurant's street address, city, country and phone number.

        Call when the diner asks where the restaurant is, how to find it, or how to phone it.
        """
        return await run_orm(lookups.address, self.profile.id)

    @function_tool
    async def get_menu(self, section: SectionName = None, dietary_need: DietaryNeed = None) -> str:
        """List dishes with their prices, for the whole menu, one section, and/or one dietary need.

        Call when the diner asks what there is to eat or drink, what is in a section ("what desserts do you
        have?"), or which dishes are vegan, vegetarian, gluten-free and so on. For details of one named dish
        (allergens, description), call find_menu_item instead.

        Args:
            section: a section name as the diner said it, or null.
            dietary_need: one of the needs the parameter's schema lists (the kitchen's dietary tags), or null.
        """
        return await run_orm(lookups.menu, self.profile.id, section, dietary_need)

    @function_tool
    async def find_menu_item(self, name: DishName = None) -> str:
        """Look up one dish by name: price, description, dietary tags, allergens (and whether the kitchen has
        confirmed them) and whether it is available today.

        Call whenever the diner asks about a specific dish: its price, what is in it, allergens, or whether it
        is available. Close spellings are matched.

        Args:
            name: the dish name as heard.
        """
        return await run_orm(lookups.menu_item, self.profile.id, name)

    @function_tool
    async def record_unanswered_question(self, question: DinersQuestion = None) -> str:
        """Note for the restaurant's staff a question about the restaurant that neither the other tools nor
        your instructions answer, so that they can add the answer.

        Call it when the diner asks about the restaurant and, after calling the tool that would know (if one
        would) and looking at the house facts, you still have no answer (or a house fact answers only part of
        it): a dish that is not on the menu, parking, reservations, private
        events, payment methods, accessibility, a dog, a birthday cake. Call it once per question.
        Do not call it for small talk or greetings, for questions that are not about the restaurant, for
        questions a tool did answer (even with "no", "closed" or "not on the menu today"), or to take an
        order or a booking. After it, tell the diner that you do not know, that the staff will see the
        question, and give the phone number.

        Args:
            question: the diner's question in a few words.
        """
        self.record.unanswered_question(self.profile.id, lookups.question_to_note(question))
        return (
            f"Noted for the staff of {self.profile.name}. Tell the diner you do not know, that the staff will see "
            f"the question, and that they can {self.contact}."
        )

    @function_tool
    async def find_house_facts(self, question: FactQuery = None) -> str:
        """Search the house facts, the staff's own answers to diners' questions (parking, dogs, high chairs,
        wheelchair access, payment, a birthday cake...), for the diner's question.

        Call it when the facts message says to search the house facts, for a question about the restaurant that
        no other tool answers, before record_unanswered_question. Do not call it for opening hours, the address,
        the menu, orders or bookings: their tools answer those. It gives the closest facts, each with its own
        question: answer only with one that answers what the diner asked, in its words and no further; if none
        does, call record_unanswered_question.

        Args:
            question: the diner's question in a few words, e.g. "Can I bring my dog?".
        """
        return await run_orm(lookups.house_facts_search, self.profile.id, question)

    # --- Takeout orders (given to the model only when the restaurant takes orders: see __init__) ------------

    async def show_order(self) -> None:
        """On a web call, send the session's order as it now stands to the diner's page (order_card.py); on the
        phone, in a session without a room (console, tests) or before the first dish, nothing. Never raises."""
        if self.order_id is None or self.order_context.channel != "web":
            return
        try:
            room = self.session.room_io.room
        except RuntimeError:  # no room: nobody to show it to
            return
        await self.order_cards.show(room, self.order_id)

    @shows_order
    async def add_to_order(
        self, dish: OrderDish = None, quantity: OrderQuantity = 1, choices: OrderChoices = None, note: OrderNote = None
    ) -> str:
        """Add a dish to the diner's takeout order, with the choices it needs (size, salsa, extras) and an
        optional note for the kitchen. Prices and the total are computed by the restaurant's system.

        Call when the diner asks for a dish to take away. Include every choice the diner named. If the dish
        needs a choice the diner has not made, the tool says which choices are on offer: ask the diner, then
        call again. Do not call for a dish the diner only asked about, and never add anything the diner did not
        ask for. To change a line, remove it with remove_from_order and add it again.

        Args:
            dish: the dish's name as on the menu, e.g. "Margherita".
            quantity: how many, 1 to 20 (default 1).
            choices: the chosen options by name, e.g. ["Large", "Burrata"]; [] for none.
            note: a short note for the kitchen, e.g. "no onions", or null.
        """
        self.order_id, said = await run_orm(
            lookups.order_add, self.order_context, self.order_id, dish or "", quantity, choices or [], note or ""
        )
        return said

    @shows_order
    async def remove_from_order(self, line: OrderLineRef = None) -> str:
        """Take one line off the diner's takeout order.

        Call when the diner no longer wants a dish on the order. Do not call to cancel the whole order (use
        cancel_order).

        Args:
            line: the line's number as read_order numbered it (e.g. 2), or the dish's name, e.g. "Diavola".
        """
        if line is None or line == "":
            raise ToolError(lookups.UNCLEAR_LINE)
        return await run_orm(lookups.order_remove, self.order_id, line)

    @shows_order
    async def read_order(self) -> str:
        """Read the diner's takeout order as it stands: numbered lines with their choices and prices, the total,
        the pickup time and name, and the order's version.

        Call before placing, to read the order back to the diner, and whenever the diner asks what is on the
        order or what it costs. Say the total exactly as given. The version is for place_order, not for the
        diner.
        """
        return await run_orm(lookups.order_text, self.order_id)

    @shows_order
    async def set_pickup(
        self, name: CustomerName = None, date: PickupDate = None, time: PickupTime = None, phone: CustomerPhone = None
    ) -> str:
        """Set who collects the takeout order and when, in the restaurant's local time. A time that is not
        possible is refused with the nearest possible pickup times to offer the diner.

        Call once the diner has given a name or a pickup time (each can be set on its own; what is left null
        stays as it was). On a phone call the caller's number is already on the order: pass a phone number only
        if they give another. On the web, ask for a phone number the restaurant can call.

        Args:
            name: the name for the order, e.g. "Giulia", or null.
            date: "today", "tomorrow" or a local ISO date (YYYY-MM-DD); null for today.
            time: local 24-hour pickup time (HH:MM), e.g. 19:30, or null.
            phone: a phone number with its country code, e.g. "+39 06 1234 5678", or null.
        """
        return await run_orm(lookups.order_pickup, self.order_id, name, date, time, phone)

    @shows_order
    async def place_order(self, version: OrderVersion = None) -> str:
        """Place the diner's takeout order: it goes to the kitchen and gets a number.

        Call only after read_order, after reading the order back to the diner, and after the diner said yes to
        it; pass the version that read_order gave. If the order changed since, this refuses: read it back
        again. Never ask for card details: payment is at pickup. After placing, tell the diner the order number
        and the pickup time.

        Args:
            version: the version read_order gave for the order the diner confirmed, e.g. 4.
        """
        if version is None:
            raise ToolError(lookups.UNCLEAR_VERSION)
        return await run_orm(lookups.order_placing, self.order_id, version)

    @shows_order
    async def cancel_order(self) -> str:
        """Cancel the diner's takeout order: the one being built, or the one just placed if the kitchen has not
        started on it.

        Call only when the diner clearly asks to cancel the whole order. To take off one dish, use
        remove_from_order.
        """
        return await run_orm(lookups.order_cancelling, self.order_id)

    # --- Table reservations (given to the model only when the restaurant takes them: see __init__) ----------
    # bookings.BookingSession does the work, remembers the call's bookings and shows them on a web diner's page.

    async def check_availability(
        self, date: BookingDate = None, time: BookingTime = None, party_size: PartySize = None
    ) -> str:
        """Check whether a table can be booked for a party at a local date and time. Answers either that a table
        is free (nothing is booked yet), or why not with the nearest possible times to offer.

        Call as soon as the diner has given a day, a time and the number of people, before saying anything about
        free tables, and again for each other time the diner considers. Pass the time exactly as the diner said
        it: never round it to another time yourself. Do not call for opening hours (check_open).

        Args:
            date: "today", "tomorrow" or a local ISO date (YYYY-MM-DD), e.g. 2026-06-13.
            time: local 24-hour time (HH:MM), e.g. 19:30.
            party_size: the number of people, e.g. 4.
        """
        return await self.bookings.check(date, time, party_size)

    async def book_table(
        self, date: BookingDate = None, time: BookingTime = None, party_size: PartySize = None,
        name: GuestName = None, notes: BookingNotes = None,
    ) -> str:  # fmt: skip
        """Book a table: the restaurant picks it, checks again that it is free, and gives the booking's code.

        Call only after check_availability said this very date, time and party size are free, after you read
        the details back to the diner (day, time, number of people, name, note), and after the diner said yes.
        Never call it twice in one call: to change the booking use change_reservation. After it, tell the diner
        the day and time and say the code letter by letter.

        Args:
            date: the date check_availability was called with, e.g. 2026-06-13.
            time: the time check_availability was called with, e.g. 19:30.
            party_size: the number of people, e.g. 4.
            name: the name the booking is under, e.g. "Anna Rossi".
            notes: what the diner asked to note (a high chair, a birthday, an allergy), or null. Never a table.
        """
        return await self.bookings.book(date, time, party_size, name, notes)

    async def find_reservation(self, name: GuestName = None, code: BookingCode = None) -> str:
        """Find the diner's upcoming table bookings, to tell them the details or to change or cancel one.

        On a phone call, call it with no arguments: the number the caller is calling from finds their bookings.
        On the web, ask for the name the booking is under and its code first, and pass both. Only a booking
        found (or made) in this call can be changed or cancelled.

        Args:
            name: the name the booking is under, e.g. "Anna Rossi" (web), or null.
            code: the booking code as the diner spells it, e.g. "K7MR4X" (web), or null.
        """
        return await self.bookings.find(name, code)

    async def change_reservation(
        self, date: BookingDate = None, time: BookingTime = None, party_size: PartySize = None,
        notes: BookingNotes = None, which: WhichBooking = None,
    ) -> str:  # fmt: skip
        """Change the booking found or made in this call: its day, time, number of people or note. What is left
        null stays as it is (a new day alone keeps the time). The new time is checked; if it is not possible
        the tool says why, with the nearest possible times, and nothing changes.

        Call only after find_reservation or book_table in this call, after reading the change back to the diner
        and after they said yes. Never for a booking the diner only describes.

        Args:
            date: the new local date ("today", "tomorrow" or YYYY-MM-DD), or null.
            time: the new local 24-hour time (HH:MM), or null.
            party_size: the new number of people, or null.
            notes: the note that replaces the booking's note, or null to keep it.
            which: the booking's number in find_reservation's list when it found several, else null.
        """
        return await self.bookings.change(which, date, time, party_size, notes)

    async def cancel_reservation(self, which: WhichBooking = None) -> str:
        """Cancel the booking found or made in this call.

        Call only when the diner clearly asks to cancel it, after saying which booking (day, time, party) will
        be cancelled and hearing yes. Only a booking found with find_reservation (or made) in this call.

        Args:
            which: the booking's number in find_reservation's list when it found several, else null.
        """
        return await self.bookings.cancel(which)

# Said, and then the transfer starts: the caller hears silence while the phone network connects them.
PUTTING_THROUGH = "I'm putting you through to the team now. Please hold on."
# What the agent hears when a transfer fails, to relay.
TRANSFER_FAILED = (
    "The transfer did not go through. Tell the caller you could not put them through, give them {phone}, and "
    "offer to keep helping."
)
NO_TRANSFER_NUMBER = (
    "Nobody can take calls right now. Tell the caller you cannot put them through at the moment, give them {phone}, "
    "and offer to keep helping."
)
TRANSFER_ERRORS = (
    sip.TransferRefused, client.LiveKitUnavailable, client.LiveKitNotConfigured
)
# Phone audio and echo: a cough or line noise shorter than this does not stop the agent mid-sentence.
PHONE_INTERRUPTION_MIN_DURATION = 0.8


class PhoneAgent(RestaurantAgent):
    """The restaurant's agent on a phone call: instructions for the ear, `end_call`, and `transfer_to_staff`
    when the dialled line has a transfer number."""

    def __init__(self, profile: RestaurantProfile, record: CallRecord, caller: PhoneCaller) -> None:
        tools: list = [
            # Its output asks the model for a goodbye; once that is said the session ends, and the session's
            # RoomOptions(delete_room_on_close=True) delete the room, which hangs up the phone line.
            EndCallTool(
                end_instructions="Say a short goodbye to the caller.", delete_room=False, on_tool_called=self._ending
            )
        ]
        if caller.can_transfer:
            tools.append(function_tool(self.transfer_to_staff))
        super().__init__(
            profile, record, caller=caller, tools=tools,
            turn_handling={"interruption": {"min_duration": PHONE_INTERRUPTION_MIN_DURATION}},
        )  # fmt: skip
        self.caller = caller

    async def _ending(self, _event) -> None:
        self.record.end_reason = Call.EndReason.AGENT_ENDED

    async def transfer_to_staff(self, context: RunContext) -> str:
        """Put the caller through to a person at the restaurant (a cold transfer: you leave the call).

        Call only when the caller asks to speak to a person, or wants something only the staff can do (a
        booking or an order you cannot take, a large party, a complaint) and agrees to be put through. Do not
        call it for questions the other tools answer. It tells the caller they are being put through; if it
        fails, tell them, give them the restaurant's number and offer to keep helping.
        """
        number = await run_orm(lookups.line_transfer_number, self.profile.id, self.caller.dialled)
        if not number:  # staff removed the transfer number (or the line) during the call
            raise ToolError(NO_TRANSFER_NUMBER.format(phone=self.profile.phone_spoken))
        await context.wait_for_playout()  # what the agent was saying before it called this
        async with context.foreground():
            await context.session.say(PUTTING_THROUGH, allow_interruptions=False)
        try:
            await sip.transfer_sip_participant(
                room_name=self.caller.room_name, participant_identity=self.caller.identity, transfer_to=f"tel:{number}"
            )
        except TRANSFER_ERRORS as exc:
            logger.warning("call in %s: transfer to %s failed: %s", self.caller.room_name, number, exc)
            raise ToolError(TRANSFER_FAILED.format(phone=self.profile.phone_spoken)) from None
        logger.info("call in %s: caller put through to %s", self.caller.room_name, number)
        self.record.end_reason = Call.EndReason.TRANSFERRED
        return "The caller has been put through to the staff and has left the call. Say nothing more."

