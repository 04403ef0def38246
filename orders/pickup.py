"""Pickup times, computed in code from the restaurant's schedule and the orders already holding each slot.

A pickup is possible at a moment that is
- on the PICKUP_SLOT_MINUTES grid of the restaurant's local clock (19:00, 19:15, 19:30...),
- inside a service (weekly periods or a special day's hours; back-to-back periods read as one) and at least
  `last_order_minutes` before that service ends,
- at least `pickup_lead_minutes` from now and at most PICKUP_DAYS_AHEAD days ahead,
- in a slot held by fewer than `orders_per_slot` orders (Order.HOLDS_SLOT).
`Pickups.refusal` says which rule an asked time breaks, in a sentence a voice agent can say; `Pickups.nearest`
finds the possible times nearest to it. Only placing (orders.services.order_place) takes a slot, under a lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count

from restaurants.hours import Service, first_on_grid, on_grid, say_on_day, say_or, say_time, say_when
from restaurants.models import PICKUP_SLOT_MINUTES, Restaurant

from .models import Order

SLOT = dt.timedelta(minutes=PICKUP_SLOT_MINUTES)
# How far ahead a pickup may be asked for.
PICKUP_DAYS_AHEAD = 7
# How many possible times a refusal offers.
OFFERED = 3


class Pickups:
    """The pickup times of `restaurant` as seen at aware `now`. Loads its schedule over the horizon on creation
    (two queries) and the orders holding its slots when first asked about room (one query)."""

    def __init__(self, restaurant: Restaurant, now: dt.datetime):
        self.restaurant, self.now = restaurant, now
        self.tz = restaurant.tz
        self.today = now.astimezone(self.tz).date()
        self.earliest = now + dt.timedelta(minutes=restaurant.pickup_lead_minutes)
        self.horizon = now + dt.timedelta(days=PICKUP_DAYS_AHEAD)
        # From yesterday (its late service may still run) to the day after the horizon.
        first = self.today - dt.timedelta(days=1)
        self.schedule = restaurant.schedule(first, PICKUP_DAYS_AHEAD + 3)
        self.services = self.schedule.services(first, PICKUP_DAYS_AHEAD + 3)
        self._held: dict[dt.datetime, int] | None = None

    def last_pickup(self, service: Service) -> dt.datetime:
        """The last pickup time of `service`: `last_order_minutes` before it ends."""
        return service.ends - dt.timedelta(minutes=self.restaurant.last_order_minutes)

    # --- Rules -------------------------------------------------------------------------------------------

    def service_at(self, at: dt.datetime) -> Service | None:
        """The service running at `at`, or None when the restaurant is closed then."""
        return next((s for s in self.services if s.starts <= at < s.ends), None)

    def on_grid(self, at: dt.datetime) -> bool:
        return on_grid(at, self.tz, PICKUP_SLOT_MINUTES)

    def held(self, at: dt.datetime) -> int:
        """How many orders hold the slot at `at` (as of the first question; placing counts again under lock)."""
        if self._held is None:
            rows = (
                Order.objects.holding_slots()
                .filter(restaurant=self.restaurant, pickup_at__gte=self.now, pickup_at__lte=self.horizon)
                .values("pickup_at")
                .annotate(n=Count("id"))
            )
            self._held = {row["pickup_at"]: row["n"] for row in rows}
        return self._held.get(at, 0)

    def refusal(self, at: dt.datetime, *, room: bool = True) -> str:
        """The sentence saying why aware `at` cannot be a pickup time, or "" when it can. With room=False the
        slot's room is not looked at (placing counts it under its lock)."""
        r = self.restaurant
        if at <= self.now:
            return "That time has already passed."
        if at > self.horizon:
            return f"We take pickup orders up to {PICKUP_DAYS_AHEAD} days ahead."
        service = self.service_at(at)
        if service is None:
            return self.schedule.say_closed(at, r.language, self.today)
        if at > self.last_pickup(service):
            before = f", {r.last_order_minutes} minutes before closing" if r.last_order_minutes else ""
            return f"The last pickup is at {self.say(self.last_pickup(service))}{before}."
        if at < self.earliest:
            return f"The kitchen needs {r.pickup_lead_minutes} minutes to prepare an order."
        if not self.on_grid(at):
            return f"Pickups are every {PICKUP_SLOT_MINUTES} minutes, on the quarter hour."
        if room and self.held(at) >= r.orders_per_slot:
            return f"We are fully booked for pickup at {self.say(at)}."
        return ""

    def service_day(self, at: dt.datetime) -> dt.date:
        """The service day of a possible pickup time `at` (the local date its service began)."""
        service = self.service_at(at)
        assert service is not None, at
        return service.day

    # --- Possible times ----------------------------------------------------------------------------------

    def slots(self) -> Iterator[dt.datetime]:
        """Every possible pickup time from the earliest to the horizon, room aside, in order."""
        for s in self.services:
            at = first_on_grid(max(s.starts, self.earliest), self.tz, PICKUP_SLOT_MINUTES)
            while at <= self.last_pickup(s) and at < s.ends and at <= self.horizon:
                if self.on_grid(at):
                    yield at
                at += SLOT

    def nearest(self, near: dt.datetime | None = None, count: int = OFFERED) -> list[dt.datetime]:
        """Up to `count` possible pickup times with room, nearest to `near` (default, or when `near` is past or
        beyond the horizon: the earliest), earliest first."""
        if near is None or not self.now < near <= self.horizon:
            near = self.now
        free = [at for at in self.slots() if self.held(at) < self.restaurant.orders_per_slot]
        return sorted(sorted(free, key=lambda at: (abs(at - near), at))[:count])

    # --- Words -------------------------------------------------------------------------------------------

    def say(self, at: dt.datetime) -> str:
        """"19:30 today", "12:15 tomorrow", "19:00 on Friday" in the restaurant's local time."""
        return say_when(at, self.tz, self.restaurant.language, self.today)

    def offer(self, times: list[dt.datetime]) -> str:
        """"We can have it ready today at 19:15, 19:45 or 20:00.", days grouped ("today at 14:00, or tomorrow at
        12:00 or 12:15"); or that there is no time free."""
        if not times:
            return f"There is no pickup time free in the next {PICKUP_DAYS_AHEAD} days."
        groups: dict[dt.date, list[str]] = {}
        for at in times:
            local = at.astimezone(self.tz)
            groups.setdefault(local.date(), []).append(say_time(local, self.restaurant.language))
        parts = [f"{say_on_day(day, self.today)} at {say_or(said)}" for day, said in groups.items()]
        return f"We can have it ready {', or '.join(parts)}."
