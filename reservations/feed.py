"""The reservation book's day view (the staff page /staff/reservations/, reservations/views.py), read from the
database as reservation events (reservations/events.py): which reservations make a restaurant's book for a local
day, and DayFeed, one live connection's view of them (dispatch.staff.live.LiveConsumer serves it; how a live page
plugs in: dispatch/staff/__init__.py).

A restaurant's book for `day` (a local date) holds the reservations that start from local midnight to the next
midnight, except that a service running past midnight keeps the bookings of its late hours on the evening it began
(`book_window`): Friday's dinner to 01:30 shows its 00:30 walk-in on Friday's book, not Saturday's. Every status is
in it (the page draws the live ones and the done ones on the timeline, and lists the cancelled ones).

Synchronous ORM code: the consumer runs it through database_sync_to_async.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from dispatch.staff.live import Feed
from restaurants.hours import Service, say_time, wall_clock
from restaurants.models import MAX_BOOKING_HORIZON_DAYS, Restaurant

from .events import ready_reservations, reservation_event
from .models import Table

# The most reservations one page shows (a busy restaurant's day is a few hundred).
MAX_BOOK = 2000
# A service running past midnight keeps its late bookings on its own evening's book until at most this local time.
LATE_UNTIL = dt.time(12)
# How far back and ahead of today a page may look (ahead: the longest booking horizon a restaurant may set).
DAYS_BACK, DAYS_AHEAD = 366, MAX_BOOKING_HORIZON_DAYS + 1
# The hours a closed day's empty timeline shows.
CLOSED_HOURS = (dt.time(12), dt.time(23))


class IsoDateField(forms.DateField):
    """A date written as ISO 8601's YYYY-MM-DD, ASCII digits only (strptime would also read "2026-6-9" or other
    scripts' digits)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class DayForm(forms.Form):
    """The book a page (or its websocket) asks for, among `restaurants` (a Restaurant queryset: the user's):
    `date`, an ISO date ("2026-06-09"; empty: today), from DAYS_BACK days before today to DAYS_AHEAD after it, and
    `restaurant`, the id of one of them (empty: all of them). Today is the local date of the restaurant asked
    for, else local_today's. Once valid, `cleaned_data` holds `date` (a date), `restaurants` (a queryset) and
    `today`. Errors are sentences for staff; a restaurant that is not one of `restaurants` is the error with code
    "missing" (a page answers it as a missing page)."""

    date = IsoDateField(
        required=False,
        error_messages={"invalid": "That is not a date: write it as YYYY-MM-DD, e.g. 2026-06-09."},
    )
    restaurant = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1,
        error_messages={
            "invalid": "That is not a restaurant.", "min_value": "That is not a restaurant.",
            "max_value": "That is not a restaurant.",
        },
    )  # fmt: skip

    def __init__(self, data, *, restaurants: QuerySet) -> None:
        super().__init__(data)
        self.restaurants = restaurants

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        chosen = self.restaurants
        if data.get("restaurant") is not None:
            chosen = self.restaurants.filter(pk=data["restaurant"])
            if not chosen.exists():
                raise forms.ValidationError("There is no such restaurant.", code="missing")
        today = local_today(chosen)
        day = data.get("date") or today
        first, last = today - dt.timedelta(days=DAYS_BACK), today + dt.timedelta(days=DAYS_AHEAD)
        if not first <= day <= last:
            self.add_error("date", f"Pick a date from {first.isoformat()} to {last.isoformat()}.")
        return {**data, "date": day, "restaurants": chosen, "today": today}

    @property
    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


def local_today(restaurants: QuerySet) -> dt.date:
    """Today's date in the first of `restaurants` (a Restaurant queryset; by name) that has tables, else in the
    first of them, else in UTC. One or two queries."""
    zones = restaurants.order_by("name").values_list("time_zone", flat=True)
    zone = zones.filter(pk__in=Table.objects.values("restaurant")).first() or zones.first()
    return timezone.now().astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()


def book_window(services: list[Service], tz: zoneinfo.ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The stretch of time (aware, UTC; end excluded) whose reservations, by their start, make the book of local
    `day`: local midnight to the next one, the start put back by the previous day's service that runs past
    midnight and the end by this day's, each to at most LATE_UNTIL. `services`: the schedule's services of the
    day before, the day and the day after (hours.Schedule.services(day - 1 day, 3))."""
    after = day + dt.timedelta(days=1)
    starts, ends = wall_clock(day, dt.time(0), tz), wall_clock(after, dt.time(0), tz)
    late_before, late_after = wall_clock(day, LATE_UNTIL, tz), wall_clock(after, LATE_UNTIL, tz)
    for service in services:
        if service.day < day:
            starts = max(starts, min(service.ends, late_before))
        elif service.day == day:
            ends = max(ends, min(service.ends, late_after))
    return starts, ends


def natural_key(name: str) -> tuple:
    """Sorts table names as staff count them: "T2" before "T10"."""
    return tuple(int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name))


def floor_hour(at: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The start of the local hour `at` falls in (aware, UTC)."""
    return at.astimezone(tz).replace(minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def ceil_hour(at: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The end of the local hour `at` falls in, or `at` itself on the hour (aware, UTC)."""
    floor = floor_hour(at, tz)
    return floor if floor == at else floor + dt.timedelta(hours=1)


@dataclass
class Book:
    """One restaurant's book for local `day`: its window (`starts`, `ends`: book_window), the services that began
    that day, its tables (the active ones, and inactive ones holding a reservation that day, by name) and the
    reservations as reservation events' payloads, by start. `axis_starts`, `axis_ends`: the timeline's hours (aware,
    UTC, on local hours), covering the services and every reservation."""

    restaurant: Restaurant
    day: dt.date
    starts: dt.datetime
    ends: dt.datetime
    services: list[Service]
    closed_note: str
    tables: list[Table]
    reservations: list[dict] = field(default_factory=list)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.restaurant.tz

    @property
    def hours_text(self) -> str:
        """The day's services in the restaurant's local time: "12:00–14:30 and 19:00–01:30", or "Closed"."""
        if not self.services:
            return f"Closed ({self.closed_note})" if self.closed_note else "Closed"
        language = self.restaurant.language
        spans = [f"{say_time(s.starts.astimezone(self.tz), language)}–{say_time(s.ends.astimezone(self.tz), language)}"
                 for s in self.services]  # fmt: skip
        return "Open " + (", ".join(spans[:-1]) + " and " + spans[-1] if len(spans) > 1 else spans[0])

    @property
    def is_today(self) -> bool:
        """Whether `day` is today in the restaurant's time zone (walk-ins are seated now: on today's book)."""
        return self.restaurant.local_now().date() == self.day

    def rows(self) -> list[tuple[Table, list[dict]]]:
        """The timeline's rows: each table with the reservations drawn on it (all but the cancelled), by start."""
        drawn = [r for r in self.reservations if r["status"] != "cancelled"]
        return [(table, [r for r in drawn if r["table_id"] == table.pk]) for table in self.tables]

    @property
    def axis(self) -> tuple[dt.datetime, dt.datetime]:
        moments = [(s.starts, s.ends) for s in self.services]
        moments += [(dt.datetime.fromisoformat(r["starts_at"]), dt.datetime.fromisoformat(r["ends_at"]))
                    for r in self.reservations]  # fmt: skip
        if not moments:
            return wall_clock(self.day, CLOSED_HOURS[0], self.tz), wall_clock(self.day, CLOSED_HOURS[1], self.tz)
        return floor_hour(min(m[0] for m in moments), self.tz), ceil_hour(max(m[1] for m in moments), self.tz)


def empty_books(restaurants: Collection[int] | QuerySet, day: dt.date) -> dict[int, Book]:
    """The books of local `day` (by restaurant id, in restaurant name order) of those of `restaurants` (ids, or a
    Restaurant queryset) that have tables: their windows and services, without their tables and reservations.
    Three queries."""
    noon = dt.datetime.combine(day, dt.time(12), dt.UTC)
    rows = (
        Restaurant.objects.filter(pk__in=Table.objects.filter(restaurant__in=restaurants).values("restaurant"))
        .order_by("name")
        .with_schedule(noon)  # the schedules of the day before to the day after: no query per restaurant
    )
    books = {}
    first = day - dt.timedelta(days=1)
    for restaurant in rows:
        schedule = restaurant.schedule(first, 3)
        services = schedule.services(first, 3)
        starts, ends = book_window(services, restaurant.tz, day)
        today = [s for s in services if s.day == day]
        books[restaurant.pk] = Book(restaurant, day, starts, ends, today, schedule.periods_on(day)[1], [])
    return books


def day_books(restaurants: Collection[int] | QuerySet, day: dt.date) -> list[Book]:
    """The books of local `day` of those of `restaurants` (ids, or a Restaurant queryset) that have tables, by
    restaurant name, each with its tables (the active ones and those holding a reservation that day) and its
    reservations (at most MAX_BOOK in all). Five queries."""
    books = empty_books(restaurants, day)
    if not books:
        return []
    reservations = [reservation_event(r)["reservation"] for r in in_windows(windows_of(books.values()))]
    holding = {r["table_id"] for r in reservations}
    for table in Table.objects.filter(restaurant__in=list(books)).filter(Q(is_active=True) | Q(pk__in=holding)):
        books[table.restaurant_id].tables.append(table)
    for book in books.values():
        book.tables.sort(key=lambda t: natural_key(t.name))
    by_start = sorted(reservations, key=lambda r: (dt.datetime.fromisoformat(r["starts_at"]), natural_key(r["table"])))
    for reservation in by_start:
        books[reservation["restaurant_id"]].reservations.append(reservation)
    return list(books.values())


def windows_of(books) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """Each book's window, by restaurant id."""
    return {book.restaurant.pk: (book.starts, book.ends) for book in books}


def in_windows(windows: Mapping[int, tuple[dt.datetime, dt.datetime]]) -> QuerySet:
    """The reservations of each restaurant (id) that start in its window, by start, ready for reservation_event
    (restaurant and table joined); at most MAX_BOOK."""
    starting = Q(pk__in=[])
    for restaurant_id, (starts, ends) in windows.items():
        starting |= Q(restaurant_id=restaurant_id, starts_at__gte=starts, starts_at__lt=ends)
    return ready_reservations().filter(starting).order_by("starts_at", "table__name", "pk")[:MAX_BOOK]


def in_window(reservation: Mapping, windows: Mapping[int, tuple[dt.datetime, dt.datetime]]) -> bool:
    """Whether a reservation event's payload starts in its restaurant's window."""
    window = windows.get(reservation.get("restaurant_id"))
    return window is not None and window[0] <= dt.datetime.fromisoformat(reservation["starts_at"]) < window[1]


@dataclass
class DayFeed(Feed):
    """One staff connection's view of the book of one local day: the windows of its restaurants (those with
    tables, or the one `?restaurant=` names), and the reservation payloads sent (by id), so that `changes()` gives
    only what changed, and a reservation moved to another day is told once more (for the page to take it off)."""

    restaurants: frozenset[int]
    day: dt.date
    windows: dict[int, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)
    sent: dict[int, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, restaurants: frozenset[int], query: Mapping[str, list[str]]) -> DayFeed | None:
        """The query is the page's: `date=YYYY-MM-DD` (required, once) and optionally `restaurant=<id>` (once, one of
        `restaurants`): DayForm's. None refuses anything else: a malformed or out-of-range date, another restaurant."""
        if len(query.get("date", [])) != 1 or len(query.get("restaurant", [])) > 1:
            return None
        data = {name: values[0] for name, values in query.items() if name in ("date", "restaurant")}
        form = DayForm(data, restaurants=Restaurant.objects.filter(pk__in=restaurants))
        if not form.is_valid():
            return None
        chosen = frozenset(form.cleaned_data["restaurants"].values_list("pk", flat=True))
        feed = cls(restaurants=chosen, day=form.cleaned_data["date"])
        feed.windows = windows_of(empty_books(chosen, feed.day).values())
        return feed

    def wants(self, event: dict) -> bool:
        """A reservation event of one of this feed's restaurants (checked against its own restaurant, not only the
        group it came through) that starts in that restaurant's window, or that this connection was sent before
        (it may have moved to another day: the page takes it off)."""
        if event.get("kind") != "reservation" or event["reservation"].get("restaurant_id") not in self.restaurants:
            return False
        reservation = event["reservation"]
        if in_window(reservation, self.windows):
            self.sent[reservation["id"]] = reservation
            return True
        return self.sent.pop(reservation.get("id"), None) is not None

    def snapshot(self) -> list[dict]:
        """A reservation event (happened "") for each reservation of the book, by start."""
        events = [reservation_event(r) for r in in_windows(self.windows)]
        self.sent = {e["reservation"]["id"]: e["reservation"] for e in events}
        return events

    def changes(self) -> list[dict]:
        """Reservation events for the book's reservations whose payload is new or changed since last sent, and for
        those sent that left the book (moved to another day). Two queries."""
        events = [reservation_event(r) for r in in_windows(self.windows)]
        changed = [e for e in events if self.sent.get(e["reservation"]["id"]) != e["reservation"]]
        current = {e["reservation"]["id"]: e["reservation"] for e in events}
        if gone := set(self.sent) - set(current):
            changed += [reservation_event(r) for r in ready_reservations().filter(pk__in=gone)]
        self.sent = current
        return changed
