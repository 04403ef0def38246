"""`manage.py load_demo`: loads six demo restaurants (restaurants/demo_data.py) to try maitre with.

They cover split lunch/dinner shifts, service past midnight, closed weekdays, far time zones (Tokyo, Los
Angeles, Sydney), German and French speaking agents, menus in five currencies with dietary tags, allergens,
a sold-out dish and unconfirmed allergen lists, and special days placed relative to today. Three of them take
takeout orders, with modifier groups on their dishes (required choices, extras up to a maximum, a smaller size
that costs less, a sold-out choice). Two take table reservations, with a floor of tables and bookings already
made, among them a full Saturday evening.

Each restaurant gets house facts (parking, dogs, high chairs, access: demo_data.HOUSE_FACTS) and a few questions the
agent could not answer, several asked more than once in several wordings (demo_data.UNANSWERED), over the last week.

Idempotent: restaurants are keyed by slug and updated in place (made active, with the demo's takeout settings);
each demo restaurant's service periods, special days, menu sections and dishes (with their modifier groups and
modifiers), house facts and, for those that take reservations, their tables and reservations are replaced, so a
second run leaves the same data (new row ids and codes for the replaced rows). The demo's unanswered questions
(those with no call and a demo wording) are replaced, open again; questions the agent recorded in calls stay. Other
restaurants are left alone. Two restaurants get a phone line each (demo_data.PHONE_LINES), keyed by number and
updated in place; other phone lines are left alone. Every row goes through full_clean() before it is saved, and
the whole load is one transaction: on any error nothing changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dispatch.models import UnansweredQuestion
from reservations.models import LIVE, Reservation, Table
from restaurants import demo_data
from restaurants.hours import wall_clock
from restaurants.models import (
    Allergen,
    DietaryTag,
    HouseFact,
    MenuItem,
    MenuSection,
    Modifier,
    ModifierGroup,
    PhoneLine,
    Restaurant,
    ServicePeriod,
    SpecialDay,
)

RESTAURANT_FIELDS = [
    "name", "cuisine", "description", "street_address", "city", "postal_code", "country", "phone",
    "time_zone", "language", "currency", "greeting", "agent_instructions", "tts_voice", "turn_taking",
]  # fmt: skip
# A restaurant's `takeout` in demo_data sets these; one without takes no orders and has the defaults.
TAKEOUT_FIELDS = ["pickup_lead_minutes", "orders_per_slot", "last_order_minutes"]
# A restaurant's `reservations` settings; one without takes no reservations and has the defaults.
RESERVATION_FIELDS = [
    "max_party_size", "booking_horizon_days", "booking_notice_minutes", "slot_minutes", "dining_minutes",
    "dining_minutes_large", "last_seating_minutes",
]  # fmt: skip
# Guests of the full evening's tables (fictional).
GUESTS = [
    "Alex Carter", "Sam Patel", "Jo Evans", "Chris Walker", "Morgan Lee", "Robin Clarke", "Jamie Wood",
    "Taylor Green", "Casey Hall", "Drew Baker", "Kim Turner", "Pat Hill", "Lee Moore", "Ash Young", "Nico Price",
    "Remy Scott", "Sky Adams", "Dani Reed",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Load six demo restaurants with hours, special days and menus (three take orders, two take table "
        "reservations). Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            lines = [self.load(data) for data in demo_data.RESTAURANTS]
        for line in lines:
            self.stdout.write(line)

    def load(self, data: dict) -> str:
        """Creates or updates one restaurant and replaces its hours and menu; returns the summary line."""
        slug = data["slug"]
        # update_or_create by hand: the manager's would save without full_clean().
        restaurant = Restaurant.objects.filter(slug=slug).first() or Restaurant(slug=slug)
        for name in RESTAURANT_FIELDS:
            setattr(restaurant, name, data[name])
        restaurant.is_active = True
        restaurant.takes_orders = "takeout" in data
        for name in TAKEOUT_FIELDS:
            setattr(restaurant, name, data.get("takeout", {}).get(name, Restaurant._meta.get_field(name).default))
        booking = data.get("reservations", {})
        restaurant.takes_reservations = bool(booking)
        for name in RESERVATION_FIELDS:
            setattr(restaurant, name, booking.get("settings", {}).get(name, Restaurant._meta.get_field(name).default))
        _save(restaurant, slug)

        restaurant.service_periods.all().delete()
        restaurant.special_days.all().delete()
        restaurant.menu_sections.all().delete()  # and their dishes

        for weekdays, opens, closes, label in data["hours"]:
            for weekday in weekdays:
                period = ServicePeriod(
                    restaurant=restaurant, weekday=weekday, opens=_time(opens), closes=_time(closes), label=label
                )
                _save(period, f"{slug}: {period}")

        today = restaurant.local_now().date()
        for day, spec in _special_dates(data["special_days"], today).items():
            special = SpecialDay(
                restaurant=restaurant,
                date=day,
                is_closed="opens" not in spec,
                opens=_time(spec["opens"]) if "opens" in spec else None,
                closes=_time(spec["closes"]) if "closes" in spec else None,
                note=spec["note"],
            )
            _save(special, f"{slug}: {special}")

        tags = {t.code: t for t in DietaryTag.objects.all()}
        allergens = {a.code: a for a in Allergen.objects.all()}
        sold_out, unconfirmed = set(data["sold_out"]), set(data["allergens_unconfirmed"])
        item_tags, item_allergens = MenuItem.dietary_tags.through, MenuItem.allergens.through
        tag_rows, allergen_rows = [], []
        dishes_by_name = {}
        for s_position, (section_name, dishes) in enumerate(data["menu"], start=1):
            section = MenuSection(restaurant=restaurant, name=section_name, position=s_position)
            _save(section, f"{slug}: {section_name}")
            for position, (name, price, description, tag_codes, allergen_codes) in enumerate(dishes, start=1):
                item = MenuItem(
                    section=section,
                    name=name,
                    price=Decimal(price),
                    description=description,
                    is_available=name not in sold_out,
                    allergens_confirmed=name not in unconfirmed,
                    position=position,
                )
                _save(item, f"{slug}: {name}")
                tag_rows += [
                    item_tags(menuitem=item, dietarytag=tag) for tag in _lookup(tags, tag_codes, f"{slug}: {name}")
                ]
                allergen_rows += [
                    item_allergens(menuitem=item, allergen=allergen)
                    for allergen in _lookup(allergens, allergen_codes, f"{slug}: {name}")
                ]
                dishes_by_name[name] = item
        # The dishes are new, so their tags and allergens can be inserted in one go each.
        item_tags.objects.bulk_create(tag_rows)
        item_allergens.objects.bulk_create(allergen_rows)
        missing = (sold_out | unconfirmed) - {d[0] for _, dishes in data["menu"] for d in dishes}
        if missing:
            raise CommandError(f"{slug}: no dish named {', '.join(sorted(missing))}")
        choices = _load_choices(data, dishes_by_name, slug)
        questions = _load_questions(restaurant, slug)
        book = _load_reservations(restaurant, booking, slug) if booking else ""

        numbers = []
        for number, transfer_number in demo_data.PHONE_LINES.get(slug, []):
            line = PhoneLine.objects.filter(number=number).first() or PhoneLine(number=number)
            line.restaurant, line.transfer_number, line.is_active = restaurant, transfer_number, True
            _save(line, f"{slug}: phone line {number}")
            numbers.append(number)

        return (
            f"{restaurant.name} ({slug}): {restaurant.city}, {restaurant.time_zone}, {restaurant.language}, "
            f"{restaurant.currency}; {restaurant.service_periods.count()} service periods, "
            f"{restaurant.special_days.count()} special days, {len(data['menu'])} sections, {len(dishes_by_name)} "
            f"dishes ({len(sold_out)} unavailable); {questions}"
            + (f"; takes orders, {choices}" if restaurant.takes_orders else "")
            + (f"; takes reservations, {book}" if book else "") + (f"; phone {', '.join(numbers)}" if numbers else "")
        )  # fmt: skip


def _load_choices(data: dict, dishes: dict[str, MenuItem], slug: str) -> str:
    """Creates the modifier groups and modifiers of `data["choices"]` on the new dishes; returns what it made
    ("12 modifier groups on 9 dishes, 1 modifier unavailable")."""
    sold_out = set(data.get("choices_sold_out", []))
    groups, unavailable, names = 0, 0, set()
    for dish_name, dish_groups in data.get("choices", {}).items():
        dish = dishes.get(dish_name)
        if dish is None:
            raise CommandError(f"{slug}: choices for no dish named {dish_name}")
        for g_position, (group_name, min_choices, max_choices, modifiers) in enumerate(dish_groups, start=1):
            group = ModifierGroup(
                menu_item=dish, name=group_name, min_choices=min_choices, max_choices=max_choices, position=g_position
            )
            _save(group, f"{slug}: {group}")
            groups += 1
            for position, (name, price_delta) in enumerate(modifiers, start=1):
                modifier = Modifier(
                    group=group, name=name, price_delta=Decimal(price_delta), is_available=name not in sold_out,
                    position=position,
                )  # fmt: skip
                _save(modifier, f"{slug}: {group}: {name}")
                names.add(name)
                unavailable += not modifier.is_available
    if sold_out - names:
        raise CommandError(f"{slug}: no modifier named {', '.join(sorted(sold_out - names))}")
    return (
        f"{groups} modifier groups on {len(data.get('choices', {}))} dishes, "
        f"{unavailable} {'modifier' if unavailable == 1 else 'modifiers'} unavailable"
    )


def _load_questions(restaurant: Restaurant, slug: str) -> str:
    """Replaces the restaurant's house facts with demo_data.HOUSE_FACTS's, and its demo unanswered questions (no
    call, a wording of demo_data.UNANSWERED) with the demo's, open, one wording of each in turn, the newest 2 hours
    ago and each next one 9 hours before. Returns what it made ("3 house facts, 18 open questions")."""
    restaurant.house_facts.all().delete()
    for question, answer in demo_data.HOUSE_FACTS.get(slug, []):
        _save(HouseFact(restaurant=restaurant, question=question, answer=answer), f"{slug}: house fact {question}")
    asked = demo_data.UNANSWERED.get(slug, [])
    UnansweredQuestion.objects.filter(
        restaurant=restaurant, call=None, question__in=[text for text, _ in asked]
    ).delete()  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    # Round the wordings, so that the queue's groups are asked on different days.
    wordings = [text for turn in range(max((t for _, t in asked), default=0)) for text, t in asked if turn < t]
    for n, text in enumerate(wordings):
        at = now - dt.timedelta(hours=2 + 9 * n)
        _save(UnansweredQuestion(restaurant=restaurant, question=text, created_at=at), f"{slug}: question {text}")
    facts = len(demo_data.HOUSE_FACTS.get(slug, []))
    return f"{facts} house {'fact' if facts == 1 else 'facts'}, {len(wordings)} open questions"


def _load_reservations(restaurant: Restaurant, booking: dict, slug: str) -> str:
    """Replaces the restaurant's tables and reservations with `booking`'s (see demo_data): each booking on the
    first day at least its days ahead whose hours include its time, and the full evening. Returns what it made
    ("6 tables, 21 reservations (the evening of Saturday 2026-12-12 full)")."""
    Reservation.objects.filter(restaurant=restaurant).delete()
    Table.objects.filter(restaurant=restaurant).delete()
    tables = []
    for name, fewest, most in booking["tables"]:
        table = Table(restaurant=restaurant, name=name, min_seats=fewest, max_seats=most)
        _save(table, f"{slug}: table {name}")
        tables.append(table)
    today = restaurant.local_now().date()
    schedule = restaurant.schedule(today, 60)
    made = 0

    def reserve(table: Table, starts: dt.datetime, party: int, guest: str, phone: str = "", notes: str = "") -> None:
        nonlocal made
        reservation = Reservation(
            restaurant=restaurant, table=table, party_size=party, starts_at=starts,
            ends_at=starts + restaurant.dining_time(party), guest_name=guest, guest_phone=phone, notes=notes,
            channel=Reservation.Channel.PHONE if phone else Reservation.Channel.WEB,
        )  # fmt: skip
        _save(reservation, f"{slug}: reservation {guest}")
        made += 1

    for in_days, time, party, guest, phone, notes in booking["bookings"]:
        days = (today + dt.timedelta(days=in_days + i) for i in range(14))
        starts = next(at for at in (wall_clock(d, _time(time), restaurant.tz) for d in days) if schedule.is_open_at(at))
        fits = [t for t in tables if t.min_seats <= party <= t.max_seats]
        table = next(t for t in fits if not _taken(t, starts, restaurant, party))
        reserve(table, starts, party, guest, phone, notes)
    full = ""
    if evening := booking.get("full_evening"):
        day = next(
            d for d in (today + dt.timedelta(days=2 + i) for i in range(14))
            if d.weekday() == evening["weekday"] and d not in schedule.special
        )  # fmt: skip
        guests = iter(GUESTS)
        for wave in evening["waves"]:
            starts = wall_clock(day, _time(wave), restaurant.tz)
            for table in tables:  # each one not already booked then
                party = min(max(evening["party"], table.min_seats), table.max_seats)
                if not _taken(table, starts, restaurant, party):
                    reserve(table, starts, party, next(guests))
        full = f" (the evening of {day:%A %Y-%m-%d} full)"
    return f"{len(tables)} tables, {made} reservations{full}"


def _taken(table: Table, starts: dt.datetime, restaurant: Restaurant, party: int) -> bool:
    ends = starts + restaurant.dining_time(party)
    return Reservation.objects.filter(table=table, status__in=LIVE, starts_at__lt=ends, ends_at__gt=starts).exists()


def _save(obj, where: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as e:
        raise CommandError(f"{where}: {'; '.join(e.messages)}") from e
    obj.save()


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _lookup(rows: dict, codes: str, where: str) -> list:
    try:
        return [rows[code] for code in codes.split()]
    except KeyError as e:
        raise CommandError(f"{where}: unknown code {e.args[0]!r}") from None


def _special_dates(specs: list[dict], today: dt.date) -> dict[dt.date, dict]:
    """Date -> spec: "in_days" counts from `today`; "on" ("MM-DD") is that date's next occurrence from today.

    Dates fixed by "on" win over relative ones that happen to fall on the same day.
    """
    out: dict[dt.date, dict] = {}
    for spec in sorted(specs, key=lambda s: "in_days" in s):
        if "in_days" in spec:
            day = today + dt.timedelta(days=spec["in_days"])
        else:
            month, day_of_month = (int(p) for p in spec["on"].split("-"))
            day = dt.date(today.year, month, day_of_month)
            if day < today:
                day = day.replace(year=today.year + 1)
        out.setdefault(day, spec)
    return out
