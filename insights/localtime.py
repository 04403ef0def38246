"""A UTC datetime column read as a restaurant's wall clock (its local date, its local hour), as query expressions
the database groups by.

On PostgreSQL these are Django's TruncDate and TruncHour with `tzinfo` (AT TIME ZONE, in the server). Django does
the same on SQLite with a Python function called for every row, about a second per 100,000 calls. But between two
instants a zone's offset from UTC changes only at known moments (two at most in 90 days), so on SQLite the column
is shifted by SQLite's own date functions instead: `date(created_at, CASE WHEN created_at < <the change> THEN
'+7200 seconds' ELSE '+3600 seconds' END)`. Both give the same answers (tests/test_insights.py checks the changes
of the clocks in spring and autumn on both databases).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, CharField, DateField, F, Func, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Substr, TruncDate, TruncHour

HOUR = dt.timedelta(hours=1)
# How far apart offsets() looks: two changes of a zone's offset are never closer than this.
STEP = dt.timedelta(hours=6)


def offsets(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime | None, dt.timedelta]]:
    """The zone's offsets from UTC from `start` to `end` (aware): [(None, offset at start), (moment of a change,
    offset from then on), ...], each moment aware, in UTC, to the second. Looks every STEP, then narrows down on
    a change by halves (about 400 look-ups for 90 days)."""
    found: list[tuple[dt.datetime | None, dt.timedelta]] = [(None, start.astimezone(zone).utcoffset())]
    at = start
    while at < end:
        after = min(at + STEP, end)
        offset = after.astimezone(zone).utcoffset()
        if offset != found[-1][1]:
            low, high = at, after  # the old offset holds at `low`, the new one at `high`
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    high = middle
                else:
                    low = middle
            found.append((high.replace(microsecond=0).astimezone(dt.UTC), offset))
        at = after
    return found


class LocalClock:
    """Expressions for a datetime column's local date and local hour in `zone`, for rows whose column lies from
    `start` to `end` (aware). On SQLite a row outside that span is read with the offset nearest to it."""

    def __init__(self, zone: ZoneInfo, start: dt.datetime, end: dt.datetime):
        self.zone = zone
        self.native = connection.vendor != "sqlite"
        self.offsets = [] if self.native else offsets(zone, start, end)
        # Offsets of whole hours, changing on the hour (most zones): a UTC hour is one local hour, so SQLite can
        # group by the stored text's first 13 characters ("2026-03-29 01") and skip computing dates.
        self.by_utc_hour = all(offset % HOUR == dt.timedelta(0) for _, offset in self.offsets) and all(
            moment.minute == moment.second == 0 for moment, _ in self.offsets[1:]
        )

    def date(self, field: str) -> Expression:
        """The local date: a date."""
        if self.native:
            return TruncDate(field, tzinfo=self.zone)
        return Func(F(field), self._shift(field), function="date", output_field=DateField())

    def hour_start(self, field: str) -> Expression:
        """The local hour `field` falls in, to group by; `wall_clock` reads its values. (One expression for the
        date and the hour: on SQLite each costs a date computation per row.)"""
        if self.native:
            return TruncHour(field, tzinfo=self.zone)
        if self.by_utc_hour:  # Django stores a datetime on SQLite as UTC text, "2026-03-29 01:30:00[.ffffff]"
            return Substr(field, 1, 13, output_field=CharField())
        return Func(Value("%Y-%m-%d %H"), F(field), self._shift(field), function="strftime", output_field=CharField())

    def wall_clock(self, value: dt.datetime | str) -> dt.datetime:
        """An `hour_start` value as the naive local datetime its hour starts at, e.g. 2026-03-29 03:00."""
        if not isinstance(value, str):
            return value.astimezone(self.zone).replace(tzinfo=None)
        hour = dt.datetime(int(value[:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]))  # strptime: slow
        if not self.by_utc_hour:
            return hour
        utc = hour.replace(tzinfo=dt.UTC)
        offset = next(offset for moment, offset in reversed(self.offsets) if moment is None or moment <= utc)
        return hour + offset

    def _shift(self, field: str) -> Expression:
        """SQLite's date modifier that moves `field` (stored as UTC) to the zone's wall clock, e.g.
        '+7200 seconds'."""
        modifiers = [Value(f"{int(offset.total_seconds()):+d} seconds") for _, offset in self.offsets]
        if len(modifiers) == 1:
            return modifiers[0]
        # Each offset holds until the next change: the first When that matches is the row's.
        changes = [moment for moment, _ in self.offsets[1:]]
        whens = [When(**{f"{field}__lt": moment}, then=modifier) for moment, modifier in zip(changes, modifiers)]
        return Case(*whens, default=modifiers[-1])
