"""The numbers on the insights page, computed by the database: grouped counts and sums, never a call loaded into
Python. Six queries, whatever the number of calls; each answers at most a bounded number of rows (per local hour
and channel of the period, per second of call length, per failure reason, per question, per day), which Python
adds up into days and the busy-hours grid.

A period is the `days` local days of the restaurant ending with today (its local date), from local midnight of
the first to now: calls, questions, orders and bookings count by when they were made (`created_at`, an order's
`placed_at`). Days, weekdays and hours are the restaurant's local time (its `time_zone`), so an evening call in
Los Angeles counts on its own day, and across a change of the clocks each call keeps the hour its diner's clock
read (a night in spring has no 02:00; one in autumn has two, both counted as 02:00).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import Expression
from django.db.models.functions import Collate, Lower, Trim
from django.utils import timezone

from dispatch.models import Call, UnansweredQuestion
from orders.models import HOLDS_SLOT, Order
from reservations.models import Reservation
from restaurants.models import Restaurant

from .localtime import LocalClock

# The periods staff choose from (days), the first the page's default.
PERIODS = (7, 30, 90)
# How many of the most asked unanswered questions the page lists.
TOP_QUESTIONS = 10
# Call length bands (seconds, each up to but not including the next's start), for the length chart.
LENGTH_BANDS = ((0, "under 30 s"), (30, "30 s to 1 min"), (60, "1 to 2 min"), (120, "2 to 5 min"),
                (300, "5 to 10 min"), (600, "10 min or more"))  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Period:
    """The `days` local days of `restaurant` ending with the local date of `now` (aware): `first` and `last` are
    local dates, `start` is local midnight of `first` as an aware UTC datetime, `end` is `now` in UTC."""

    restaurant: Restaurant
    days: int
    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def ending(cls, restaurant: Restaurant, days: int, now: dt.datetime | None = None) -> Period:
        """The period of `days` (one of PERIODS; ValueError otherwise) ending with `now` (default: the present)."""
        if days not in PERIODS:
            raise ValueError(f"days must be one of {PERIODS}, not {days!r}")
        now = (now or timezone.now()).astimezone(dt.UTC)
        zone = restaurant.tz
        last = now.astimezone(zone).date()
        first = last - dt.timedelta(days=days - 1)
        start = dt.datetime.combine(first, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        return cls(restaurant, days, first, last, start, now)

    @property
    def zone(self) -> ZoneInfo:
        return self.restaurant.tz

    @property
    def dates(self) -> list[dt.date]:
        """Every local date of the period, oldest first."""
        return [self.first + dt.timedelta(days=n) for n in range(self.days)]

    def clock(self) -> LocalClock:
        """Expressions reading the period's datetimes as the restaurant's wall clock."""
        return LocalClock(self.zone, self.start, self.end)

    def calls(self) -> QuerySet:
        """The restaurant's calls started in the period."""
        return Call.objects.filter(restaurant=self.restaurant, created_at__gte=self.start, created_at__lte=self.end)


@dataclass
class Day:
    """One local date's calls: `web` and `phone` by channel; by outcome `full` (answered with no unanswered
    question), `asked` (answered, with at least one), `purged` (answered, and its record purged after
    CALL_RETENTION_DAYS: its questions are no longer kept, so which it was is not known), `failed`, and `going`
    (not over yet); and what
    the agent took on that date: `orders` placed (`orders_kept`: not cancelled or rejected since, worth
    `order_value` in the restaurant's currency) and `bookings` made (`covers`: guests of those not cancelled)."""

    date: dt.date
    web: int = 0
    phone: int = 0
    full: int = 0
    asked: int = 0
    purged: int = 0
    failed: int = 0
    going: int = 0
    orders: int = 0
    orders_kept: int = 0
    order_value: Decimal = Decimal("0.00")
    bookings: int = 0
    bookings_cancelled: int = 0
    covers: int = 0

    @property
    def calls(self) -> int:
        return self.web + self.phone


@dataclass(frozen=True)
class Question:
    """An unanswered question as diners asked it in the period, the same words in any case and spacing counted
    together: `text`, the first of its spellings alphabetically (capitals first: "Is there..." before "is
    there..."), how many times it was asked, how many of those staff have not resolved, and the last time (aware,
    UTC)."""

    text: str
    asked: int
    open: int
    last_asked: dt.datetime


@dataclass
class Insights:
    """Everything the page shows for one period. Lengths are seconds (floats: the percentiles interpolate, as
    PostgreSQL's PERCENTILE_CONT does), None when no answered call has a length. `hours` is the busy-hours grid,
    `hours[weekday][hour]` with weekday 0 = Monday and hour 0 to 23, local time. `failed_by_reason` maps a
    Call.EndReason value to its count, most first. `currency` is the restaurant's; `other_currencies` counts
    orders placed in another one (before the restaurant changed its currency), left out of the values."""

    period: Period
    days: list[Day]
    hours: list[list[int]]
    answered: int = 0
    median_length: float | None = None
    p90_length: float | None = None
    length_bands: list[tuple[str, int]] = field(default_factory=list)
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    currency: str = ""
    other_currencies: int = 0

    def total(self, name: str) -> int | Decimal:
        """The sum of one of Day's counts over the period, e.g. total("failed")."""
        return sum((getattr(day, name) for day in self.days), Decimal(0) if name == "order_value" else 0)

    @property
    def busiest(self) -> int:
        return max((n for row in self.hours for n in row), default=0)


class PercentileCont(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(fraction) WITHIN GROUP (ORDER BY expression): the value at `fraction` (0 to 1)
    of the ordered values, interpolating linearly between the two nearest."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be from 0 to 1")
        super().__init__(expression, fraction=float(fraction), **extra)


def insights(period: Period) -> Insights:
    """The period's numbers (see Insights): six queries, whatever the number of calls."""
    clock = period.clock()
    days = {date: Day(date) for date in period.dates}
    hours = [[0] * 24 for _ in WEEKDAYS]
    calls = period.calls()
    ended = Q(status=Call.Status.ENDED)
    purged = ended & Q(purged_at__isnull=False)
    asked = ended & Q(purged_at__isnull=True) & Q(Exists(UnansweredQuestion.objects.filter(call=OuterRef("pk"))))
    # One pass over the calls, grouped by local hour and channel (at most 90 x 25 x 2 groups, however many calls):
    # the days' counts and the busy-hours grid both add these up.
    for row in (
        calls.annotate(hour=clock.hour_start("created_at"))
        .values("hour", "channel")
        .annotate(
            n=Count("pk"), failed=Count("pk", filter=Q(status=Call.Status.FAILED)), ended=Count("pk", filter=ended),
            purged=Count("pk", filter=purged), asked=Count("pk", filter=asked),
        )  # fmt: skip
        .order_by()
    ):
        hour = clock.wall_clock(row["hour"])
        day = days.get(hour.date())
        if day is None:  # not a date of the period: cannot be, as the calls are picked by the same instants
            continue
        if row["channel"] == Call.Channel.PHONE:
            day.phone += row["n"]
        else:
            day.web += row["n"]
        day.failed += row["failed"]
        day.going += row["n"] - row["failed"] - row["ended"]
        day.purged += row["purged"]
        day.asked += row["asked"]
        day.full += row["ended"] - row["purged"] - row["asked"]
        hours[hour.weekday()][hour.hour] += row["n"]

    result = Insights(period, list(days.values()), hours, currency=period.restaurant.currency)
    _lengths(result, calls.filter(status=Call.Status.ENDED, duration__isnull=False))
    result.failed_by_reason = dict(
        calls.filter(status=Call.Status.FAILED)
        .values_list("end_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "end_reason")
    )
    result.questions = _questions(period)
    _orders(result, days, clock)
    _bookings(result, days, clock)
    return result


def _band(low: int, high: int | None) -> Q:
    return Q(duration__gte=low, duration__lt=high) if high is not None else Q(duration__gte=low)


def _lengths(result: Insights, answered: QuerySet) -> None:
    """The answered calls' count, length bands, median and 90th percentile, in one query. PostgreSQL computes
    the percentiles (PERCENTILE_CONT); SQLite has no such aggregate, so there the query counts the calls of each
    length (whole seconds: at most one row per second of the longest call, however many calls) and
    `percentile_cont` reads the same answer off those counts."""
    if connection.vendor == "postgresql":
        lows = [low for low, _ in LENGTH_BANDS]
        limits = zip(lows, [*lows[1:], None], strict=True)
        bands = {f"band{n}": Count("pk", filter=_band(low, high)) for n, (low, high) in enumerate(limits)}
        row = answered.order_by().aggregate(
            n=Count("pk"), median=PercentileCont("duration", 0.5), p90=PercentileCont("duration", 0.9), **bands
        )
        result.answered = row["n"]
        result.length_bands = [(label, row[f"band{n}"]) for n, (_, label) in enumerate(LENGTH_BANDS)]
        result.median_length, result.p90_length = row["median"], row["p90"]
        return
    counts = list(answered.values_list("duration").annotate(n=Count("pk")).order_by("duration"))
    result.answered = sum(n for _, n in counts)
    in_band = [0] * len(LENGTH_BANDS)
    for seconds, n in counts:
        in_band[max(i for i, (low, _) in enumerate(LENGTH_BANDS) if seconds >= low)] += n
    result.length_bands = [(label, n) for (_, label), n in zip(LENGTH_BANDS, in_band, strict=True)]
    result.median_length = percentile_cont(counts, 0.5)
    result.p90_length = percentile_cont(counts, 0.9)


def percentile_cont(counts: list[tuple[int, int]], fraction: float) -> float | None:
    """PERCENTILE_CONT(fraction) of the values that `counts` holds as (value, how many times), in rising order of
    value: the value at position fraction x (n - 1) of the n values in order, interpolating linearly between the
    two around it. None for no values. E.g. counts [(60, 1), (120, 2), (300, 1)] (60, 120, 120, 300): median 120,
    90th percentile 120 + 0.7 x 180 = 246."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    exact = fraction * (total - 1)
    lower = math.floor(exact)
    low, high = _nth(counts, lower), _nth(counts, min(lower + 1, total - 1))
    return low + (high - low) * (exact - lower)


def _nth(counts: list[tuple[int, int]], index: int) -> int:
    """The value at 0-based `index` of the values `counts` holds in order."""
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def _questions(period: Period) -> list[Question]:
    """The TOP_QUESTIONS most asked unanswered questions of the period, most asked first (then alphabetically)."""
    rows = (
        UnansweredQuestion.objects.filter(
            restaurant=period.restaurant, created_at__gte=period.start, created_at__lte=period.end
        )
        .values(key=_bytewise(Lower(Trim("question"))))
        .annotate(
            text=Min(_bytewise(Trim("question"))), asked=Count("pk"),
            open=Count("pk", filter=Q(resolved_at__isnull=True)),
            last_asked=Max("created_at"),
        )  # fmt: skip
        .order_by("-asked", "key")[:TOP_QUESTIONS]
    )
    return [Question(r["text"], r["asked"], r["open"], r["last_asked"]) for r in rows]


def _bytewise(text: Expression) -> Expression:
    """`text` compared byte by byte, as SQLite does by default: PostgreSQL's collation would put "is" before "Is"
    (and skip punctuation), so the two would pick and order spellings differently."""
    return Collate(text, "C") if connection.vendor == "postgresql" else text


def _orders(result: Insights, days: Mapping[dt.date, Day], clock: LocalClock) -> None:
    """Orders the agent placed in the period, by local date of placing (every order is taken by the agent; one
    cancelled or rejected since counts as placed, not in the value). A draft has no `placed_at`."""
    period = result.period
    kept = Q(status__in=HOLDS_SLOT)
    rows = (
        Order.objects.filter(restaurant=period.restaurant, placed_at__gte=period.start, placed_at__lte=period.end)
        .values(day=clock.date("placed_at"), currency_=F("currency"))
        .annotate(n=Count("pk"), kept=Count("pk", filter=kept), value=Sum("total", filter=kept))
        .order_by()
    )
    for row in rows:
        day = days.get(row["day"])
        if day is None:
            continue
        if row["currency_"] != result.currency:
            result.other_currencies += row["n"]
            continue
        day.orders += row["n"]
        day.orders_kept += row["kept"]
        day.order_value += row["value"] or Decimal("0.00")


def _bookings(result: Insights, days: Mapping[dt.date, Day], clock: LocalClock) -> None:
    """Bookings the agent made in the period (on a web or phone call: not staff's walk-ins), by local date of
    booking."""
    period = result.period
    cancelled = Q(status=Reservation.Status.CANCELLED)
    rows = (
        Reservation.objects.filter(
            restaurant=period.restaurant, created_at__gte=period.start, created_at__lte=period.end
        )
        .exclude(channel=Reservation.Channel.STAFF)
        .values(day=clock.date("created_at"))
        .annotate(n=Count("pk"), cancelled=Count("pk", filter=cancelled), covers=Sum("party_size", filter=~cancelled))
        .order_by()
    )
    for row in rows:
        day = days.get(row["day"])
        if day is not None:
            day.bookings += row["n"]
            day.bookings_cancelled += row["cancelled"]
            day.covers += row["covers"] or 0


def retention_note(period: Period) -> str:
    """A sentence for the page when part of the period is older than CALL_RETENTION_DAYS (whose calls' questions
    are deleted), else ""."""
    if period.days <= settings.CALL_RETENTION_DAYS:
        return ""
    return (
        f"Unanswered questions are kept {settings.CALL_RETENTION_DAYS} days: older calls count as answered, "
        "without saying whether a question went unanswered."
    )
