"""The rules of a takeout order, checked in code against the database at the moment they apply.

`order_start` opens a draft; `order_add_line`, `order_remove_line` and `order_set_pickup` change it (each
change bumps its `version`); `order_read` reads it back (with the menu's current prices); `order_place` places
exactly the version the diner heard, taking a pickup slot under a lock; `order_cancel` cancels. Every function
takes keyword arguments only, runs in one transaction holding the order's row, and either does what it says or
raises OrderRefused, whose `sentence` is what the diner hears: nothing is stored half-made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from restaurants import phones
from restaurants.hours import say_day, say_time, wall_clock
from restaurants.models import MenuItem, Modifier, Restaurant, fold_name, one_line

from .events import announce
from .models import CENT, MAX_NAME_LENGTH, MAX_NOTE_LENGTH, MAX_QUANTITY, Order, OrderLine, PickupSlot, ServiceDay
from .pickup import Pickups

# An order holds at most this many lines (a line holds up to MAX_QUANTITY of one dish as chosen).
MAX_LINES = 30
# At most this many choices named for one dish in one go.
MAX_CHOICES_NAMED = 40
# How much of what the diner said a refusal repeats.
QUOTED = 40


class OrderRefused(Exception):
    """A rule said no. `sentence` is what the diner hears; `times` are the pickup times offered instead (aware,
    UTC; empty unless the refusal is about the time); `version` is the draft's version when a refusal changed
    the draft (prices updated at placement), else None."""

    def __init__(self, sentence: str, *, times: Iterable[dt.datetime] = (), version: int | None = None):
        super().__init__(sentence)
        self.sentence = sentence
        self.times = tuple(times)
        self.version = version


@dataclass(frozen=True)
class LineSummary:
    """One line as read back: `choices` are the modifiers' names; `available` is False for a dish or choice that
    is no longer on offer (placing would refuse)."""

    id: int
    name: str
    quantity: int
    choices: tuple[str, ...]
    note: str
    unit_price: Decimal
    line_total: Decimal
    available: bool = True


@dataclass(frozen=True)
class OrderSummary:
    """An order as read back: its lines and totals as computed in code, the pickup in the restaurant's local
    time (None until set), the draft's `version` to place, and `text`, all of it in sentences."""

    order_id: int
    status: str
    number: int | None
    lines: tuple[LineSummary, ...]
    subtotal: Decimal
    total: Decimal
    currency: str
    customer_name: str
    customer_phone: str
    pickup_at: dt.datetime | None
    version: int
    text: str


# --- Starting and changing a draft ------------------------------------------------------------------------


def order_start(*, restaurant: Restaurant, channel: str = Order.Channel.WEB, call=None) -> Order:
    """A new draft order at `restaurant` on `channel` ("web" or "phone"), linked to `call` (a dispatch.Call)
    when given; on a phone call the caller's number is its phone number until the diner gives another."""
    if channel not in Order.Channel.values:
        raise ValueError(f"channel must be one of {Order.Channel.values}, not {channel!r}")
    restaurant = Restaurant.objects.get(pk=restaurant.pk)
    _refuse_unless_ordering(restaurant)
    phone = ""
    if channel == Order.Channel.PHONE and call is not None and call.caller_number:
        phone = phones.to_e164(call.caller_number, restaurant.country) or ""
    return Order.objects.create(
        restaurant=restaurant, call=call, channel=channel, currency=restaurant.currency, customer_phone=phone
    )


def order_add_line(
    *, order: Order, dish: int | str, quantity: int = 1, modifiers: Iterable[int | str] = (), note: str = ""
) -> OrderLine:
    """Add `quantity` of `dish` (its name as on the menu, accents and case aside, or a MenuItem id) with
    `modifiers` (the choices' names, "Group: Name" when two groups share a name, or Modifier ids) and a `note`
    for the kitchen. The same dish with the same choices and note adds to its line. Returns the line."""
    with transaction.atomic():
        order, restaurant = _locked_draft(order)
        item = _dish(restaurant, dish)
        quantity = _quantity(quantity)
        chosen = _choices(item, modifiers)
        note = _note(note)
        unit_price = _unit_price(item, chosen)
        lines = list(order.lines.all())
        ids = [m["id"] for m in chosen]
        same = next(
            (line for line in lines
             if line.menu_item_id == item.pk and [m["id"] for m in line.modifiers] == ids and line.note == note),
            None,
        )  # fmt: skip
        if same is not None:
            if same.quantity + quantity > MAX_QUANTITY:
                raise OrderRefused(
                    f"That would make {same.quantity + quantity} {item.name}: the most is {MAX_QUANTITY} of one "
                    "dish made the same way."
                )
            same.quantity += quantity
            same.name, same.unit_price, same.modifiers = item.name, unit_price, chosen
            same.line_total = unit_price * same.quantity
            same.save()
            line = same
        else:
            if len(lines) >= MAX_LINES:
                raise OrderRefused(f"An order can hold at most {MAX_LINES} different lines.")
            line = OrderLine.objects.create(
                order=order, menu_item=item, name=item.name, quantity=quantity, unit_price=unit_price,
                modifiers=chosen, note=note, line_total=unit_price * quantity,
            )  # fmt: skip
        _changed(order)
        return line


def order_remove_line(*, order: Order, line: int | str) -> None:
    """Remove a line: its id (as read back) or the dish's name when one line has that dish."""
    with transaction.atomic():
        order, _restaurant = _locked_draft(order)
        lines = list(order.lines.all())
        if isinstance(line, int) and not isinstance(line, bool):
            found = [each for each in lines if each.pk == line]
        else:
            found = [each for each in lines if fold_name(each.name) == fold_name(str(line))]
        if not found:
            raise OrderRefused(f"There is no {_quote(line)} on the order.")
        if len(found) > 1:
            ways = _or([_describe(each) for each in found])
            raise OrderRefused(f"There are {len(found)} lines of {found[0].name}: which one, {ways}?")
        found[0].delete()
        _changed(order)


def order_set_pickup(
    *, order: Order, name: str | None = None, phone: str | None = None, pickup_at: dt.datetime | None = None
) -> Order:
    """Set who collects the order and when: `name`, `phone` (with the country code, or in the restaurant's
    national format) and `pickup_at` (aware; naive reads as the restaurant's local wall-clock time). Each left
    None stays as it was. A time that is not possible is refused with the nearest possible ones."""
    with transaction.atomic():
        order, restaurant = _locked_draft(order)
        if name is not None:
            order.customer_name = _name(name)
        if phone is not None:
            order.customer_phone = _phone(phone, restaurant)
        if pickup_at is not None:
            at = _aware(pickup_at, restaurant)
            pickups = Pickups(restaurant, timezone.now())
            if reason := pickups.refusal(at):
                raise _time_refused(pickups, reason, at)
            order.pickup_at = at
        _changed(order, "customer_name", "customer_phone", "pickup_at")
        return order


# --- Reading back, placing, cancelling --------------------------------------------------------------------


def order_read(*, order: Order) -> OrderSummary:
    """The order as it stands. A draft is first brought up to the menu's current prices and names (a change
    bumps its version, so the version read back is the one to place); a dish or choice no longer on offer is
    marked unavailable."""
    with transaction.atomic():
        order = _lock(order)
        restaurant = order.restaurant
        unavailable: set[int] = set()
        if order.status == Order.Status.DRAFT:
            checked = _check_lines(order, restaurant)
            unavailable = {c.line.pk for c in checked if c.problem}
            if _update_lines(checked):
                _changed(order)
        return _summary(order, restaurant, unavailable)


def order_place(*, order: Order, version: int) -> Order:
    """Place the draft as it was at `version` (the one the diner heard read back and confirmed).

    Refuses when the draft changed since, is empty, lacks a name, a pickup time or (on the web) a phone number;
    when a dish or choice is no longer on offer (naming it); when a price changed (the draft takes the new prices
    and the refusal gives the new total and `version`); and when the pickup time is no longer possible (offering
    the nearest). The pickup slot is taken under a lock on its PickupSlot row, counting the orders holding it, in
    the transaction that gives the order its number and status: no slot takes more than `orders_per_slot`.
    """
    with transaction.atomic():
        order, restaurant = _locked_draft(order)
        if version != order.version:
            raise OrderRefused("The order changed since it was read back: please read it back again and confirm.")
        lines = list(order.lines.all())
        if not lines:
            raise OrderRefused("The order is empty: add a dish first.")
        if not order.customer_name:
            raise OrderRefused("I still need a name for the order.")
        if not order.customer_phone and order.channel == Order.Channel.WEB:
            raise OrderRefused("I still need a phone number the restaurant can call about the order.")
        if order.pickup_at is None:
            raise OrderRefused("I still need a pickup time.")
        checked = _check_lines(order, restaurant, lines)
        if problems := [c.problem for c in checked if c.problem]:
            raise OrderRefused(f"{problems[0]} The order was not placed.")
        if _update_lines(checked):  # names follow the menu silently; a new price is committed, then refused
            _changed(order)
            outcome = OrderRefused(
                f"Prices changed since the read-back: the total is now {restaurant.format_price(order.total)}. "
                "Please confirm the new total.",
                version=order.version,
            )
        else:
            outcome = _take_slot_and_number(order, restaurant)
    if isinstance(outcome, OrderRefused):
        raise outcome
    return outcome


def _take_slot_and_number(order: Order, restaurant: Restaurant) -> Order | OrderRefused:
    """In order_place's transaction: the slot's lock, its count, the day's next number and the order's new
    status; or, with nothing written, the refusal to raise once the transaction is left."""
    now = timezone.now()
    pickups = Pickups(restaurant, now)
    if reason := pickups.refusal(order.pickup_at, room=False):
        return _time_refused(pickups, reason, order.pickup_at)
    # Locks are always taken in this order (order row, slot row, day row): no two placements wait on each other
    # in a circle. SQLite ignores FOR UPDATE; there the transaction began with the database's write lock.
    slot = PickupSlot.objects.select_for_update().filter(restaurant=restaurant, starts_at=order.pickup_at)
    if not slot:  # the slot's first placement: make its row (or find the one another placement just made)
        PickupSlot.objects.bulk_create(
            [PickupSlot(restaurant=restaurant, starts_at=order.pickup_at)], ignore_conflicts=True
        )
        slot.get()
    held = Order.objects.holding_slots().filter(restaurant=restaurant, pickup_at=order.pickup_at).count()
    if held >= restaurant.orders_per_slot:
        full = f"We are fully booked for pickup at {pickups.say(order.pickup_at)}."
        return _time_refused(pickups, full, order.pickup_at)
    day = pickups.service_day(order.pickup_at)
    days = ServiceDay.objects.filter(restaurant=restaurant, date=day)
    # The update holds the day's row until this transaction ends, so the number read next is this order's alone.
    if not days.update(last_number=F("last_number") + 1):
        ServiceDay.objects.bulk_create([ServiceDay(restaurant=restaurant, date=day)], ignore_conflicts=True)
        days.update(last_number=F("last_number") + 1)
    order.number = days.values_list("last_number", flat=True).get()
    order.status, order.service_date, order.placed_at = Order.Status.PLACED, day, now
    order.save(update_fields=["number", "status", "service_date", "placed_at", "updated_at"])
    announce(order, Order.Status.PLACED)
    return order


def _time_refused(pickups: Pickups, reason: str, near: dt.datetime) -> OrderRefused:
    """The refusal of pickup time `near`: the reason, then the possible times nearest to it."""
    times = pickups.nearest(near)
    return OrderRefused(f"{reason} {pickups.offer(times)}", times=times)


# Who may cancel what: the diner a draft or an order the kitchen has not yet accepted; staff any placed order not
# yet collected (one not yet accepted is then rejected, one accepted cancelled).
DINER_CANCELS = (Order.Status.DRAFT, Order.Status.PLACED)
STAFF_CANCELS = (Order.Status.PLACED, Order.Status.ACCEPTED, Order.Status.READY)
MAX_REASON_LENGTH = 200


def order_cancel(*, order: Order, reason: str = "", by_staff: bool = False) -> Order:
    """Cancel the order (a single conditional update: of two cancels or a cancel and the kitchen's accept, one
    wins). A diner may cancel a draft or an order the kitchen has not accepted yet. Staff (`by_staff`) cancel a
    placed order not yet collected, giving a `reason` (whitespace folded, at most MAX_REASON_LENGTH characters):
    an order the kitchen had not accepted becomes "rejected", one it had "cancelled". A cancelled or rejected
    order no longer holds its pickup slot; the kitchen and the webhook are told (orders.events) once it was
    placed. Raises OrderRefused when the order is past cancelling, or staff give no reason."""
    allowed = STAFF_CANCELS if by_staff else DINER_CANCELS
    reason = " ".join(str(reason).split())
    if by_staff and not reason:
        raise OrderRefused("Please give a reason for cancelling: the diner may be told it.")
    if len(reason) > MAX_REASON_LENGTH:
        raise OrderRefused(f"Please keep the reason under {MAX_REASON_LENGTH} characters.")
    status = Case(
        When(status=Order.Status.PLACED, then=Value(Order.Status.REJECTED)), default=Value(Order.Status.CANCELLED)
    )
    with transaction.atomic():
        won = Order.objects.filter(pk=order.pk, status__in=allowed).update(
            status=status if by_staff else Value(Order.Status.CANCELLED), cancel_reason=reason,
            updated_at=timezone.now(),
        )  # fmt: skip
        order = Order.objects.get(pk=order.pk)
        if won and order.placed_at is not None:
            announce(order, order.status)
    if not won:
        if order.status in (Order.Status.CANCELLED, Order.Status.REJECTED):
            raise OrderRefused(f"This order is already {order.status}.")
        if order.status in (Order.Status.ACCEPTED, Order.Status.READY):
            raise OrderRefused(
                f"The kitchen has already started on order {order.number}: please speak to the staff to change it."
            )
        raise _not_a_draft(order, Restaurant.objects.get(pk=order.restaurant_id))
    return order


# The kitchen's steps: each status, and the ones it may be reached from.
KITCHEN_STEPS = {
    Order.Status.ACCEPTED: (Order.Status.PLACED,),
    Order.Status.READY: (Order.Status.PLACED, Order.Status.ACCEPTED),
    Order.Status.COLLECTED: (Order.Status.ACCEPTED, Order.Status.READY),
}


def order_advance(*, order: Order, to: str) -> Order:
    """The kitchen moves a placed order on: to "accepted", "ready" or "collected" (KITCHEN_STEPS says from
    where). A single conditional update, so that of two staff clicking at once (or a click and the diner's
    cancel) exactly one wins; the kitchen and the webhook are told (orders.events). Returns the order as it now
    is. Raises OrderRefused with a sentence for staff when the order is no longer in a status it may be moved
    from (someone else moved it first), and ValueError for a `to` that is not a kitchen step."""
    if to not in KITCHEN_STEPS:
        raise ValueError(f"not a kitchen step: {to!r}")
    with transaction.atomic():
        won = Order.objects.filter(pk=order.pk, status__in=KITCHEN_STEPS[to]).update(
            status=to, updated_at=timezone.now()
        )
        order = Order.objects.get(pk=order.pk)
        if won:
            announce(order, to)
    if not won:
        now = order.get_status_display().lower()
        if order.status == to:
            raise OrderRefused(f"Order {order.number} is already {now}.")
        raise OrderRefused(f"Order {order.number} is {now} now, so it cannot be marked {to}.")
    return order


# --- The draft and its restaurant ---------------------------------------------------------------------------


def _refuse_unless_ordering(restaurant: Restaurant) -> None:
    if not (restaurant.takes_orders and restaurant.is_active):
        raise OrderRefused(f"Sorry, {restaurant.name} does not take takeout orders.")


def _locked_draft(order: Order) -> tuple[Order, Restaurant]:
    """The draft's row, read afresh and locked until the transaction ends, and its restaurant, which must take
    orders. Must run in a transaction."""
    order = _lock(order)
    restaurant = order.restaurant
    if order.status != Order.Status.DRAFT:
        raise _not_a_draft(order, restaurant)
    _refuse_unless_ordering(restaurant)
    return order, restaurant


def _lock(order: Order) -> Order:
    """The order's row read afresh with its restaurant's, the order's locked until the transaction ends (only the
    order's: placements at one restaurant must not queue on its row)."""
    return Order.objects.select_related("restaurant").select_for_update(of=("self",)).get(pk=order.pk)


def _not_a_draft(order: Order, restaurant: Restaurant) -> OrderRefused:
    if order.status == Order.Status.CANCELLED:
        return OrderRefused("This order was cancelled: start a new one.")
    if order.status == Order.Status.REJECTED:
        return OrderRefused(f"The kitchen could not take order {order.number}: start a new one.")
    if order.status == Order.Status.COLLECTED:
        return OrderRefused(f"Order {order.number} has already been collected.")
    local = order.pickup_at.astimezone(restaurant.tz)
    day = say_day(local.date(), restaurant.local_now().date())
    day = day if day in ("today", "tomorrow") else f"on {day}"
    return OrderRefused(
        f"Order {order.number} is already placed, for pickup at {say_time(local, restaurant.language)} {day}."
    )


def _changed(order: Order, *fields: str) -> None:
    """The draft changed: save `fields`, its totals again from its lines (in code, Decimal) and the next version."""
    subtotal = sum((line.line_total for line in order.lines.all()), Decimal("0.00")).quantize(CENT)
    order.subtotal = order.total = subtotal  # no fees or taxes yet: payment is at pickup
    order.version += 1
    order.save(update_fields=[*fields, "subtotal", "total", "version", "updated_at"])


# --- Dishes and choices -----------------------------------------------------------------------------------


def _dish(restaurant: Restaurant, dish: int | str) -> MenuItem:
    """The restaurant's dish named `dish` (or with that id), on offer now."""
    items = list(restaurant.menu_items().select_related("section").prefetch_related("modifier_groups__modifiers"))
    if isinstance(dish, int) and not isinstance(dish, bool):
        found = [i for i in items if i.pk == dish]
        if not found:
            raise OrderRefused("That dish is not on our menu.")
    else:
        said = str(dish)
        found = [i for i in items if fold_name(i.name) == fold_name(said)]
        if not found:
            close = [i.name for i in restaurant.find_menu_items(said[:200])] if fold_name(said) else []
            maybe = f" Did you mean {_or(close)}?" if close else ""
            raise OrderRefused(f"We have no dish called {_quote(said)}.{maybe}")
        if len(found) > 1:
            sections = _or([f"the one from {i.section.name}" for i in found])
            raise OrderRefused(f"Which {found[0].name}: {sections}?")
    item = found[0]
    if not item.is_available:
        raise OrderRefused(f"Sorry, the {item.name} is not available right now.")
    return item


def _choices(item: MenuItem, named: Iterable[int | str]) -> list[dict]:
    """The modifiers of `item` that `named` names, checked against its groups (each on offer, none twice, each
    group's minimum and maximum), as a line stores them: in the dish's group order."""
    if isinstance(named, (str, int)):
        named = [named]
    named = list(named)
    if len(named) > MAX_CHOICES_NAMED:
        raise OrderRefused(f"That is too many choices for the {item.name}.")
    groups = list(item.modifier_groups.all())
    every = [(g, m) for g in groups for m in g.modifiers.all()]
    picked: list[Modifier] = []
    for said in named:
        if isinstance(said, int) and not isinstance(said, bool):
            found = [(g, m) for g, m in every if m.pk == said]
            said_text = str(said)
        else:
            said_text = str(said)
            group_name, _, name = said_text.rpartition(":")
            found = [(g, m) for g, m in every if fold_name(m.name) == fold_name(said_text)]
            if not found and group_name:
                found = [
                    (g, m)
                    for g, m in every
                    if fold_name(g.name) == fold_name(group_name) and fold_name(m.name) == fold_name(name)
                ]
        if not found:
            raise OrderRefused(f"The {item.name} has no choice called {_quote(said_text)}. {_offered(item, groups)}")
        if len(found) > 1:
            raise OrderRefused(f"Which {found[0][1].name} for the {item.name}: {_or([g.name for g, _ in found])}?")
        _group, modifier = found[0]
        if not modifier.is_available:
            raise OrderRefused(f"Sorry, {modifier.name} is not available right now for the {item.name}.")
        if modifier in picked:
            raise OrderRefused(f"{modifier.name} was chosen twice: each choice counts once.")
        picked.append(modifier)
    chosen = []
    for group in groups:
        mine = [m for m in group.modifiers.all() if m in picked]
        on_offer = [m.name for m in group.modifiers.all() if m.is_available]
        if len(mine) > group.max_choices:
            raise OrderRefused(f"For the {item.name}, choose at most {_count(group.max_choices)} of {group.name}.")
        if len(mine) < group.min_choices:
            if len(on_offer) < group.min_choices:
                raise OrderRefused(
                    f"Sorry, the {item.name} cannot be ordered right now: not enough {group.name} choices are "
                    "available."
                )
            how_many = _count(group.min_choices) if group.min_choices == group.max_choices else (
                f"at least {_count(group.min_choices)}"
            )  # fmt: skip
            raise OrderRefused(f"For the {item.name}, choose {how_many} of {group.name}: {_or(on_offer)}.")
        chosen += [{"id": m.pk, "group": group.name, "name": m.name, "price_delta": str(m.price_delta)} for m in mine]
    return chosen


def _offered(item: MenuItem, groups) -> str:
    """What a dish's choices are, on offer only: "Its choices are Size: Small or Large; Extras: Basil or Burrata."
    or "It comes as it is."
    """
    parts = [
        f"{g.name}: {_or(names)}" for g in groups if (names := [m.name for m in g.modifiers.all() if m.is_available])
    ]
    return f"Its choices are {'; '.join(parts)}." if parts else "It comes as it is."


def _unit_price(item: MenuItem, chosen: list[dict]) -> Decimal:
    """The dish's price plus its choices' price changes; never below zero (a large negative change on a cheap
    dish is a free dish, not a refund)."""
    return max(item.price + sum((Decimal(m["price_delta"]) for m in chosen), Decimal("0")), Decimal("0")).quantize(CENT)


@dataclass
class _Checked:
    """A draft line against the menu now: what is wrong with it ("" when nothing), else its current name, unit
    price and choices."""

    line: OrderLine
    problem: str = ""
    name: str = ""
    unit_price: Decimal | None = None
    modifiers: list | None = None


def _check_lines(order: Order, restaurant: Restaurant, lines: list[OrderLine] | None = None) -> list[_Checked]:
    """Each line of the draft checked against the menu as it is now (three queries)."""
    lines = list(order.lines.all()) if lines is None else lines
    items = {
        i.pk: i
        for i in restaurant.menu_items()
        .filter(pk__in=[line.menu_item_id for line in lines if line.menu_item_id])
        .prefetch_related("modifier_groups__modifiers")
    }
    out = []
    for line in lines:
        item = items.get(line.menu_item_id)
        if item is None:
            out.append(_Checked(line, f"Sorry, the {line.name} is no longer on the menu."))
            continue
        if not item.is_available:
            out.append(_Checked(line, f"Sorry, the {item.name} is no longer available."))
            continue
        current = {m.pk: m for g in item.modifier_groups.all() for m in g.modifiers.all()}
        gone = [m["name"] for m in line.modifiers if m["id"] not in current or not current[m["id"]].is_available]
        if gone:
            out.append(_Checked(line, f"Sorry, {_and(gone)} is no longer available for the {item.name}."))
            continue
        try:
            chosen = _choices(item, [m["id"] for m in line.modifiers])
        except OrderRefused as refused:
            out.append(_Checked(line, refused.sentence))
            continue
        out.append(_Checked(line, "", item.name, _unit_price(item, chosen), chosen))
    return out


def _update_lines(checked: list[_Checked]) -> bool:
    """Give the draft's lines the menu's current names, prices and choices; True if a price changed."""
    repriced = False
    for c in checked:
        if c.problem:
            continue
        line = c.line
        if (line.name, line.unit_price, line.modifiers) != (c.name, c.unit_price, c.modifiers):
            repriced |= line.unit_price != c.unit_price
            line.name, line.unit_price, line.modifiers = c.name, c.unit_price, c.modifiers
            line.line_total = c.unit_price * line.quantity
            line.save(update_fields=["name", "unit_price", "modifiers", "line_total"])
    return repriced


# --- What the diner gives ---------------------------------------------------------------------------------


def _quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise OrderRefused(f"The quantity must be a whole number from 1 to {MAX_QUANTITY}.")
    return quantity


def _note(note) -> str:
    note = one_line(note or "")
    if len(note) > MAX_NOTE_LENGTH:
        raise OrderRefused(f"A note for the kitchen can be at most {MAX_NOTE_LENGTH} characters, like “no onions”.")
    return note


def _name(name) -> str:
    name = one_line(name)
    if not name:
        raise OrderRefused("I need a name for the order.")
    if len(name) > MAX_NAME_LENGTH:
        raise OrderRefused(f"That name is too long: at most {MAX_NAME_LENGTH} characters.")
    return name


def _phone(phone, restaurant: Restaurant) -> str:
    text = str(phone).strip()
    if not text:
        return ""
    number = phones.to_e164(text, restaurant.country)
    if number is None:
        raise OrderRefused("That phone number does not look right: could you say it again with the country code?")
    return number


def _aware(at, restaurant: Restaurant) -> dt.datetime:
    if not isinstance(at, dt.datetime):
        raise OrderRefused("I need the pickup time as a day and a time.")
    if at.tzinfo is None or at.utcoffset() is None:
        return wall_clock(at.date(), at.time(), restaurant.tz)
    return at.astimezone(dt.UTC)


# --- Words ------------------------------------------------------------------------------------------------


def _summary(order: Order, restaurant: Restaurant, unavailable: set[int]) -> OrderSummary:
    lines = tuple(
        LineSummary(
            line.pk,
            line.name,
            line.quantity,
            tuple(line.choices),
            line.note,
            line.unit_price,
            line.line_total,
            line.pk not in unavailable,
        )  # fmt: skip
        for line in order.lines.all()
    )
    pickup = order.pickup_at.astimezone(restaurant.tz) if order.pickup_at else None
    said = []
    if order.number:
        said.append(f"Order {order.number}, {order.get_status_display().lower()}.")
    if lines:
        said.append("; ".join(f"{_describe(line)}: {restaurant.format_price(line.line_total)}" for line in lines) + ".")
        said.append(f"Total {restaurant.format_price(order.total)}.")
    else:
        said.append("The order is empty.")
    if gone := [line.name for line in lines if not line.available]:
        said.append(f"No longer available: {_and(gone)}.")
    if pickup:
        day = say_day(pickup.date(), restaurant.local_now().date())
        day = day if day in ("today", "tomorrow") else f"on {day}"
        said.append(f"Pickup at {say_time(pickup, restaurant.language)} {day}.")
    else:
        said.append("No pickup time yet.")
    if order.customer_name:
        said.append(f"Name: {order.customer_name}.")
    return OrderSummary(
        order.pk, order.status, order.number, lines, order.subtotal, order.total, order.currency, order.customer_name,
        str(order.customer_phone or ""), pickup, order.version, " ".join(said),
    )  # fmt: skip


def _describe(line) -> str:
    """ "2 Margherita with Large and Burrata (no basil)"."""
    choices = f" with {_and(list(line.choices))}" if line.choices else ""
    note = f" ({line.note})" if line.note else ""
    return f"{line.quantity} {line.name}{choices}{note}"


def _quote(said) -> str:
    text = " ".join(str(said).split())
    return f"“{text[:QUOTED]}…”" if len(text) > QUOTED else f"“{text}”"


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count(n: int) -> str:
    return {1: "one", 2: "two", 3: "three"}.get(n, str(n))
