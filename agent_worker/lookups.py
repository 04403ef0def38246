"""What the agent's tools say: short speakable text computed from the database at call time.

Synchronous ORM code: the tools in agent.py run these through `db.run_orm`. Each function loads the
restaurant afresh (with its schedule for the hours: three queries), so a staff edit in admin is live on the
next question; the wording of hours, days, addresses and phone numbers comes from restaurants.hours and
restaurants.phones. Bad arguments and missing data raise `ToolError` with a sentence the agent can say.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from livekit.agents import ToolError

from dispatch.models import Call, UnansweredQuestion
from orders.models import Order
from orders.services import (
    OrderRefused,
    order_add_line,
    order_cancel,
    order_place,
    order_read,
    order_remove_line,
    order_set_pickup,
    order_start,
)
from restaurants import hours, questions
from restaurants.models import (
    MAX_ACTIVE_HOUSE_FACTS,
    DietaryTag,
    HouseFact,
    MenuItem,
    MenuSection,
    PhoneLine,
    Restaurant,
    TurnTaking,
    one_line,
)

from .records import cut

# Enough for the LLM to name the dishes; it summarises for speech.
MAX_ITEMS_LISTED = 60

# The longest text each tool argument may hold (the tools' descriptions tell the model): as long as the
# longest name staff can enter, or a spoken date or time.
MAX_SECTION_CHARS = MenuSection._meta.get_field("name").max_length
MAX_DISH_CHARS = MenuItem._meta.get_field("name").max_length
MAX_DATE_CHARS = MAX_TIME_CHARS = 20
MAX_QUESTION_CHARS = UnansweredQuestion._meta.get_field("question").max_length
# check_open answers for local dates from yesterday (a question just after midnight) to a year ahead.
EARLIEST_DAY, LATEST_DAY = dt.timedelta(days=-1), dt.timedelta(days=366)

# What the agent hears when it sends an argument the tools cannot use: sentences it can say to the diner.
UNCLEAR_DAY = "I didn't catch which day you mean. Could you say the date again?"
DAY_OUT_OF_RANGE = "I can check the opening hours from yesterday up to a year ahead. Which day do you mean?"
UNCLEAR_TIME = "I didn't catch the time. Could you say it again?"
UNCLEAR_SECTION = "I didn't catch which part of the menu you mean."
UNCLEAR_DISH = "Which dish would you like to know about?"
UNKNOWN_DIETARY_NEED = f"I can only check these dietary needs: {', '.join(DietaryTag.CODES)}."
UNCLEAR_QUESTION = "Which question should I note for the staff?"


@dataclass(frozen=True)
class RestaurantProfile:
    """What a session needs up front (instructions, greeting, voice, speech recognition hints).

    Facts (hours, menu, prices) are not here: tools read them when asked.
    """

    id: int
    name: str
    cuisine: str
    city: str
    phone: str  # E.164, to compare with the number a caller dialled
    phone_spoken: str  # as the agent says it, digit group by digit group (restaurants.phones.spoken)
    language: str
    time_zone: str
    greeting: str
    voice: str
    turn_taking: str  # a TurnTaking value: agent_worker.turn_taking says what it means for the session
    house_rules: str
    dish_names: tuple[str, ...]
    takes_orders: bool = False  # the agent gets the takeout tools (and their instructions) only then
    takes_reservations: bool = False  # the agent gets the booking tools (and their instructions) only then
    max_party_size: int = 8  # the largest party the agent books; a larger one talks to the staff


def load_profile(restaurant_id: int) -> RestaurantProfile:
    """The active restaurant's profile. Raises Restaurant.DoesNotExist if unknown or inactive."""
    r = Restaurant.objects.active().get(pk=restaurant_id)
    return RestaurantProfile(
        id=r.pk,
        name=r.name,
        cuisine=r.cuisine,
        city=r.city,
        phone=str(r.phone),
        phone_spoken=r.phone_spoken,
        language=r.language,
        time_zone=r.time_zone,
        greeting=r.spoken_greeting,
        voice=r.tts_voice or settings.AGENT_TTS_VOICE,
        turn_taking=TurnTaking(r.turn_taking).value,
        house_rules=r.agent_instructions,
        dish_names=tuple(r.menu_items().order_by("name").values_list("name", flat=True)),
        takes_orders=r.takes_orders,
        takes_reservations=r.takes_reservations,
        max_party_size=r.max_party_size,
    )


def line_transfer_number(restaurant_id: int, dialled: str) -> str | None:
    """For a phone call to `dialled` (E.164, the SIP participant's sip.trunkPhoneNumber): the transfer number
    (E.164) of the restaurant's active phone line with that number, "" if the line has none, or None if
    `dialled` is not an active line of the active restaurant `restaurant_id`. Read from the database now, so a
    line edited in admin counts on the next call of this."""
    lines = PhoneLine.objects.live().filter(restaurant_id=restaurant_id, number=dialled)
    found = list(lines.values_list("transfer_number", flat=True)[:1])
    return str(found[0] or "") if found else None


def _restaurant(restaurant_id: int, hours_around: dt.datetime | None = None) -> Restaurant:
    """The active restaurant (one query), with its schedule around `hours_around` loaded when given (three in
    all). Raises ToolError."""
    restaurants = Restaurant.objects.active()
    if hours_around is not None:
        restaurants = restaurants.with_schedule(hours_around)
    try:
        return restaurants.get(pk=restaurant_id)
    except Restaurant.DoesNotExist:
        raise ToolError("I'm sorry, I can't look that up right now.") from None


@dataclass(frozen=True)
class CommonFacts:
    """The facts diners ask most, each as its tool says it: `open_now` (check_open with no argument), `today`
    (check_open for today), `week` (get_opening_hours) and `address` (get_address)."""

    open_now: str
    today: str
    week: str
    address: str


def common_facts(restaurant_id: int) -> CommonFacts:
    """The four commonest facts at this moment, from one load of the restaurant and its schedule (three
    queries). Raises ToolError when the restaurant is gone or inactive."""
    now = timezone.now()
    r = _restaurant(restaurant_id, now)
    schedule, local_now = r.schedule_around(now), now.astimezone(r.tz)
    return CommonFacts(
        open_now=_status_now(r, schedule, local_now),
        today=_hours_on(r, schedule, local_now.date()),
        week=_opening_hours(r, schedule, local_now.date()),
        address=_address(r),
    )


def opening_hours(restaurant_id: int) -> str:
    """The weekly hours, grouped, plus special days in the next LOOKAHEAD_DAYS, in the restaurant's local time:
    "Opening hours (local time, Europe/Rome): Monday: closed. ... Special days coming up: Friday (2026-12-25):
    closed (Christmas Day)." Raises ToolError when the restaurant is gone or inactive."""
    now = timezone.now()
    r = _restaurant(restaurant_id, now)
    return _opening_hours(r, r.schedule_around(now), now.astimezone(r.tz).date())


def _opening_hours(r: Restaurant, schedule: hours.Schedule, today: dt.date) -> str:
    text = f"Opening hours (local time, {r.time_zone}): {hours.say_weekly(schedule.weekly, r.language)}"
    specials = [
        f"{hours.say_day(sd.date, today)} ({sd.date.isoformat()}): {hours.say_periods(list(sd.periods), r.language, sd.note)}"
        for sd in schedule.special_days_between(today, today + dt.timedelta(days=hours.LOOKAHEAD_DAYS))
    ]
    if specials:
        text += " Special days coming up: " + "; ".join(specials) + "."
    return text


# "19:30", "7:30", "19h30", "7pm", "7:30 p.m.": what a model may send for a clock time, beside the HH:MM asked.
CLOCK_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?(?:\s*([ap])\.?\s*m\.?)?$", re.IGNORECASE)


def _parse_date(value: str, today: dt.date) -> dt.date:
    """A local date from an ISO date (2026-12-24), "today" or "tomorrow", from yesterday to a year after
    `today`. Raises ToolError for anything else."""
    if len(value) > MAX_DATE_CHARS:
        raise ToolError(UNCLEAR_DAY)
    text = value.strip().lower()
    if text in ("today", "tomorrow"):
        return today + dt.timedelta(days=text == "tomorrow")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ToolError(UNCLEAR_DAY) from None
    if not today + EARLIEST_DAY <= day <= today + LATEST_DAY:
        raise ToolError(DAY_OUT_OF_RANGE)
    return day


def _parse_time(value: str) -> tuple[dt.time, int]:
    """A local clock time and how many days after its date it falls: "19:30" and "7:30 pm" -> (19:30, 0);
    "24:00", midnight at the end of the day -> (00:00, 1)."""
    if len(value) <= MAX_TIME_CHARS and (match := CLOCK_TIME.match(value.strip())):
        hour, minute, half = int(match[1]), int(match[2] or 0), (match[3] or "").lower()
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "p" else 0)
        if (hour, minute) == (24, 0):
            return dt.time(0), 1
        if hour < 24 and minute < 60:
            return dt.time(hour, minute), 0
    raise ToolError(UNCLEAR_TIME)


def open_status(restaurant_id: int, date: str | None = None, time: str | None = None) -> str:
    """Open or closed now, at a local `time` today, or at local `date` + `time`; a `date` alone gives that
    day's hours. `date` is ISO (2026-12-24), "today" or "tomorrow"; `time` is 24-hour HH:MM (or 7 pm,
    24:00); both the restaurant's local time. "Open now (Tuesday 2026-12-08, 13:05), until 14:30.", "Closed at
    16:00 on Tuesday 2026-12-08, opens today 19:00 (2026-12-08).", "Tuesday 2026-12-08: 12:00 to 14:30
    (Lunch) and 19:00 to 23:00 (Dinner) (local time)." Raises ToolError for a date or time it cannot read, a
    date before yesterday or more than a year ahead, or a restaurant gone or inactive."""
    now = timezone.now()
    r = _restaurant(restaurant_id, now)
    local_now = now.astimezone(r.tz)
    if not date and not time:
        return _status_now(r, r.schedule_around(now), local_now)
    if date and not time:
        day = _parse_date(date, local_now.date())
        return _hours_on(r, r.schedule(day, 1), day)
    clock, days_after = _parse_time(time)
    day = (_parse_date(date, local_now.date()) if date else local_now.date()) + dt.timedelta(days=days_after)
    when = dt.datetime.combine(day, clock).replace(tzinfo=r.tz)
    asked = f"at {hours.say_time(when, r.language)} on {hours.WEEKDAYS[day.weekday()]} {day.isoformat()}"
    return _say_status(r, r.schedule_around(when).status_at(when), asked, local_now.date())


def _status_now(r: Restaurant, schedule: hours.Schedule, local_now: dt.datetime) -> str:
    asked = f"now ({hours.WEEKDAYS[local_now.weekday()]} {local_now.date().isoformat()}, " \
            f"{hours.say_time(local_now, r.language)})"  # fmt: skip
    return _say_status(r, schedule.status_at(local_now), asked, local_now.date())


def _say_status(r: Restaurant, status: hours.OpeningStatus, asked: str, today: dt.date) -> str:
    note = f" Note: {status.note}." if status.note else ""
    return f"{hours.say_status(status, r.language, asked=asked, today=today)}.{note}"


def _hours_on(r: Restaurant, schedule: hours.Schedule, day: dt.date) -> str:
    periods, note = schedule.periods_on(day)
    return f"{hours.WEEKDAYS[day.weekday()]} {day.isoformat()}: {hours.say_periods(periods, r.language, note)} (local time)."


def address(restaurant_id: int) -> str:
    """Street address, city, country name and phone number, as the agent says them: "Trattoria Test is at Via
    dei Coronari 12, 00186 Roma, Italy. Phone: 0 6, 1 2 3 4, 5 6 7 8." Raises ToolError when the restaurant is
    gone or inactive."""
    return _address(_restaurant(restaurant_id))


def _address(r: Restaurant) -> str:
    return f"{r.name} is at {r.address.spoken}. Phone: {r.phone_spoken}."


def _describe(item: MenuItem, r: Restaurant, *, full: bool) -> str:
    text = f"{item.name}, {r.format_price(item.price)}"
    tags = [t.name.lower() for t in item.dietary_tags.all()]
    if tags:
        text += f" ({', '.join(tags)})"
    if not item.is_available:
        text += ", not available today"
    if not full:
        return text
    text = f"{text}. Section: {item.section.name}."
    if item.description:
        text += f" {item.description}."
    allergens = [a.name.lower() for a in item.allergens.all()]
    if not item.allergens_confirmed:
        text += (
            " Allergen information for this dish is not confirmed by the kitchen: the diner must ask the staff"
            " before ordering."
        )
        if allergens:
            text += f" Listed so far, unconfirmed: {', '.join(allergens)}."
    elif allergens:
        text += f" Contains these allergens (confirmed by the kitchen): {', '.join(allergens)}."
    else:
        text += " The kitchen confirms it contains none of the 14 major allergens."
    return text


def menu(restaurant_id: int, section: str | None = None, dietary_need: str | None = None) -> str:
    """Dishes with prices, optionally one section and/or one dietary need (a DietaryTag code)."""
    r = _restaurant(restaurant_id)
    chosen = None
    if section:
        chosen = r.find_section(section) if len(section) <= MAX_SECTION_CHARS else None
        if chosen is None:
            names = ", ".join(s.name for s in r.menu_sections.all())
            heard = UNCLEAR_SECTION if len(section) > MAX_SECTION_CHARS else f"We don't have a section called {section}."
            raise ToolError(f"{heard} Our menu sections are: {names}.")
    if dietary_need and dietary_need not in DietaryTag.CODES:
        raise ToolError(UNKNOWN_DIETARY_NEED)
    items = list(r.menu(section=chosen, dietary_need=dietary_need)[: MAX_ITEMS_LISTED + 1])
    scope = " ".join(p for p in ((dietary_need or ""), "dishes", f"in {chosen.name}" if chosen else "") if p)
    if not items:
        return f"There are no {scope} on the menu." + (
            " Only dishes the kitchen has tagged count." if dietary_need else ""
        )
    lines: dict[str, list[str]] = {}
    for item in items[:MAX_ITEMS_LISTED]:
        lines.setdefault(item.section.name, []).append(_describe(item, r, full=False))
    text = " ".join(f"{name}: {'; '.join(dishes)}." for name, dishes in lines.items())
    if len(items) > MAX_ITEMS_LISTED:
        text += " There are more dishes: ask about one section at a time."
    return f"Menu ({scope}, prices in {r.currency}): {text}"


def menu_item(restaurant_id: int, name: str | None) -> str:
    """Price, description, dietary tags, allergens and availability of the dishes matching `name`."""
    if not name or not name.strip() or len(name) > MAX_DISH_CHARS:
        raise ToolError(UNCLEAR_DISH)
    r = _restaurant(restaurant_id)
    found = r.find_menu_items(name)
    if not found:
        return f"Nothing on the menu is called {name}."
    return " ".join(_describe(item, r, full=True) for item in found)


def question_to_note(question: str | None) -> str:
    """A diner's question as staff will read it: trimmed, at most MAX_QUESTION_CHARS characters (longer ones are
    cut, marked with "…"). Raises ToolError for an empty one."""
    text = " ".join((question or "").split())
    if not text:
        raise ToolError(UNCLEAR_QUESTION)
    return cut(text, MAX_QUESTION_CHARS)



# --- House facts ----------------------------------------------------------------------------------------------
# What the staff wrote for diners' questions ("Is there parking?"). A restaurant's active facts all go with each model
# request (turn_facts) while they fit HOUSE_FACTS_INLINE and HOUSE_FACTS_INLINE_CHARS; above either, the request
# says so and the model searches them with find_house_facts (bench/README.md has what each way costs a turn).
HOUSE_FACTS_INLINE = 20  # facts
HOUSE_FACTS_INLINE_CHARS = 4000  # characters of their questions and answers together (about 1,000 tokens)
HOUSE_FACTS_FOUND = 3  # the most facts one search answers with
NO_HOUSE_FACT = (
    "No house fact answers that. Tell the diner you do not know, and note the question with "
    "record_unanswered_question."
)
UNCLEAR_FACT_QUESTION = "Which question should I look up? Say it in a few words."


def house_facts_inline(restaurant_id: int) -> list[tuple[str, str]] | None:
    """The restaurant's active house facts as (question, answer), each on one line, by question, when they fit a
    model request: at most HOUSE_FACTS_INLINE of them and HOUSE_FACTS_INLINE_CHARS characters together. None when
    they do not (the model then searches them with `house_facts_search`). One query, of at most
    HOUSE_FACTS_INLINE + 1 rows."""
    rows = HouseFact.objects.active().filter(restaurant_id=restaurant_id).order_by("question", "pk")
    facts = [(one_line(q), one_line(a)) for q, a in rows.values_list("question", "answer")[: HOUSE_FACTS_INLINE + 1]]
    if len(facts) > HOUSE_FACTS_INLINE or sum(len(q) + len(a) for q, a in facts) > HOUSE_FACTS_INLINE_CHARS:
        return None
    return facts


def house_facts_search(restaurant_id: int, question: str | None) -> str:
    """The restaurant's active house facts that speak to `question` best (restaurants.questions.rank over their
    questions and answers), at most HOUSE_FACTS_FOUND, as one text for the model with the rule to say only what a
    fact says: "House facts for “dogs?” (...): “Are dogs allowed?”: Dogs are welcome in the bar." Or NO_HOUSE_FACT.
    Reads at most MAX_ACTIVE_HOUSE_FACTS facts (a restaurant has no more). Two queries. Raises ToolError for an
    empty question or one over MAX_QUESTION_CHARS, or a restaurant gone or inactive."""
    asked = " ".join((question or "").split())
    if not asked or len(asked) > MAX_QUESTION_CHARS:
        raise ToolError(UNCLEAR_FACT_QUESTION)
    _restaurant(restaurant_id)
    rows = HouseFact.objects.active().filter(restaurant_id=restaurant_id).order_by("-updated_at", "-pk")
    facts = {pk: (q, a) for pk, q, a in rows.values_list("pk", "question", "answer")[:MAX_ACTIVE_HOUSE_FACTS]}
    found = questions.rank(asked, ((pk, q, a) for pk, (q, a) in facts.items()), limit=HOUSE_FACTS_FOUND)
    if not found:
        return NO_HOUSE_FACT
    said = " ".join(f"“{one_line(facts[pk][0])}”: {one_line(facts[pk][1])}" for pk in found)
    return (
        f"House facts closest to “{asked}”, each the staff's answer to its own question: {said} Answer the diner "
        "only with a fact that answers what they asked, in its words and no further. If none does, you do not "
        "know: note the question with record_unanswered_question."
    )


# --- Takeout orders -----------------------------------------------------------------------------------------
# The order tools' ORM side. Every rule, price and total is orders.services'; a refusal's sentence comes back as
# ToolError(sentence). Each function takes the session's draft id (None before the first dish) and returns what
# the model hears; those that may start a draft return its id too.

NO_ORDER_YET = "There is no order yet: add a dish first."
UNCLEAR_QUANTITY = "How many would you like? From 1 to 20 of one dish."
UNCLEAR_CHOICES = "Which choices for that dish? Name each one, for example Large or Burrata."
UNCLEAR_NOTE = "I didn't catch the note for the kitchen. Could you say it again, briefly?"
UNCLEAR_LINE = "Which dish should I take off the order? Say its name or its number as I read it back."
UNCLEAR_NAME = "Which name should the order be under?"
UNCLEAR_PHONE = "I didn't catch the phone number. Could you say it again with the country code?"
UNCLEAR_VERSION = (
    "Read the order back with read_order first, and once the diner says yes, place it with the version it gives."
)
NOTHING_TO_CANCEL = "There is no order to cancel."


@dataclass(frozen=True)
class OrderContext:
    """Where a session's order comes from: the restaurant, the channel ("web" or "phone"), the room of the
    call (its Call row, if any, is linked to the order) and, on the phone, the caller's number."""

    restaurant_id: int
    channel: str
    room_name: str = ""
    caller_number: str = ""


def _refused(refused) -> ToolError:
    return ToolError(refused.sentence)


def _draft(order_id: int | None):
    """The session's draft, or None (none yet, or it was placed or cancelled)."""
    if order_id is None:
        return None
    return Order.objects.filter(pk=order_id, status=Order.Status.DRAFT).first()


def _start(ctx: OrderContext):
    """A new draft for the session, linked to this room's call; on the phone its number is the caller's."""
    restaurant = Restaurant.objects.get(pk=ctx.restaurant_id)
    call = Call.objects.filter(room_name=ctx.room_name).first() if ctx.room_name else None
    order = order_start(restaurant=restaurant, channel=ctx.channel, call=call)
    if not order.customer_phone and ctx.channel == "phone" and ctx.caller_number:
        try:
            order = order_set_pickup(order=order, phone=ctx.caller_number)
        except OrderRefused:  # "anonymous" or a number that is not one: asked for when needed
            pass
    return order


def _line_words(line, r: Restaurant) -> str:
    choices = f" with {', '.join(line.choices)}" if line.choices else ""
    note = f" ({line.note})" if line.note else ""
    return f"{line.quantity} {line.name}{choices}{note}, {r.format_price(line.line_total)}"


def order_add(
    ctx: OrderContext, order_id: int | None, dish: str, quantity: int, choices: list[str], note: str
) -> tuple[int, str]:
    """Add a dish to the session's draft (starting one if there is none). Returns (draft id, what to say)."""
    try:
        with transaction.atomic():  # a refused first dish leaves no empty draft behind
            order = _draft(order_id) or _start(ctx)
            line = order_add_line(order=order, dish=dish, quantity=quantity, modifiers=choices, note=note)
    except OrderRefused as refused:
        raise _refused(refused) from None
    order.refresh_from_db()
    r = order.restaurant
    return order.pk, (
        f"Added {_line_words(line, r)} for that line. The order total is now {r.format_price(order.total)}. "
        "Ask whether the diner wants anything else."
    )


def order_remove(order_id: int | None, line: str | int) -> str:
    """Take a line off the draft: its number as read_order numbered it, or the dish's name."""
    order = _draft(order_id)
    if order is None:
        raise ToolError(NO_ORDER_YET)
    try:
        target: str | int = line
        text = str(line).strip()
        if text.isdigit():
            lines = order_read(order=order).lines
            if not 1 <= int(text) <= len(lines):
                raise ToolError(f"The order has {len(lines)} line{'s' if len(lines) != 1 else ''}: which one?")
            target = lines[int(text) - 1].id
        order_remove_line(order=order, line=target)
    except OrderRefused as refused:
        raise _refused(refused) from None
    order.refresh_from_db()
    return f"Removed. The order total is now {order.restaurant.format_price(order.total)}."


def order_text(order_id: int | None) -> str:
    """The draft (or the order just placed) read back: numbered lines with their choices and prices, the total,
    the pickup and name, and the version to place."""
    order = Order.objects.filter(pk=order_id).first() if order_id is not None else None
    if order is None:
        raise ToolError(NO_ORDER_YET)
    summary = order_read(order=order)
    r = order.restaurant
    if summary.status != Order.Status.DRAFT:
        return summary.text
    said = [f"Line {n}: {_line_words(line, r)}." for n, line in enumerate(summary.lines, 1)]
    said.append(summary.text)
    if not summary.customer_phone and order.channel == Order.Channel.WEB:
        said.append("No phone number yet.")
    said.append(
        f"Version {summary.version}. Read this back to the diner; only if they confirm, call place_order with "
        f"version {summary.version}."
    )
    return " ".join(said)


def order_pickup(order_id: int | None, name: str | None, date: str | None, time: str | None, phone: str | None) -> str:
    """Set the draft's name, pickup time (local `date` and `time`) and phone number; each None stays as it was."""
    order = _draft(order_id)
    if order is None:
        raise ToolError(NO_ORDER_YET)
    r = order.restaurant
    pickup_at = None
    if time is not None:
        today = r.local_now().date()
        day = _parse_date(date, today) if date is not None else today
        clock, later = _parse_time(time)
        pickup_at = dt.datetime.combine(day + dt.timedelta(days=later), clock)  # naive: the restaurant's wall clock
    elif date is not None:
        raise ToolError("At what time would you like to pick it up?")
    try:
        order = order_set_pickup(order=order, name=name, phone=phone, pickup_at=pickup_at)
    except OrderRefused as refused:
        raise _refused(refused) from None
    said = []
    if order.pickup_at:
        local = order.pickup_at.astimezone(r.tz)
        said.append(f"Pickup at {hours.say_time(local, r.language)} {_say_day(local.date(), r)}.")
    if order.customer_name:
        said.append(f"Name: {order.customer_name}.")
    if order.customer_phone:
        said.append(f"Phone: {order.customer_phone}.")
    return " ".join(said) or "Nothing changed."


def _say_day(day: dt.date, r: Restaurant) -> str:
    said = hours.say_day(day, r.local_now().date())
    return said if said in ("today", "tomorrow") else f"on {said}"


def order_placing(order_id: int | None, version: int) -> str:
    """Place the draft at `version`: the number and the pickup in local time, or the refusal."""
    order = _draft(order_id)
    if order is None:
        raise ToolError(NO_ORDER_YET)
    try:
        order = order_place(order=order, version=version)
    except OrderRefused as refused:
        raise _refused(refused) from None
    r = order.restaurant
    local = order.pickup_at.astimezone(r.tz)
    return (
        f"Placed: order number {order.number}, {order.customer_name}, total {r.format_price(order.total)}, "
        f"pickup at {hours.say_time(local, r.language)} {_say_day(local.date(), r)}. Payment is at pickup."
    )


def order_cancelling(order_id: int | None) -> str:
    """Cancel the session's draft, or its order the kitchen has not accepted yet."""
    order = Order.objects.filter(pk=order_id).first() if order_id is not None else None
    if order is None:
        raise ToolError(NOTHING_TO_CANCEL)
    try:
        order_cancel(order=order, reason="Cancelled by the diner")
    except OrderRefused as refused:
        raise _refused(refused) from None
    return "The order is cancelled."
