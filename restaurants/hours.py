"""Opening hours as wall-clock rules turned into real moments, computed in code (never by the LLM).

A restaurant's rules are local wall-clock times in its IANA time zone: weekly service periods, and special
days that replace the weekly pattern for one date. `Schedule` turns them into `Opening`s (UTC instants) so
that overnight periods, several periods a day and DST changes compare correctly. It holds no database
handle: `Restaurant.schedule()` in models.py loads the rules and builds one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_time, format_timedelta

UTC = dt.timezone.utc
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MINUTES_PER_WEEK = 7 * 24 * 60
# How far ahead "next opening" looks before it says the restaurant has no opening planned.
LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class Period:
    """A service period's local wall-clock times: opens at `opens`, closes at `closes` (the next day if not
    after; equal: 24 hours), with an optional `label` ("Lunch")."""

    opens: dt.time
    closes: dt.time
    label: str = ""

    @property
    def runs_past_midnight(self) -> bool:
        return self.closes <= self.opens


@dataclass(frozen=True)
class SpecialHours:
    """A date whose hours replace the weekly pattern: closed (no periods), or its own periods, with the `note`
    diners hear ("Christmas Day")."""

    date: dt.date
    periods: tuple[Period, ...]
    note: str = ""


@dataclass(frozen=True)
class Opening:
    """One concrete opening: `starts` and `ends` are aware UTC datetimes, `ends` after `starts`."""

    starts: dt.datetime
    ends: dt.datetime
    label: str = ""


@dataclass(frozen=True)
class Service:
    """A stretch of service: the openings that follow on from each other, merged, from `starts` to `ends` (aware,
    UTC), belonging to the local date `day` on which it began (a service past midnight is the evening's)."""

    starts: dt.datetime
    ends: dt.datetime
    day: dt.date


@dataclass(frozen=True)
class Badge:
    """What a diner's page shows of an OpeningStatus: `is_open`, `text` (say_status) and the special day's
    `note` ("" on an ordinary day)."""

    is_open: bool
    text: str
    note: str = ""


@dataclass(frozen=True)
class OpeningStatus:
    """Whether a restaurant is open at `at` (aware, restaurant's local time) and what comes next.

    Open: `closes_at` is the local moment service ends (contiguous periods merged), or None when service runs
    on past LOOKAHEAD_DAYS (open around the clock). Closed: `next_opens_at` is the next local opening within
    LOOKAHEAD_DAYS, or None. `note` is a special day's note for that date.
    """

    at: dt.datetime
    is_open: bool
    closes_at: dt.datetime | None = None
    next_opens_at: dt.datetime | None = None
    note: str = ""


@functools.lru_cache(maxsize=8192)  # pure, and a list of restaurants asks the same few days and hours again
def wall_clock(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of local wall-clock `time` on `day` in `tz`.

    A time skipped by a DST change (02:30 on a spring-forward night, when clocks go from 02:00 to 03:00) maps
    to the jump itself, the first instant the clock reads that time or later: a service that opens or closes
    at 02:30 does so at 03:00 that night. A repeated time (autumn) maps to its first occurrence.
    """
    local = dt.datetime.combine(day, time)
    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(instant, tz) == local:
        return instant
    # Skipped. Read with the offset after the change it lies before the jump, with the one before after it;
    # zoneinfo does not expose the transition, so find it between the two (tz changes fall on whole seconds).
    before, after = local.replace(tzinfo=tz, fold=1).astimezone(UTC), instant
    while after - before > dt.timedelta(seconds=1):
        middle = before + (after - before) / 2
        before, after = (before, middle) if _wall(middle, tz) >= local else (middle, after)
    return after.replace(microsecond=0)


def on_grid(at: dt.datetime, tz: ZoneInfo, minutes: int) -> bool:
    """Whether aware `at` reads a whole `minutes` mark on the local clock of `tz` (19:00, 19:15...)."""
    local = at.astimezone(tz)
    return local.minute % minutes == 0 and local.second == 0 and local.microsecond == 0


def first_on_grid(at: dt.datetime, tz: ZoneInfo, minutes: int) -> dt.datetime:
    """The first instant at or after aware `at` whose local clock in `tz` reads a whole `minutes` mark (a divisor
    of 60; time zones are whole minutes apart from UTC)."""
    minute = at.replace(second=0, microsecond=0)
    if minute < at:
        minute += dt.timedelta(minutes=1)
    return minute + dt.timedelta(minutes=-minute.astimezone(tz).minute % minutes)


def _wall(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


@dataclass
class Schedule:
    """Weekly service periods (weekday 0 = Monday -> periods, earliest first) plus special days, in one time
    zone. `special` holds the special days of the dates it was built for (Restaurant.schedule says which)."""

    tz: ZoneInfo
    weekly: dict[int, list[Period]]
    special: dict[dt.date, SpecialHours] = field(default_factory=dict)

    def periods_on(self, day: dt.date) -> tuple[list[Period], str]:
        """The periods that apply on local `day` and the special day's note ("" on an ordinary day)."""
        if day in self.special:
            sp = self.special[day]
            return list(sp.periods), sp.note
        return list(self.weekly.get(day.weekday(), [])), ""

    def special_days_between(self, first: dt.date, last: dt.date) -> list[SpecialHours]:
        """The special days this schedule holds from local date `first` to `last` (exclusive), by date."""
        return [self.special[d] for d in sorted(self.special) if first <= d < last]

    def openings_on(self, day: dt.date) -> list[Opening]:
        """Openings that start on local `day`, earliest first (an overnight one ends on the next day)."""
        periods, _ = self.periods_on(day)
        out = []
        for period in periods:
            starts = wall_clock(day, period.opens, self.tz)
            ends = wall_clock(day + dt.timedelta(days=period.runs_past_midnight), period.closes, self.tz)
            if ends > starts:  # a period lost entirely to a DST jump has no opening
                out.append(Opening(starts, ends, period.label))
        return sorted(out, key=lambda o: o.starts)

    def say_closed(self, at: dt.datetime, language: str, today: dt.date) -> str:
        """Why aware `at`, which falls in no opening, cannot be served, as the agent says it: "We are closed at
        17:00 today." on a day with hours, "We are closed on Friday (Staff party)." on a closed special day,
        "We are closed on Monday." on a day without hours."""
        day = at.astimezone(self.tz).date()
        periods, note = self.periods_on(day)
        if periods:
            return f"We are closed at {say_when(at, self.tz, language, today)}."
        on = say_on_day(day, today)
        return f"We are closed {on} ({note})." if note else f"We are closed {on}."

    def services(self, first: dt.date, days: int) -> list[Service]:
        """The services that begin on the `days` local dates from `first`, by start: each day's openings, with
        back-to-back ones (lunch into dinner, or one day's late period into the next day's first) merged."""
        openings = sorted(
            (o for i in range(days) for o in self.openings_on(first + dt.timedelta(days=i))), key=lambda o: o.starts
        )
        merged: list[list] = []  # [starts, ends, day]
        for o in openings:
            if merged and o.starts <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], o.ends)
            else:
                merged.append([o.starts, o.ends, o.starts.astimezone(self.tz).date()])
        return [Service(starts, ends, day) for starts, ends, day in merged]

    def _openings_from(self, day: dt.date) -> Iterator[Opening]:
        """Openings from local `day` on, by start, for LOOKAHEAD_DAYS + 2 days, each day computed when reached."""
        for i in range(LOOKAHEAD_DAYS + 2):
            yield from self.openings_on(day + dt.timedelta(days=i))

    def status_at(self, when: dt.datetime) -> OpeningStatus:
        """Open or closed at aware `when`; raises ValueError for a naive datetime. Computes the days from the
        one before `when` (its overnight period may still run) up to the next opening or closing only."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("when must be timezone-aware")
        now = when.astimezone(UTC)
        local = when.astimezone(self.tz)
        _, note = self.periods_on(local.date())
        openings = self._openings_from(local.date() - dt.timedelta(days=1))
        for opening in openings:  # by start: the first that starts after `now` is the next opening
            if opening.starts > now:
                return OpeningStatus(local, False, next_opens_at=opening.starts.astimezone(self.tz), note=note)
            if now < opening.ends:
                ends = opening.ends
                for later in openings:  # back-to-back periods read as one
                    if later.starts > ends:
                        break
                    ends = max(ends, later.ends)
                horizon = wall_clock(local.date() + dt.timedelta(days=LOOKAHEAD_DAYS + 1), dt.time(0), self.tz)
                closes = None if ends >= horizon else ends.astimezone(self.tz)
                return OpeningStatus(local, True, closes_at=closes, note=note)
        return OpeningStatus(local, False, note=note)

    def is_open_at(self, when: dt.datetime) -> bool:
        """True if `when` (aware) falls inside an opening; raises ValueError for a naive datetime."""
        return self.status_at(when).is_open


def first_overlap(periods: list[tuple[int, dt.time, dt.time]]) -> tuple[int, int] | None:
    """Indexes of the first two weekly periods (weekday, opens, closes) that overlap, else None.

    The week is a circle: Sunday's overnight period runs into Monday.
    """

    def span(weekday: int, opens: dt.time, closes: dt.time) -> tuple[int, int]:
        start = weekday * 1440 + opens.hour * 60 + opens.minute
        length = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
        return start, start + (length if length > 0 else length + 1440)

    spans = [span(*p) for p in periods]
    for i, (a0, a1) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            b0, b1 = spans[j]
            for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
                if a0 < b1 + shift and b0 + shift < a1:
                    return i, j
    return None


# --- Phrasing: the one place each sentence about hours is worded (pages, badges and the agent use these) ---


@functools.lru_cache(maxsize=256)
def _parse_locale(language: str) -> Locale | None:
    """The Babel locale of a BCP 47 tag ("en-GB", "de", "pt-BR"), or None when Babel does not know it. Cached: a
    list of restaurants says hundreds of times in a few locales."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError, AttributeError):
        return None


def babel_locale(language: str) -> Locale:
    """Babel locale for a BCP 47 tag ("en-GB", "de", "pt-BR"); English when the tag is unknown."""
    return _parse_locale(language) or Locale.parse("en")


def language_name(language: str) -> str:
    """English name of a BCP 47 tag: "de-DE" -> "German (Germany)"; the tag itself when Babel does not know it."""
    locale = _parse_locale(language)
    return (locale.get_display_name("en") if locale else None) or language


# "2 weeks": how far ahead the next opening is looked for, in words.
LOOKAHEAD_TEXT = format_timedelta(dt.timedelta(days=LOOKAHEAD_DAYS), granularity="day", threshold=1, locale="en")


def say_time(value: dt.time | dt.datetime, language: str) -> str:
    """A clock time the way the restaurant's locale writes it ("18:00", "6:00 PM")."""
    t = value.time() if isinstance(value, dt.datetime) else value
    return format_time(t, format="short", locale=babel_locale(language))


def say_period(period: Period, language: str) -> str:
    """"19:00 to 01:30 (past midnight) (Dinner)", "06:00 to 06:00 (24 hours)"."""
    text = f"{say_time(period.opens, language)} to {say_time(period.closes, language)}"
    if period.runs_past_midnight:
        text += " (past midnight)" if period.closes != period.opens else " (24 hours)"
    return f"{text} ({period.label})" if period.label else text


def say_periods(periods: list[Period], language: str, note: str = "") -> str:
    """One day's hours: "12:00 to 14:30 (Lunch) and 19:00 to 23:00 (Dinner)", "closed"; a special day's `note`
    follows in brackets: "closed (Christmas Day)", "17:00 to 21:00 (Republic Day)"."""
    text = " and ".join(say_period(p, language) for p in periods) if periods else "closed"
    return f"{text} ({note})" if note else text


def say_weekly(weekly: dict[int, list[Period]], language: str) -> str:
    """The weekly pattern for speech, consecutive days with equal hours grouped.

    e.g. "Monday to Friday: 11:30 to 14:30 (Lunch) and 18:00 to 22:00 (Dinner). Sunday: closed."
    """
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        text = say_periods(sorted(weekly.get(day, []), key=lambda p: p.opens), language)
        if groups and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], day, text)
        else:
            groups.append((day, day, text))
    parts = []
    for first, last, text in groups:
        days = WEEKDAYS[first] if first == last else f"{WEEKDAYS[first]} to {WEEKDAYS[last]}"
        if last == first + 1:
            days = f"{WEEKDAYS[first]} and {WEEKDAYS[last]}"
        parts.append(f"{days}: {text}.")
    return " ".join(parts)


def say_day(day: dt.date, today: dt.date) -> str:
    """'today', 'tomorrow', a weekday within the week, else 'Tuesday 5 January'."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if 1 < delta < 7:
        return WEEKDAYS[day.weekday()]
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day.strftime('%B')}"


def say_on_day(day: dt.date, today: dt.date) -> str:
    """'today', 'tomorrow', 'on Friday', 'on Tuesday 5 January': say_day as it follows a time or leads one."""
    said = say_day(day, today)
    return said if said in ("today", "tomorrow") else f"on {said}"


def say_when(at: dt.datetime, tz: ZoneInfo, language: str, today: dt.date) -> str:
    """Aware `at` as the agent says it in `tz`'s local time, seen from local date `today`: "19:30 today",
    "12:15 tomorrow", "19:00 on Friday", "20:00 on Tuesday 5 January"."""
    local = at.astimezone(tz)
    return f"{say_time(local, language)} {say_on_day(local.date(), today)}"


def say_or(items: list[str]) -> str:
    """"a", "a or b", "a, b or c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def say_until(status: OpeningStatus, language: str) -> str:
    """When an open status ends: "until 22:00", "until 02:00" (after midnight), "until Tuesday 09:00" (a day or
    more away), or "around the clock" (no closing within LOOKAHEAD_DAYS)."""
    if status.closes_at is None:
        return "around the clock"
    until = say_time(status.closes_at, language)
    # Same-tzinfo subtraction is wall-clock time: "until 09:00" alone would read as within a day.
    if status.closes_at - status.at >= dt.timedelta(days=1):
        until = f"{say_day(status.closes_at.date(), status.at.date())} {until}"
    return f"until {until}"


def say_status(status: OpeningStatus, language: str, *, asked: str = "", today: dt.date | None = None) -> str:
    """Open or closed and what comes next, for a badge: "Open now, until 22:00", "Closed, opens Tuesday 11:30",
    "Closed, no opening in the next 2 weeks".

    For the agent, `asked` says which moment was asked about ("at 19:30 on Friday 2026-12-11"; "now" reads as
    "now") and `today` (the restaurant's local date now) names days from the real today and adds the ISO date:
    "Closed at 15:00 on Tuesday 2026-12-08, opens today 19:00 (2026-12-08)". The special day's note is not
    included: callers show it their own way."""
    today = today or status.at.date()
    if status.is_open:
        return f"Open {asked or 'now'}, {say_until(status, language)}"
    closed = f"Closed {asked}" if asked else "Closed"
    if status.next_opens_at is None:
        return f"{closed}, no opening in the next {LOOKAHEAD_TEXT}"
    when = status.next_opens_at
    opens = f"opens {say_day(when.date(), today)} {say_time(when, language)}"
    return f"{closed}, {opens} ({when.date().isoformat()})" if asked else f"{closed}, {opens}"
