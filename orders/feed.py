"""The kitchen board's rows (the staff page /staff/orders/, orders/views.py), as order events (orders/events.py) read
from the database: which orders a kitchen sees, and OrdersFeed, one live connection's view of them
(dispatch.staff.live.LiveConsumer serves it; how a live page plugs in: dispatch/staff/__init__.py).

The board shows the placed orders of the staff member's restaurants (never a draft: that is the diner's, on the
call) whose service day (orders.Order.service_date, the restaurant's local date of the service the pickup falls
in) is today or later, plus those of yesterday's service the kitchen still has to finish (a late service runs past
midnight). An order that was collected, cancelled or rejected stays on the board for DONE_KEPT after its last
change, so that staff see what just happened, then leaves it.

Synchronous ORM code: the consumer runs it through database_sync_to_async.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from dispatch.staff.live import Feed
from restaurants.models import Restaurant

from .events import order_event, ready_orders
from .models import Order

# The statuses the kitchen still has work on; the others (collected, cancelled, rejected) are done.
TO_DO = (Order.Status.PLACED, Order.Status.ACCEPTED, Order.Status.READY)
DONE = (Order.Status.COLLECTED, Order.Status.CANCELLED, Order.Status.REJECTED)
# How long a done order stays on the board after its last change.
DONE_KEPT = dt.timedelta(hours=3)
# The most orders a board shows (a busy kitchen's day is far fewer).
MAX_BOARD = 500


def board_orders(restaurants: Collection[int] | QuerySet, now: dt.datetime | None = None) -> QuerySet:
    """The orders on the kitchen board of `restaurants` (ids, or a Restaurant queryset) at `now` (default: now),
    by pickup time, ready for orders.events.order_event (restaurant joined, lines prefetched); at most MAX_BOARD.
    Three queries once evaluated (the restaurants' time zones, the orders, their lines)."""
    now = now or timezone.now()
    zones = Restaurant.objects.filter(pk__in=restaurants).values_list("time_zone", flat=True).distinct()
    since = Q(pk__in=[])  # each restaurant's service days from yesterday (local) on
    for zone in zones:
        yesterday = now.astimezone(zoneinfo.ZoneInfo(zone)).date() - dt.timedelta(days=1)
        since |= Q(restaurant__time_zone=zone, service_date__gte=yesterday)
    on_board = Q(status__in=TO_DO) | Q(status__in=DONE, updated_at__gte=now - DONE_KEPT)
    orders = ready_orders().filter(since, on_board, restaurant__in=restaurants, placed_at__isnull=False)
    return orders.order_by("pickup_at", "number", "pk")[:MAX_BOARD]


@dataclass
class OrdersFeed(Feed):
    """One staff connection's view of the kitchen board: which restaurants, and the order payloads last sent (by
    order id), so that `changes()` returns only what changed. The page takes no query: any is ignored."""

    restaurants: frozenset[int]
    sent: dict[int, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, restaurants: frozenset[int], query: Mapping[str, list[str]]) -> OrdersFeed:
        return cls(restaurants=restaurants)

    def wants(self, event: dict) -> bool:
        """An order event, checked against its own restaurant too (not only the group it came through), so that a
        publishing bug shows no kitchen another restaurant's order."""
        return event.get("kind") == "order" and event["order"].get("restaurant_id") in self.restaurants

    def snapshot(self) -> list[dict]:
        """An order event for each order on the board, by pickup time: what a page that (re)connects shows."""
        events = [order_event(order) for order in board_orders(self.restaurants)]
        self.sent = {e["order"]["id"]: e["order"] for e in events}
        return events

    def changes(self) -> list[dict]:
        """Order events for the board's orders whose payload is new or changed since last sent (what the worker's
        process placed, when the channel layer does not cross processes). Three queries."""
        events = [order_event(order) for order in board_orders(self.restaurants)]
        changed = [e for e in events if self.sent.get(e["order"]["id"]) != e["order"]]
        # An order that left the board is not read again: forget it, so that a page open all day costs no more.
        self.sent = {e["order"]["id"]: e["order"] for e in events}
        return changed
