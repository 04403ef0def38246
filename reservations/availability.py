"""Which start times a party can book, computed in code from the restaurant's schedule, its tables and the
reservations already made, at the moment it is asked.

A start time is possible for a party when it is
- on the restaurant's `slot_minutes` grid of its local clock (19:00, 19:15...),
- inside a service (weekly periods or a special day's hours; back-to-back periods read as one; a period past
  midnight belongs to the evening it began) and no later than `last_seating_minutes` before that service ends,
- at least `booking_notice_minutes` from now and at most `booking_horizon_days` ahead,
- and some active table that seats the party (min_seats to max_seats) is free for the whole dining time
  (Restaurant.dining_time), no live reservation (booked or seated) overlapping it.
`Availability.refusal` says which rule an asked time breaks, in a sentence the agent can say;
`Availability.alternatives` finds the nearest possible times that day, before and after, and the same time on the
next days that have it. Only booking (reservations.services) takes a table, checked again in its transaction.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from restaurants.hours import Service, first_on_grid, on_grid, say_on_day, say_or, say_time, say_when, wall_clock
from restaurants.models import Restaurant

from .models import LIVE, Reservation, Table

# How many possible times before and after the asked one a refusal offers, and on how many later days.
OFFERED_BEFORE, OFFERED_AFTER, OFFERED_DAYS = 2, 2, 3
# How many days after the asked one are searched for the same time.
SAME_TIME_DAYS = 14


class Availability:
    """The start times of `restaurant` for a party of `party_size` (at least 1) as seen at aware `now`.

    Loads, on creation, the schedule over the horizon (two queries), the active tables that seat the party (one)
    and the live reservations of those tables from now to the horizon (one), leaving out `ignore` (a reservation
    being changed, which must not stand in its own way)."""

    def __init__(
        self, restaurant: Restaurant, now: dt.datetime, party_size: int, *, ignore: Reservation | None = None
    ) -> None:
        self.restaurant, self.now, self.party_size = restaurant, now, party_size
        self.tz = restaurant.tz
        self.today = now.astimezone(self.tz).date()
        self.earliest = now + dt.timedelta(minutes=restaurant.booking_notice_minutes)
        self.horizon = now + dt.timedelta(days=restaurant.booking_horizon_days)
        self.dining = restaurant.dining_time(party_size)
        self.grid = restaurant.slot_minutes
        first = self.today - dt.timedelta(days=1)  # yesterday's late service may still run
        days = restaurant.booking_horizon_days + 3
        self.schedule = restaurant.schedule(first, days)
        self.services = self.schedule.services(first, days)
        self.tables = list(
            Table.objects.filter(
                restaurant=restaurant, is_active=True, min_seats__lte=party_size, max_seats__gte=party_size
            ).order_by("max_seats", "name")
        )  # the smallest that seats the party first
        booked = Reservation.objects.filter(
            table__in=self.tables, status__in=LIVE, ends_at__gt=now, starts_at__lt=self.horizon + self.dining
        )
        if ignore is not None:
            booked = booked.exclude(pk=ignore.pk)
        self._starts: dict[int, list[dt.datetime]] = defaultdict(list)
        self._ends: dict[int, list[dt.datetime]] = defaultdict(list)
        for table_id, starts, ends in booked.order_by("table_id", "starts_at").values_list(
            "table_id", "starts_at", "ends_at"
        ):
            self._starts[table_id].append(starts)
            self._ends[table_id].append(ends)

    # --- Rules -------------------------------------------------------------------------------------------

    def service_at(self, at: dt.datetime) -> Service | None:
        """The service running at `at`, or None when the restaurant is closed then."""
        return next((s for s in self.services if s.starts <= at < s.ends), None)

    def last_seating(self, service: Service) -> dt.datetime:
        """The last start time of `service`: `last_seating_minutes` before it ends."""
        return service.ends - dt.timedelta(minutes=self.restaurant.last_seating_minutes)

    def is_free(self, table: Table, at: dt.datetime) -> bool:
        """Whether `table` has no live reservation overlapping [at, at + dining time). A table's live reservations
        never overlap one another, so only the last one that starts before the end can."""
        starts, ends = self._starts.get(table.pk, []), self._ends.get(table.pk, [])
        i = bisect.bisect_left(starts, at + self.dining)
        return i == 0 or ends[i - 1] <= at

    def free_table(self, at: dt.datetime) -> Table | None:
        """The smallest active table that seats the party and is free for the dining time from `at`."""
        return next((table for table in self.tables if self.is_free(table, at)), None)

    def refusal(self, at: dt.datetime) -> str:
        """The sentence saying why aware `at` cannot be booked for the party, or "" when it can."""
        r, at = self.restaurant, at.astimezone(dt.UTC)
        if at <= self.now:
            return "That time has already passed."
        if at > self.horizon:
            return f"We take bookings up to {r.booking_horizon_days} days ahead."
        service = self.service_at(at)
        if service is None:
            return self.schedule.say_closed(at, r.language, self.today)
        if at > self.last_seating(service):
            return f"The last table is at {self.say(self.last_seating(service))}."
        if at < self.earliest:
            return f"Tables are booked at least {_minutes(r.booking_notice_minutes)} ahead."
        if not on_grid(at, self.tz, self.grid):
            return f"Tables are booked every {self.grid} minutes, on the {_grid_words(self.grid)}."
        if not self.tables:
            return f"We have no table for {self.party_size}."
        if self.free_table(at) is None:
            return f"We are fully booked at {self.say(at)} for {self.party_size}."
        return ""

    def possible(self, at: dt.datetime) -> bool:
        return not self.refusal(at)

    # --- Possible times ----------------------------------------------------------------------------------

    def starts_of(self, service: Service) -> Iterator[dt.datetime]:
        """The grid times of `service` within the rules of time (notice, horizon, last seating), tables aside."""
        at = first_on_grid(max(service.starts, self.earliest), self.tz, self.grid)
        last = min(self.last_seating(service), self.horizon)
        while at <= last and at < service.ends:
            if on_grid(at, self.tz, self.grid):  # a DST change may shift the grid by an hour's fraction
                yield at
            at += dt.timedelta(minutes=self.grid)

    def free_on(self, day: dt.date) -> list[dt.datetime]:
        """Every possible start time on local `day` (the services that began on it), earliest first."""
        return [at for s in self.services if s.day == day for at in self.starts_of(s) if self.free_table(at)]

    def alternatives(self, at: dt.datetime) -> tuple[list[dt.datetime], list[dt.datetime]]:
        """For an asked time that is not possible: the possible times of its local day nearest to it
        (OFFERED_BEFORE before it and OFFERED_AFTER after it), and the same local time on the next
        OFFERED_DAYS days that have it (searched SAME_TIME_DAYS ahead, within the horizon)."""
        at = at.astimezone(dt.UTC)
        local = at.astimezone(self.tz)
        free = self.free_on(local.date())
        before = [t for t in free if t < at][-OFFERED_BEFORE:]
        after = [t for t in free if t > at][:OFFERED_AFTER]
        later = []
        for i in range(1, SAME_TIME_DAYS + 1):
            same = wall_clock(local.date() + dt.timedelta(days=i), local.time(), self.tz)
            if same > self.horizon or len(later) == OFFERED_DAYS:
                break
            if self.possible(same):
                later.append(same)
        return before + after, later

    # --- Words -------------------------------------------------------------------------------------------

    def say(self, at: dt.datetime) -> str:
        """ "19:30 today", "12:15 tomorrow", "19:00 on Friday" in the restaurant's local time."""
        return say_when(at, self.tz, self.restaurant.language, self.today)

    def offer(self, at: dt.datetime) -> str:
        """What the agent offers instead of `at`: "We have a table for 4 today at 19:00 or 21:30, or at 20:00
        tomorrow or on Friday."; or that there is none near it."""
        that_day, later = self.alternatives(at)
        language = self.restaurant.language
        parts = []
        if that_day:
            day = say_on_day(that_day[0].astimezone(self.tz).date(), self.today)
            parts.append(f"{day} at {say_or([say_time(t.astimezone(self.tz), language) for t in that_day])}")
        if later:
            time = say_time(later[0].astimezone(self.tz), language)
            days = [say_on_day(t.astimezone(self.tz).date(), self.today) for t in later]
            parts.append(f"at {time} {say_or(days)}")
        if not parts:
            return f"There is no table for {self.party_size} near that time."
        return f"We have a table for {self.party_size} {', or '.join(parts)}."


def _minutes(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        hours_ = minutes // 60
        return f"{hours_} hour{'s' if hours_ != 1 else ''}"
    return f"{minutes} minutes"


def _grid_words(minutes: int) -> str:
    return {15: "quarter hour", 30: "half hour", 60: "hour"}.get(minutes, f"{minutes}-minute mark")
