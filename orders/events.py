"""What happens to an order, told to whoever follows it: the kitchen page (a live staff page, dispatch.staff.live:
the topic ORDERS, "orders.<restaurant id>") once the change is committed, and the receivers of the `order_changed`
signal (orders.webhooks records the delivery to the restaurant's order_webhook_url) in the change's own
transaction, so that what they write stands or falls with the change: a committed event is never lost to a crash
between the commit and a later hook, and a rolled-back one is never delivered.

The writer (orders.services) calls `announce(order, happened)` inside its transaction, after the write. `happened`
is the order's new status: "placed", "accepted", "ready", "collected", "cancelled" or "rejected" (a draft's changes
are the diner's business, told on the call: they are not announced).

`order_event(order)` is the one shape the kitchen page reads, `{"kind": "order", "order": {...}}`, built by the
writer's announcement and by the page's feed (orders.feed) alike. Times are ISO 8601 in UTC, with the pickup also
written in the restaurant's local time as its locale writes it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.dispatch import Signal

from dispatch.staff.live import Topic
from restaurants import hours, phones

from .models import Order

# The restaurant's group the kitchen page's connections join: "orders.<restaurant id>".
ORDERS = Topic("orders")

# Sent inside the change's transaction, with `order_id` (int) and `happened` (the new status, as above).
# Receivers write only to the database (anything else belongs in a transaction.on_commit of their own).
order_changed = Signal()

# What `announce` tells: an order's status once it was placed.
ANNOUNCED = frozenset({"placed", "accepted", "ready", "collected", "cancelled", "rejected"})


def announce(order: Order, happened: str) -> None:
    """Send `order_changed` now, inside the current transaction, and once it commits publish the order's event,
    read from the database then, to its restaurant's kitchen pages. Raises ValueError for a `happened` not in
    ANNOUNCED."""
    if happened not in ANNOUNCED:
        raise ValueError(f"not an order event: {happened!r}")
    order_id, restaurant_id = order.pk, order.restaurant_id
    order_changed.send(sender=Order, order_id=order_id, happened=happened)

    def publish() -> None:
        committed = ready_orders().filter(pk=order_id).first()
        if committed is not None:
            ORDERS.publish(restaurant_id, order_event(committed))

    transaction.on_commit(publish, robust=True)


def ready_orders():
    """Orders as `order_event` needs them: restaurant joined, lines prefetched."""
    return Order.objects.select_related("restaurant").prefetch_related("lines")


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def order_event(order: Order) -> dict:
    """What the kitchen page shows of an order (read through `ready_orders`): number, status, who and when
    (pickup in UTC and as the restaurant's locale writes its local time), lines with their choices and notes,
    the total as the restaurant's locale writes it, and the cancel reason. `pickup_day` is "" when the pickup is
    today (the restaurant's local date), else its day, "Tue 8 Dec"."""
    restaurant = order.restaurant
    pickup_local = order.pickup_at.astimezone(restaurant.tz) if order.pickup_at else None
    return {
        "kind": "order",
        "order": {
            "id": order.pk,
            "restaurant_id": order.restaurant_id,
            "restaurant": restaurant.name,
            "number": order.number,
            "status": order.status,
            "status_label": order.get_status_display(),
            "channel": order.channel,
            "customer_name": order.customer_name,
            "customer_phone": restaurant_phone(order),
            "pickup_at": _time(order.pickup_at),
            "pickup_time": hours.say_time(pickup_local, restaurant.language) if pickup_local else "",
            "pickup_day": _day_label(pickup_local, restaurant),
            "service_date": order.service_date.isoformat() if order.service_date else None,
            "placed_at": _time(order.placed_at),
            "lines": [
                {
                    "quantity": line.quantity,
                    "name": line.name,
                    "choices": line.choices,
                    "note": line.note,
                    "line_total": restaurant.format_price(line.line_total),
                }
                for line in order.lines.all()
            ],
            "total": restaurant.format_price(order.total),
            "cancel_reason": order.cancel_reason,
            "updated_at": _time(order.updated_at),
        },
    }


def _day_label(local: dt.datetime | None, restaurant) -> str:
    """The pickup's local day as the kitchen board writes it, "Tue 8 Dec"; "" for today (and no pickup)."""
    if local is None or local.date() == restaurant.local_now().date():
        return ""
    return f"{local:%a} {local.day} {local:%b}"


def restaurant_phone(order: Order) -> str:
    """The order's phone number as the restaurant's staff write it (national in its own country)."""
    if not order.customer_phone:
        return ""
    return phones.for_people(str(order.customer_phone), order.restaurant.country)
