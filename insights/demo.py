"""Believable past calls for a restaurant, for the demo (`manage.py load_demo_calls`) and the benchmark
(bench/insights.py): spread over its last days with lunch and dinner peaks in its local time and busier weekends,
on the web and on the phone, most answered (some with an unanswered question), a few failed (no agent, no diner,
the voice service down), and, where the restaurant takes them, takeout orders and table bookings made on them.

Rows are written with bulk_create in batches, so 100,000 calls take seconds, and no event or webhook is sent for
them. Calls older than CALL_RETENTION_DAYS are written as `manage.py purge_calls` leaves them: purged, with no
unanswered question kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction

from dispatch.models import Call, UnansweredQuestion
from orders.models import FIRST_ORDER_NUMBER, Order, OrderLine
from reservations.models import LIVE, Reservation, Table, new_code
from restaurants.models import Restaurant

# Every call this module makes has a room name with this prefix, so the demo's calls can be replaced.
ROOM_PREFIX = "demo-"
BATCH = 5000

# Relative weights of the local hour a call starts in (0 to 23) and of the weekday (Monday first).
HOUR_WEIGHTS = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.6, 1.2,
    1.6, 1.0, 0.5, 0.4, 0.7, 1.3, 1.8, 1.6, 0.9, 0.5, 0.25, 0.1,
)  # fmt: skip
WEEKDAY_WEIGHTS = (0.7, 0.8, 0.9, 1.0, 1.3, 1.4, 1.1)
# What diners ask that restaurants' data rarely answers, most asked first.
QUESTIONS = (
    "Is there parking nearby?", "Can I bring my dog?", "Do you have a terrace?", "Do you do birthday cakes?",
    "Is there a children's menu?", "Can you host a private party?", "Do you have high chairs?",
    "Is the restaurant wheelchair accessible?", "Do you sell gift vouchers?", "Can I bring my own wine?",
    "Do you have vegan desserts?", "Is there a dress code?",
)  # fmt: skip
QUESTION_WEIGHTS = tuple(1 / (rank + 1) for rank in range(len(QUESTIONS)))


@dataclass(frozen=True)
class Seeded:
    """How many rows `seed_calls` wrote."""

    calls: int
    questions: int
    orders: int
    bookings: int


def seed_calls(
    restaurant: Restaurant, *, calls: int, days: int, now: dt.datetime, seed: int = 0, phone_share: float = 0.35
) -> Seeded:
    """Write about `calls` calls of `restaurant` (those that would start after `now`, aware, are left out) over
    the `days` local days ending with `now`'s, with their unanswered questions and, when the restaurant takes
    them, orders and bookings. `seed` makes the same rows again (room names aside); `phone_share` is the share
    of phone calls (0 to 1). One transaction."""
    rng = random.Random(seed)
    zone = ZoneInfo(restaurant.time_zone)
    today = now.astimezone(zone).date()
    dates = [today - dt.timedelta(days=n) for n in range(days)]
    weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in dates]
    purge_before = now - dt.timedelta(days=settings.CALL_RETENTION_DAYS)
    tag = f"{ROOM_PREFIX}{restaurant.pk}-{uuid.uuid4().hex[:8]}"
    rows = []
    for n, day in enumerate(rng.choices(dates, weights, k=calls)):
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=zone)
        created = local.astimezone(dt.UTC)
        if created <= now:
            purged = created < purge_before
            rows.append(_call(restaurant, rng, f"{tag}-{n}", created, phone_share, purged=purged, now=now))
    with transaction.atomic(), _keeping("created_at", Call, UnansweredQuestion, Order, Reservation):
        made = []
        for start in range(0, len(rows), BATCH):
            made += Call.objects.bulk_create(rows[start : start + BATCH])
        answered = [c for c in made if c.status == Call.Status.ENDED]
        questions = _questions(restaurant, rng, [c for c in answered if not c.purged_at])
        orders = _orders(restaurant, rng, answered, now) if restaurant.takes_orders else 0
        bookings = _bookings(restaurant, rng, answered, now) if restaurant.takes_reservations else 0
    return Seeded(len(made), questions, orders, bookings)


def _call(restaurant, rng, room, created, phone_share, *, purged: bool, now) -> Call:
    phone = rng.random() < phone_share
    call = Call(
        restaurant=restaurant, room_name=room, participant_identity="diner-demo", created_at=created,
        channel=Call.Channel.PHONE if phone else Call.Channel.WEB, purged_at=now if purged else None,
        caller_number="" if purged or not phone or rng.random() < 0.1 else f"+4477009{rng.randrange(10**5):05d}",
        dialled_number=restaurant.phone if phone else "",
    )  # fmt: skip
    if rng.random() < 0.06:
        reason = rng.choices(
            [Call.EndReason.NO_AGENT, Call.EndReason.NO_DINER, Call.EndReason.LIVEKIT_UNAVAILABLE], [5, 3.5, 1.5]
        )[0]
        call.status, call.end_reason = Call.Status.FAILED, reason
        if reason == Call.EndReason.NO_DINER:
            call.agent_joined_at = created + dt.timedelta(seconds=1.5)
        call.ended_at = created + dt.timedelta(seconds=rng.randint(6, 16))
        return call
    seconds = min(int(rng.lognormvariate(4.9, 0.65)) + 5, settings.AGENT_MAX_CALL_DURATION)
    call.status = Call.Status.ENDED
    call.agent_joined_at = created + dt.timedelta(seconds=1.2)
    call.diner_joined_at = created + dt.timedelta(seconds=2)
    call.duration = seconds
    call.ended_at = call.diner_joined_at + dt.timedelta(seconds=seconds)
    if seconds >= settings.AGENT_MAX_CALL_DURATION:
        call.end_reason = Call.EndReason.TIME_LIMIT
    elif phone and rng.random() < 0.06:
        call.end_reason = Call.EndReason.TRANSFERRED
    else:
        call.end_reason = rng.choices([Call.EndReason.DINER_HUNG_UP, Call.EndReason.AGENT_ENDED], [3, 1])[0]
    call.message_count = max(2, seconds // 12)
    call.tool_call_count = seconds // 45
    return call


def _questions(restaurant, rng, calls) -> int:
    rows = []
    for call in calls:
        if rng.random() < 0.13:
            asked = call.diner_joined_at + dt.timedelta(seconds=call.duration // 2)
            resolved = asked + dt.timedelta(days=1) if rng.random() < 0.3 else None
            question = rng.choices(QUESTIONS, QUESTION_WEIGHTS)[0]
            rows.append(UnansweredQuestion(restaurant=restaurant, call=call, question=question, created_at=asked,
                                           resolved_at=resolved))  # fmt: skip
    UnansweredQuestion.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _orders(restaurant, rng, calls, now) -> int:
    """Orders on about one answered call in six: picked up half an hour after the call; cancelled or rejected now
    and then; still placed when the pickup is to come. One line each, of a dish on the menu."""
    dishes = list(restaurant.menu_items().filter(is_available=True).values_list("pk", "name", "price"))
    if not dishes:
        return 0
    zone = ZoneInfo(restaurant.time_zone)
    taken = defaultdict(int)  # service date -> numbers given
    for day, number in Order.objects.filter(restaurant=restaurant, number__isnull=False).values_list(
        "service_date", "number"
    ):
        taken[day] = max(taken[day], number - FIRST_ORDER_NUMBER + 1)
    orders, lines = [], []
    for call in calls:
        if rng.random() >= 0.17:
            continue
        placed = call.ended_at - dt.timedelta(seconds=20)
        pickup = placed + dt.timedelta(minutes=30)
        day = pickup.astimezone(zone).date()
        number = FIRST_ORDER_NUMBER + taken[day]
        taken[day] += 1
        pk, name, price = rng.choice(dishes)
        quantity = rng.randint(1, 4)
        total = price * quantity
        if pickup > now:
            status = Order.Status.PLACED
        else:
            status = rng.choices([Order.Status.COLLECTED, Order.Status.CANCELLED, Order.Status.REJECTED], [90, 5, 5])[0]
        orders.append(Order(
            restaurant=restaurant, call=call, channel=call.channel, status=status, number=number, service_date=day,
            customer_name="Demo guest", pickup_at=pickup, subtotal=total, total=total, currency=restaurant.currency,
            placed_at=placed, created_at=call.diner_joined_at,
            cancel_reason="Out of stock" if status in (Order.Status.CANCELLED, Order.Status.REJECTED) else "",
        ))  # fmt: skip
        lines.append(OrderLine(menu_item_id=pk, name=name, quantity=quantity, unit_price=price, line_total=total))
    Order.objects.bulk_create(orders, batch_size=BATCH)
    for order, line in zip(orders, lines, strict=True):
        line.order = order
    OrderLine.objects.bulk_create(lines, batch_size=BATCH)
    return len(orders)


def _bookings(restaurant, rng, calls, now) -> int:
    """Bookings on about one answered call in eight, for 19:00 to 21:00 local time within the next two weeks
    of the call: done (or a no-show, or cancelled) when that time has passed, else booked on a free table (never
    overlapping another live booking: PostgreSQL would refuse it)."""
    tables = list(Table.objects.filter(restaurant=restaurant, is_active=True).order_by("max_seats", "name"))
    if not tables:
        return 0
    zone = ZoneInfo(restaurant.time_zone)
    busy = defaultdict(list)  # table id -> (start, end) of its live bookings
    for table_id, start, end in Reservation.objects.filter(restaurant=restaurant, status__in=LIVE).values_list(
        "table_id", "starts_at", "ends_at"
    ):
        busy[table_id].append((start, end))
    codes = set(Reservation.objects.filter(restaurant=restaurant).values_list("code", flat=True))
    rows = []
    for call in calls:
        if rng.random() >= 0.12:
            continue
        party = rng.choices(range(1, 9), [1, 8, 3, 5, 2, 2, 1, 1])[0]
        day = call.created_at.astimezone(zone).date() + dt.timedelta(days=rng.randint(0, 14))
        starts = dt.datetime.combine(day, dt.time(19 + rng.randint(0, 2), rng.choice((0, 30))), tzinfo=zone)
        starts = starts.astimezone(dt.UTC)
        ends = starts + dt.timedelta(minutes=90 if party <= 4 else 120)
        seating = [t for t in tables if t.min_seats <= party <= t.max_seats]
        if ends <= now:
            status = rng.choices(
                [Reservation.Status.COMPLETED, Reservation.Status.NO_SHOW, Reservation.Status.CANCELLED], [85, 5, 10]
            )[0]
        else:
            status = Reservation.Status.CANCELLED if rng.random() < 0.1 else Reservation.Status.BOOKED
            if status == Reservation.Status.BOOKED:
                seating = [t for t in seating if all(ends <= s or starts >= e for s, e in busy[t.pk])]
        if not seating:
            continue
        table = seating[0]
        if status == Reservation.Status.BOOKED:
            busy[table.pk].append((starts, ends))
        code = new_code()
        while code in codes:  # unique per restaurant: among 100,000 bookings two random codes would meet
            code = new_code()
        codes.add(code)
        rows.append(Reservation(code=code, 
            restaurant=restaurant, table=table, party_size=party, starts_at=starts, ends_at=ends, status=status,
            guest_name="Demo guest", channel=call.channel, call=call,
            created_at=call.ended_at - dt.timedelta(seconds=30),
        ))  # fmt: skip
    Reservation.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


@contextlib.contextmanager
def _keeping(field: str, *models_: type[models.Model]) -> Iterator[None]:
    """Within the block, bulk_create writes the given `field` instead of the time of the write: the field is an
    auto_now_add, which Django would otherwise set on every row (an UPDATE per row after would be 100,000
    queries)."""
    fields = [m._meta.get_field(field) for m in models_]
    before = [f.auto_now_add for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in zip(fields, before, strict=True):
            f.auto_now_add = value
