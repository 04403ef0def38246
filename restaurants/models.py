"""Restaurants, their opening hours and menus, and the domain logic the agent and the pages rely on.

Facts a diner asks about (open now?, prices, allergens, availability) are computed here from the database,
never by the LLM. Times are local wall-clock times in the restaurant's IANA time zone; prices are Decimals
in the restaurant's ISO 4217 currency.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import functools
import re
import secrets
import unicodedata
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from babel import Locale
from babel.core import get_global
from babel.numbers import format_currency
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Cast, Length, Lower
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from . import hours, phones
from .fixed_lists import DIETARY_TAGS

# Phone numbers are parsed and validated by the phonenumbers library (django-phonenumber-field) and stored in
# E.164; staff may type spaces or dashes, but always the + and the country code.
PHONE_INVALID = "Enter a valid phone number in international form: + and the country code, e.g. +44 20 7946 0123."
BCP47 = RegexValidator(
    r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$",
    "Enter a BCP 47 language tag such as en, en-GB, de-DE or pt-BR.",
)
COUNTRY = RegexValidator(r"^[A-Z]{2}$", "Enter the two-letter ISO 3166 country code, e.g. GB.")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/London or Asia/Tokyo.") from None


def validate_currency(value: str) -> None:
    if value not in get_global("all_currencies"):
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code such as EUR, GBP or USD.")


# Where a restaurant's order events are sent (orders.webhooks): a bounded web address, https outside DEBUG.
MAX_WEBHOOK_URL_LENGTH = 500
# Its own code: a form would show its own "Enter a valid URL." for the code "invalid".
_WEBHOOK_URL = URLValidator(
    schemes=["http", "https"], message="Enter a web address such as https://pos.example.com/maitre/orders.",
    code="webhook_url",
)  # fmt: skip


def validate_webhook_url(value: str) -> None:
    """An order webhook address: http(s) with a host, no fragment; https only unless DEBUG is on (a local
    receiver while developing), because each order carries the diner's name and phone number and the receiver's
    certificate is what keeps them from going to anyone else. Raises ValidationError with a sentence for staff."""
    _WEBHOOK_URL(value)
    if "#" in value:
        raise ValidationError("Leave out the #...: the part after # is never sent to the receiver.")
    if not settings.DEBUG and not value.lower().startswith("https://"):
        raise ValidationError(
            "Use an https:// address: each order carries the diner's name and phone number, which plain http "
            "would send readable to anyone on the way."
        )


def new_webhook_secret() -> str:
    """A new Standard Webhooks signing secret: "whsec_" and 32 random bytes in base64 (50 characters)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_book_feed_token() -> str:
    """A new secret for the address of a restaurant's reservation book as a calendar feed: 24 random bytes,
    URL-safe base64 (32 characters, e.g. "q3Vx..."): guessing one is hopeless."""
    return secrets.token_urlsafe(24)


class FixedList(models.Model):
    """A row of a fixed list that a data migration seeds and the agent relies on: a code and a name."""

    code = models.SlugField(unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Allergen(FixedList):
    """One of the 14 allergen groups of EU Regulation 1169/2011 (seeded by a migration)."""


class DietaryTag(FixedList):
    """A dietary property staff can confirm for a dish: vegan, vegetarian, gluten-free... (seeded)."""

    # The codes migration 0002 seeds (fixed_lists); the agent's get_menu tool accepts exactly these.
    CODES = tuple(code for code, _name in DIETARY_TAGS)


# A diner with this need can also eat dishes tagged with these (a vegan dish is vegetarian).
DIETARY_ALSO_SATISFIED_BY = {"vegetarian": {"vegan"}, "dairy-free": {"vegan"}}


class TurnTaking(models.TextChoices):
    """How soon the agent answers after the diner goes quiet: quick answers cut slow speakers off."""

    QUICK = "quick", "Quick (answers after 0.25 s of silence: short questions; a pause mid-sentence may end the turn)"
    BALANCED = "balanced", "Balanced (0.6 s: the diner may pause briefly mid-sentence)"
    PATIENT = "patient", "Patient (0.8 s: slow speakers, longer pauses)"

    @property
    def silence(self) -> float:
        """Seconds of the diner's silence after which their turn counts as finished and the agent answers
        (agent_worker.turn_taking: the local VAD's end of speech)."""
        return {"quick": 0.25, "balanced": 0.6, "patient": 0.8}[self.value]


# The most simultaneous calls staff may allow one restaurant (each holds a job process on a worker).
MAX_CONCURRENT_CALLS = 50
# A modifier group's choices, and how far one modifier may move a dish's price (restaurant's currency).
MAX_MODIFIER_CHOICES = 20
MAX_PRICE_DELTA = Decimal("10000")
# Takeout: pickups are offered every PICKUP_SLOT_MINUTES; the bounds of what staff may set.
PICKUP_SLOT_MINUTES = 15
MAX_PICKUP_LEAD_MINUTES = 240
MAX_ORDERS_PER_SLOT = 100
# Reservations: the bounds of what staff may set. A party above the restaurant's max_party_size talks to the staff.
MAX_PARTY_SIZE = 100
MAX_BOOKING_HORIZON_DAYS = 365
MAX_BOOKING_MINUTES = 24 * 60
RESERVATION_SLOT_MINUTES = (15, 30, 60)
# A party of this many or fewer holds its table for dining_minutes; a larger one for dining_minutes_large.
SMALL_PARTY = 4
# What the agent says first when staff wrote no greeting.
DEFAULT_GREETING = "Welcome to {name}. How can I help you?"
# The days a schedule covers around a moment: yesterday (its overnight period may still run), today, and
# LOOKAHEAD_DAYS + 1 more for the next opening.
SCHEDULE_DAYS_BEFORE, SCHEDULE_DAYS = 1, hours.LOOKAHEAD_DAYS + 3


@dataclass(frozen=True)
class PostalAddress:
    """A restaurant's address: `street` ("Via dei Coronari 12"), `place` ("00186 Roma": postal code and city),
    `country` (ISO 3166 code, "IT") and `country_name` (in English, "Italy")."""

    street: str
    place: str
    country: str
    country_name: str

    def __str__(self) -> str:
        """One line for screens: "Via dei Coronari 12, 00186 Roma, IT"."""
        return f"{self.street}, {self.place}, {self.country}"

    @property
    def spoken(self) -> str:
        """For speech, the country named: "Via dei Coronari 12, 00186 Roma, Italy"."""
        return f"{self.street}, {self.place}, {self.country_name}"


@functools.lru_cache(maxsize=4096)
def _page_url(slug: str) -> str:
    # reverse() is a tenth of the picker at 200 restaurants; a slug's page URL never changes in a process.
    return reverse("restaurant-detail", args=[slug])


@functools.lru_cache(maxsize=512)
def _country_name(code: str) -> str:
    """The English name of an ISO 3166 code ("IT" -> "Italy"); the code itself when Babel does not know it."""
    return Locale.parse("en").territories.get(code, code)


class RestaurantQuerySet(models.QuerySet):
    def active(self) -> RestaurantQuerySet:
        return self.filter(is_active=True)

    def for_staff(self, user) -> RestaurantQuerySet:
        """The restaurants `user` may see and edit in admin: every one for a superuser, else those whose
        `staff` includes them."""
        return self if user.is_superuser else self.filter(staff=user)

    def with_schedule(self, when: dt.datetime | None = None) -> RestaurantQuerySet:
        """These restaurants with what `Restaurant.schedule_around(when)` needs (default: now) loaded together
        when the rows are fetched: two more queries for all of them (their service periods, and their special
        days around `when` in any time zone), so badges for a whole list cost no query per restaurant."""
        utc_day = (when or timezone.now()).astimezone(dt.UTC).date()
        # A local date is at most a day from the UTC date; a schedule reaches from the day before it.
        clone = self._chain()
        clone._schedule_days = (
            utc_day - dt.timedelta(days=SCHEDULE_DAYS_BEFORE + 1), utc_day + dt.timedelta(days=SCHEDULE_DAYS + 1)
        )  # fmt: skip
        return clone

    # with_schedule's loading, done the way prefetch_related is (on fetching the rows), but from plain values:
    # making ServicePeriod instances cost 40 ms of the picker's 50 at 200 restaurants.
    _schedule_days: tuple[dt.date, dt.date] | None = None

    def _clone(self):
        clone = super()._clone()
        clone._schedule_days = self._schedule_days
        return clone

    def _fetch_all(self):
        fetching = self._result_cache is None
        super()._fetch_all()
        if fetching and self._schedule_days and self._result_cache and isinstance(self._result_cache[0], Restaurant):
            _load_schedules(self._result_cache, *self._schedule_days)


@dataclass
class LoadedHours:
    """What with_schedule loaded for one restaurant: its weekly service periods, and its special days from
    `first` to `last` (exclusive) by date."""

    first: dt.date
    last: dt.date
    weekly: dict[int, list[hours.Period]]
    special: dict[dt.date, hours.SpecialHours]


@functools.lru_cache(maxsize=4096)
def _period(opens: str, closes: str, label: str) -> hours.Period:
    """hours.Period from ISO times ("19:00:00"), one shared instance per value (it is frozen): a list of
    restaurants repeats a few."""
    return hours.Period(dt.time.fromisoformat(opens), dt.time.fromisoformat(closes), label)


def _load_schedules(restaurants: list[Restaurant], first: dt.date, last: dt.date) -> None:
    """Sets `loaded_hours` on each of `restaurants`: two queries (per 500 restaurants)."""
    by_id = {r.pk: r for r in restaurants}
    for r in restaurants:
        r.loaded_hours = LoadedHours(first, last, {d: [] for d in range(7)}, {})
    ids = list(by_id)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        periods = ServicePeriod.objects.filter(restaurant_id__in=chunk).order_by("opens")
        # The times come as text ("19:00:00") and _period parses each distinct one once: SQLite's driver-level
        # time parsing was a third of this function at 200 restaurants.
        as_text = {f: Cast(f, models.CharField()) for f in ("opens", "closes")}
        for restaurant_id, weekday, opens, closes, label in periods.values_list(
            "restaurant_id", "weekday", as_text["opens"], as_text["closes"], "label"
        ):
            by_id[restaurant_id].loaded_hours.weekly[weekday].append(_period(opens, closes, label))
        for sd in SpecialDay.objects.filter(restaurant_id__in=chunk, date__gte=first, date__lt=last):
            by_id[sd.restaurant_id].loaded_hours.special[sd.date] = sd.as_special_hours()


class Restaurant(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, help_text="Used in the restaurant's web address; letters, digits, -.")
    cuisine = models.CharField(max_length=80, help_text="e.g. Neapolitan pizza, Japanese izakaya.")
    description = models.CharField("short description", max_length=300, blank=True)
    street_address = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, validators=[COUNTRY], help_text="ISO 3166 code, e.g. GB.")
    phone = PhoneNumberField(
        error_messages={"invalid": PHONE_INVALID}, help_text="With + and the country code, e.g. +44 20 7946 0123."
    )
    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/Paris. Opening hours are wall-clock times in this zone.",
    )
    language = models.CharField(
        max_length=35, default="en-GB", validators=[BCP47], help_text="BCP 47 tag the agent speaks, e.g. de-DE."
    )
    currency = models.CharField(
        max_length=3, default="EUR", validators=[validate_currency], help_text="ISO 4217 code of menu prices."
    )
    greeting = models.CharField(
        max_length=300, blank=True, help_text=f'Spoken first. Empty: "{DEFAULT_GREETING.format(name="<name>")}"'
    )
    agent_instructions = models.TextField(
        "extra instructions for the agent",
        blank=True,
        help_text="House rules the agent should know, e.g. 'We do not take reservations for fewer than 6.'",
    )
    tts_voice = models.CharField(
        "voice", max_length=40, blank=True, help_text="Text-to-speech voice name; empty uses the default voice."
    )
    turn_taking = models.CharField(
        max_length=10,
        choices=TurnTaking.choices,
        default=TurnTaking.BALANCED,
        help_text="How long the agent waits after a diner stops talking before it answers.",
    )
    max_concurrent_calls = models.PositiveSmallIntegerField(
        "simultaneous calls",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CONCURRENT_CALLS)],
        help_text="Calls the agent answers at once for this restaurant; a diner calling above it hears that all "
        "lines are busy.",
    )
    is_active = models.BooleanField("active", default=True, help_text="Inactive restaurants are hidden from diners.")
    # --- Takeout orders (orders/) ---
    takes_orders = models.BooleanField(
        "takes takeout orders", default=False, help_text="The agent takes pickup orders for this restaurant."
    )
    pickup_lead_minutes = models.PositiveSmallIntegerField(
        "preparation time", default=20, validators=[MinValueValidator(0), MaxValueValidator(MAX_PICKUP_LEAD_MINUTES)],
        help_text="Minutes the kitchen needs: the earliest pickup is this long after the order is placed.",
    )  # fmt: skip
    orders_per_slot = models.PositiveSmallIntegerField(
        "orders per pickup slot", default=6, validators=[MinValueValidator(1), MaxValueValidator(MAX_ORDERS_PER_SLOT)],
        help_text=f"How many orders the kitchen takes for each {PICKUP_SLOT_MINUTES}-minute pickup slot.",
    )  # fmt: skip
    last_order_minutes = models.PositiveSmallIntegerField(
        "last pickup before closing", default=15, validators=[MaxValueValidator(MAX_PICKUP_LEAD_MINUTES)],
        help_text="Minutes before a service period closes after which no pickup is offered.",
    )  # fmt: skip
    order_webhook_url = models.URLField(
        "order webhook URL", max_length=MAX_WEBHOOK_URL_LENGTH, blank=True, validators=[validate_webhook_url],
        help_text="Each order event (placed, accepted, ready, collected, cancelled, rejected) and each table booking "
        "event (made, changed, moved, cancelled, seated, no-show, completed) is sent here as a signed POST, e.g. to a "
        "till (POS) bridge or an SMS service; https:// only. Empty: none is sent.",
    )  # fmt: skip
    order_webhook_secret = models.CharField(
        "order webhook signing secret", max_length=100, default=new_webhook_secret, editable=False,
        help_text="Give it to whoever runs the receiver: it checks each delivery with it (Standard Webhooks).",
    )  # fmt: skip
    # --- Table reservations (reservations/) ---
    takes_reservations = models.BooleanField(
        "takes table reservations", default=False, help_text="The agent books tables for this restaurant."
    )
    max_party_size = models.PositiveSmallIntegerField(
        "largest party booked", default=8, validators=[MinValueValidator(1), MaxValueValidator(MAX_PARTY_SIZE)],
        help_text="A larger party is asked to talk to the staff (on the phone, offered the transfer).",
    )  # fmt: skip
    booking_horizon_days = models.PositiveSmallIntegerField(
        "booking horizon", default=60, validators=[MinValueValidator(1), MaxValueValidator(MAX_BOOKING_HORIZON_DAYS)],
        help_text="How many days ahead a table may be booked.",
    )  # fmt: skip
    booking_notice_minutes = models.PositiveSmallIntegerField(
        "booking notice", default=60, validators=[MaxValueValidator(MAX_BOOKING_MINUTES)],
        help_text="Minutes ahead a booking must be made: the earliest table is this long from now.",
    )  # fmt: skip
    slot_minutes = models.PositiveSmallIntegerField(
        "booking start times every", default=15, choices=[(m, f"{m} minutes") for m in RESERVATION_SLOT_MINUTES],
        help_text="Tables are booked from times on this grid of the local clock (19:00, 19:15...).",
    )  # fmt: skip
    dining_minutes = models.PositiveSmallIntegerField(
        "table held for", default=90, validators=[MinValueValidator(15), MaxValueValidator(MAX_BOOKING_MINUTES)],
        help_text=f"Minutes a booking holds its table, for a party of up to {SMALL_PARTY}.",
    )  # fmt: skip
    dining_minutes_large = models.PositiveSmallIntegerField(
        "table held for a larger party", default=120,
        validators=[MinValueValidator(15), MaxValueValidator(MAX_BOOKING_MINUTES)],
        help_text=f"Minutes a booking holds its table, for a party of more than {SMALL_PARTY}.",
    )  # fmt: skip
    last_seating_minutes = models.PositiveSmallIntegerField(
        "last seating before closing", default=60, validators=[MaxValueValidator(MAX_BOOKING_MINUTES)],
        help_text="Minutes before a service period closes after which no table is booked.",
    )  # fmt: skip
    book_feed_token = models.CharField(
        "reservation calendar key", max_length=64, default=new_book_feed_token, editable=False,
        help_text="The secret in the address of the restaurant's reservation book as a calendar feed (reservations' "
        "admin shows the address and makes a new one, after which the old address no longer works).",
    )  # fmt: skip
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="restaurants",
        blank=True,
        help_text='Logins that see and edit this restaurant in admin; they also need staff status and the '
        '"Restaurant staff" group.',
    )

    objects = RestaurantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="restaurant_slug_unique"),
            models.CheckConstraint(
                condition=Q(max_concurrent_calls__gte=1, max_concurrent_calls__lte=MAX_CONCURRENT_CALLS),
                name="restaurant_max_concurrent_calls_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    pickup_lead_minutes__lte=MAX_PICKUP_LEAD_MINUTES, last_order_minutes__lte=MAX_PICKUP_LEAD_MINUTES
                ),
                name="restaurant_pickup_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(orders_per_slot__gte=1, orders_per_slot__lte=MAX_ORDERS_PER_SLOT),
                name="restaurant_orders_per_slot_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    max_party_size__gte=1, max_party_size__lte=MAX_PARTY_SIZE, booking_horizon_days__gte=1,
                    booking_horizon_days__lte=MAX_BOOKING_HORIZON_DAYS, booking_notice_minutes__lte=MAX_BOOKING_MINUTES,
                    slot_minutes__in=RESERVATION_SLOT_MINUTES, dining_minutes__gte=15,
                    dining_minutes__lte=MAX_BOOKING_MINUTES, dining_minutes_large__gte=15,
                    dining_minutes_large__lte=MAX_BOOKING_MINUTES, last_seating_minutes__lte=MAX_BOOKING_MINUTES,
                ),
                name="restaurant_reservation_settings_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def dining_time(self, party_size: int) -> dt.timedelta:
        """How long a booking for `party_size` holds its table (dining_minutes, or dining_minutes_large above
        SMALL_PARTY people): real elapsed time, so a dinner across a DST change keeps its length."""
        return dt.timedelta(minutes=self.dining_minutes if party_size <= SMALL_PARTY else self.dining_minutes_large)

    def clean(self) -> None:
        if self.currency:
            self.currency = self.currency.upper()
        if self.country:
            self.country = self.country.upper()

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def get_absolute_url(self) -> str:
        """The restaurant's page for diners, "/r/<slug>/" (also admin's "View on site")."""
        return _page_url(self.slug)

    @property
    def spoken_greeting(self) -> str:
        """What the agent says first: the staff's greeting, else DEFAULT_GREETING with the name."""
        return self.greeting or DEFAULT_GREETING.format(name=self.name)

    @property
    def address(self) -> PostalAddress:
        """The postal address: str() for screens, `.spoken` for the agent, `.street` / `.place` for lines."""
        return PostalAddress(
            street=self.street_address,
            place=" ".join(p for p in (self.postal_code, self.city) if p),
            country=self.country,
            country_name=_country_name(self.country),
        )

    @property
    def phone_for_people(self) -> str:
        """The restaurant's phone number as people write it: national format in its own country ("06 1234
        5678"), international elsewhere; phones.for_people says how."""
        return phones.for_people(self.phone, self.country)

    @property
    def phone_spoken(self) -> str:
        """The phone number as the agent says it, digit group by digit group (phones.spoken)."""
        return phones.spoken(self.phone, self.country)

    def local_now(self) -> dt.datetime:
        """The current moment in the restaurant's time zone."""
        return timezone.now().astimezone(self.tz)

    def format_price(self, amount: Decimal) -> str:
        """A price as the restaurant's locale writes it: "€12.50", "12,50 €", "¥1,200"."""
        return format_currency(amount, self.currency, locale=hours.babel_locale(self.language))

    # --- Opening hours: one builder (schedule), two queries, none after RestaurantQuerySet.with_schedule ---
    # (ServicePeriod.as_period and SpecialDay.as_special_hours turn rows into the hours module's terms.)

    def weekly_periods(self) -> dict[int, list[hours.Period]]:
        """Weekday (0 = Monday) -> service periods, earliest first. One query, none when loaded by with_schedule."""
        if (loaded := getattr(self, "loaded_hours", None)) is not None:
            return {day: list(periods) for day, periods in loaded.weekly.items()}
        weekly: dict[int, list[hours.Period]] = {d: [] for d in range(7)}
        for p in self.service_periods.order_by("opens"):
            weekly[p.weekday].append(p.as_period())
        return weekly

    def schedule(self, first: dt.date, days: int) -> hours.Schedule:
        """The weekly service periods plus the special days from local date `first` for `days` days. Two
        queries; none for the days with_schedule loaded (it loads those around its moment)."""
        last = first + dt.timedelta(days=days)
        loaded = getattr(self, "loaded_hours", None)
        if loaded is not None and loaded.first <= first <= last <= loaded.last:
            special = {d: sd for d, sd in loaded.special.items() if first <= d < last}
        else:
            rows = self.special_days.filter(date__gte=first, date__lt=last)
            special = {sd.date: sd.as_special_hours() for sd in rows}
        return hours.Schedule(self.tz, self.weekly_periods(), special)

    def schedule_around(self, when: dt.datetime | None = None) -> hours.Schedule:
        """The schedule that answers everything about `when` (aware; default now): from the local day before
        (its overnight period) to LOOKAHEAD_DAYS ahead (the next opening). Two queries, none after
        with_schedule(when)."""
        local_day = (when or timezone.now()).astimezone(self.tz).date()
        return self.schedule(local_day - dt.timedelta(days=SCHEDULE_DAYS_BEFORE), SCHEDULE_DAYS)

    def opening_status(self, when: dt.datetime | None = None) -> hours.OpeningStatus:
        """Open or closed at aware `when` (default now), closing time or next opening, in local time.

        Raises ValueError for a naive datetime. Two queries, none after with_schedule(when).
        """
        when = when or timezone.now()
        return self.schedule_around(when).status_at(when)

    def is_open_at(self, when: dt.datetime) -> bool:
        """True if the restaurant serves at aware `when`. Raises ValueError if naive. Two queries."""
        return self.opening_status(when).is_open

    def badge(self, when: dt.datetime | None = None) -> hours.Badge:
        """Open or closed at `when` (default now) as the pages show it. Two queries, none after
        with_schedule(when)."""
        status = self.opening_status(when)
        return hours.Badge(status.is_open, hours.say_status(status, self.language), status.note)

    def status_text(self, when: dt.datetime | None = None) -> str:
        """The badge's text (hours.say_status): "Open now, until 22:00" / "Closed, opens Tuesday 11:30"."""
        return self.badge(when).text

    # --- Menu ---

    def menu_items(self) -> MenuItemQuerySet:
        return MenuItem.objects.filter(section__restaurant=self)

    def menu(self, *, section: MenuSection | None = None, dietary_need: str | None = None) -> MenuItemQuerySet:
        """Menu items in menu order, optionally one section and/or one dietary need (a DietaryTag code)."""
        items = self.menu_items().select_related("section").prefetch_related("dietary_tags", "allergens")
        if section is not None:
            items = items.filter(section=section)
        if dietary_need:
            items = items.suitable_for(dietary_need)
        return items.order_by("section__position", "section__id", "position", "id")

    def find_section(self, name: str) -> MenuSection | None:
        """The menu section whose name matches `name` best (case-insensitive, tolerant of small slips)."""
        sections = list(self.menu_sections.all())
        return _best_match(name, sections, key=lambda s: s.name)

    def find_menu_items(self, name: str, limit: int = 3) -> list[MenuItem]:
        """Menu items whose name matches `name`: exact, then containing it, then close spellings."""
        items = list(self.menu().order_by("name"))
        needle = fold_name(name)
        if not needle:
            return []
        exact = [i for i in items if fold_name(i.name) == needle]
        if exact:
            return exact[:limit]
        containing = [i for i in items if needle in fold_name(i.name)]
        if containing:
            return containing[:limit]
        names = {fold_name(i.name): i for i in items}
        close = difflib.get_close_matches(needle, list(names), n=limit, cutoff=0.6)
        return [names[c] for c in close]


def one_line(text) -> str:
    """What a diner, the model or staff gave as a name, a note or an answer, on one line: characters that do not
    print (line breaks, tabs, controls) read as spaces, and spaces collapsed, so "no\nonions" is "no onions" and a
    line break cannot start a line of its own where the text is shown or sent."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def fold_name(text: str) -> str:
    """A name as said, for comparing: case, accents, punctuation and spacing aside ("suppli" is "Supplì"). The
    menu search and the order rules (orders.services) match dishes and choices with it."""
    text = unicodedata.normalize("NFKD", str(text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w ]+", " ", text).split())


def _best_match(name, candidates, *, key):
    needle = fold_name(name)
    by_name = {fold_name(key(c)): c for c in candidates}
    if needle in by_name:
        return by_name[needle]
    for folded, c in by_name.items():
        if needle and (needle in folded or folded in needle):
            return c
    close = difflib.get_close_matches(needle, list(by_name), n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


class Weekday(models.IntegerChoices):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class ServicePeriod(models.Model):
    """A weekly opening: on `weekday`, from `opens` to `closes` (local). Closing at or before opening runs
    past midnight into the next day (equal times: 24 hours)."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="service_periods")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField(help_text="Local time, e.g. 11:30.")
    closes = models.TimeField(help_text="Local time; at or before opening means after midnight, e.g. 02:00.")
    label = models.CharField(max_length=40, blank=True, help_text='Optional, e.g. "Lunch".')

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="service_period_weekday_range"),
            models.UniqueConstraint(fields=["restaurant", "weekday", "opens"], name="service_period_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def as_period(self) -> hours.Period:
        return hours.Period(self.opens, self.closes, self.label)

    def clean(self) -> None:
        if self.restaurant_id is None or self.weekday is None or self.opens is None or self.closes is None:
            return
        if getattr(self, "overlap_checked_by_formset", False):
            return  # the admin's formset checks all rows on the page together
        mine = (self.weekday, self.opens, self.closes)
        for other in self.restaurant.service_periods.exclude(pk=self.pk):
            if hours.first_overlap([mine, (other.weekday, other.opens, other.closes)]):
                raise ValidationError(f"This period overlaps {other}.")


class SpecialDay(models.Model):
    """One date that replaces the weekly hours: closed, or open `opens`-`closes` (local) that day."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="special_days")
    date = models.DateField()
    is_closed = models.BooleanField("closed all day", default=True)
    opens = models.TimeField(null=True, blank=True, help_text="Only when not closed.")
    closes = models.TimeField(null=True, blank=True, help_text="Only when not closed; before opening = past midnight.")
    note = models.CharField(max_length=120, blank=True, help_text='Said to diners, e.g. "Christmas Day".')

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "date"], name="special_day_unique_date"),
            models.CheckConstraint(
                condition=Q(is_closed=True, opens__isnull=True, closes__isnull=True)
                | Q(is_closed=False, opens__isnull=False, closes__isnull=False),
                name="special_day_closed_or_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {'closed' if self.is_closed else f'{self.opens:%H:%M}-{self.closes:%H:%M}'}"

    def as_special_hours(self) -> hours.SpecialHours:
        """This date's hours for a Schedule: no period when closed, else opens-closes; the note said with them."""
        periods = () if self.is_closed else (hours.Period(self.opens, self.closes),)
        return hours.SpecialHours(self.date, periods, self.note)

    def clean(self) -> None:
        if self.is_closed and (self.opens or self.closes):
            raise ValidationError("A day marked closed has no opening hours: clear them or untick 'closed'.")
        if not self.is_closed and not (self.opens and self.closes):
            raise ValidationError("Give both opening and closing times, or tick 'closed all day'.")


class MenuSection(models.Model):
    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="menu_sections")
    name = models.CharField(max_length=80, help_text='e.g. "Starters".')
    position = models.PositiveSmallIntegerField(default=0, help_text="Smaller comes first.")

    class Meta:
        ordering = ["restaurant", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "name"], name="menu_section_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.restaurant.name}: {self.name}"


class MenuItemQuerySet(models.QuerySet):
    def available(self) -> MenuItemQuerySet:
        return self.filter(is_available=True)

    def suitable_for(self, dietary_need: str) -> MenuItemQuerySet:
        """Items tagged with `dietary_need` (a DietaryTag code) or a tag that implies it (vegan -> vegetarian)."""
        codes = {dietary_need} | DIETARY_ALSO_SATISFIED_BY.get(dietary_need, set())
        return self.filter(dietary_tags__code__in=codes).distinct()


class MenuItem(models.Model):
    section = models.ForeignKey(MenuSection, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    price = models.DecimalField(
        max_digits=9, decimal_places=2, validators=[MinValueValidator(0)], help_text="In the restaurant's currency."
    )
    is_available = models.BooleanField("available", default=True, help_text='Untick to "86" the dish.')
    dietary_tags = models.ManyToManyField(DietaryTag, blank=True)
    allergens = models.ManyToManyField(Allergen, blank=True, help_text="Every allergen group the dish contains.")
    allergens_confirmed = models.BooleanField(
        "allergens confirmed",
        default=False,
        help_text="Tick only when the kitchen has checked the allergen list. Unconfirmed: diners are told to ask.",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Smaller comes first within the section.")

    objects = MenuItemQuerySet.as_manager()

    class Meta:
        ordering = ["section", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "name"], name="menu_item_unique_name"),
            models.CheckConstraint(condition=Q(price__gte=0), name="menu_item_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def restaurant(self) -> Restaurant:
        return self.section.restaurant


# --- Modifier groups and modifiers: the choices a dish is ordered with -----------------------------------


class ModifierGroupQuerySet(models.QuerySet):
    def unsatisfiable(self) -> ModifierGroupQuerySet:
        """Required groups with fewer available ("86"ed ones aside) modifiers than their minimum: their dish
        cannot be ordered until a choice is back on. Each carries `available_count`. One query."""
        available = Count("modifiers", filter=Q(modifiers__is_available=True))
        return self.annotate(available_count=available).filter(available_count__lt=F("min_choices"))


class ModifierGroup(models.Model):
    """A choice on a dish ("Size", "Choose your salsa", "Extras"): a diner picks from `min_choices` to
    `max_choices` of its modifiers (a required single choice is 1/1; optional extras up to three are 0/3)."""

    menu_item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="modifier_groups")
    name = models.CharField(max_length=80, help_text='e.g. "Size" or "Extras".')
    min_choices = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_MODIFIER_CHOICES)], help_text="0: optional; 1 or more: required."
    )
    max_choices = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_MODIFIER_CHOICES)],
        help_text="At most this many of the group's modifiers on one dish.",
    )  # fmt: skip
    position = models.PositiveSmallIntegerField(default=0, help_text="Smaller is asked first.")

    objects = ModifierGroupQuerySet.as_manager()

    class Meta:
        ordering = ["menu_item", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["menu_item", "name"], name="modifier_group_unique_name"),
            models.CheckConstraint(
                condition=Q(
                    max_choices__gte=1, max_choices__lte=MAX_MODIFIER_CHOICES, min_choices__lte=F("max_choices")
                ),
                name="modifier_group_choices_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.menu_item.name}: {self.name}"

    def clean(self) -> None:
        if self.min_choices is not None and self.max_choices is not None and self.min_choices > self.max_choices:
            raise ValidationError(
                {"min_choices": f"The minimum ({self.min_choices}) cannot be above the maximum ({self.max_choices})."}
            )

    def unique_error_message(self, model_class, unique_check):
        if tuple(unique_check) == ("menu_item", "name"):
            message = f"This dish already has a modifier group named “{self.name}”."
            return ValidationError(message, code="unique_together")
        return super().unique_error_message(model_class, unique_check)

    @property
    def is_required(self) -> bool:
        return self.min_choices > 0

    def rule_text(self) -> str:
        """What a diner must pick, as staff read it: "required, choose 1", "optional, up to 3", "required,
        choose 1 to 2"."""
        if not self.is_required:
            return f"optional, up to {self.max_choices}"
        if self.min_choices == self.max_choices:
            return f"required, choose {self.min_choices}"
        return f"required, choose {self.min_choices} to {self.max_choices}"


class ModifierQuerySet(models.QuerySet):
    def available(self) -> ModifierQuerySet:
        return self.filter(is_available=True)


class Modifier(models.Model):
    """One option of a modifier group ("Large", "Salsa verde", "Extra cheese"), changing the dish's price by
    `price_delta` in the restaurant's currency (0 or negative too)."""

    group = models.ForeignKey(ModifierGroup, on_delete=models.CASCADE, related_name="modifiers")
    name = models.CharField(max_length=80)
    price_delta = models.DecimalField(
        "price change", max_digits=9, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(-MAX_PRICE_DELTA), MaxValueValidator(MAX_PRICE_DELTA)],
        help_text="Added to the dish's price, in the restaurant's currency; 0 or negative are fine.",
    )  # fmt: skip
    is_available = models.BooleanField("available", default=True, help_text='Untick to "86" this choice.')
    position = models.PositiveSmallIntegerField(default=0, help_text="Smaller comes first.")

    objects = ModifierQuerySet.as_manager()

    class Meta:
        ordering = ["group", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="modifier_unique_name"),
            models.CheckConstraint(
                condition=Q(price_delta__gte=-MAX_PRICE_DELTA, price_delta__lte=MAX_PRICE_DELTA),
                name="modifier_price_delta_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A choice may make a dish cheaper ("Small"), never free of charge plus change.
        if self.group_id is None or self.price_delta is None or self.price_delta >= 0:
            return
        dish = self.group.menu_item
        if dish.price + self.price_delta < 0:
            price, cut = (dish.section.restaurant.format_price(p) for p in (dish.price, self.price_delta))
            raise ValidationError(
                {"price_delta": f"{dish.name} costs {price}: a price change of {cut} would make it cost less than nothing."}
            )

    def price_delta_text(self) -> str:
        """The price change as the restaurant writes prices, signed: "+€2.00", "-€1.50"; "" for none. Costs the
        restaurant's queries unless loaded (select_related("group__menu_item__section__restaurant"))."""
        if not self.price_delta:
            return ""
        return ("+" if self.price_delta > 0 else "") + self.restaurant.format_price(self.price_delta)

    def unique_error_message(self, model_class, unique_check):
        if tuple(unique_check) == ("group", "name"):
            message = f"This group already has a modifier named “{self.name}”."
            return ValidationError(message, code="unique_together")
        return super().unique_error_message(model_class, unique_check)

    @cached_property
    def restaurant(self) -> Restaurant:
        return self.group.menu_item.section.restaurant


# --- Phone lines ------------------------------------------------------------------------------------------


class PhoneLineQuerySet(models.QuerySet):
    def live(self) -> PhoneLineQuerySet:
        """The lines callers should reach the agent on: active lines of active restaurants."""
        return self.filter(is_active=True, restaurant__is_active=True)


class PhoneLine(models.Model):
    """A phone number callers dial to reach a restaurant's agent.

    The restaurant's SIP provider sends calls to the number to LiveKit; `manage.py sync_sip` (and saving the line
    in admin) gives each live line a LiveKit SIP dispatch rule that puts the caller in a new room with the agent.
    """

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="phone_lines")
    number = PhoneNumberField(
        error_messages={
            "invalid": PHONE_INVALID,
            "unique": "This number is already a phone line, here or at another restaurant: each number reaches "
            "one restaurant.",
        },
        help_text="The number callers dial, as your SIP provider delivers it to LiveKit, e.g. +1 510 555 0100.",
    )
    transfer_number = PhoneNumberField(
        blank=True,
        error_messages={"invalid": PHONE_INVALID},
        help_text="A person at the restaurant the agent may put callers through to. Empty: no transfers.",
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive: calls to the number no longer reach the agent."
    )

    objects = PhoneLineQuerySet.as_manager()

    class Meta:
        ordering = ["restaurant", "number"]
        constraints = [models.UniqueConstraint(fields=["number"], name="phone_line_number_unique")]

    def __str__(self) -> str:
        return str(self.number)

    def clean(self) -> None:
        if self.number and self.transfer_number and self.number == self.transfer_number:
            raise ValidationError({"transfer_number": "Put callers through to another number than the line's own."})


# --- House facts ------------------------------------------------------------------------------------------

# The longest question and answer staff may write (characters): the agent reads whole facts, so their size is what
# a turn costs (agent_worker.turn_facts); a question is as long as an unanswered question may be.
MAX_FACT_QUESTION_LENGTH = 300
MAX_FACT_ANSWER_LENGTH = 500
# The most active house facts one restaurant may have: the agent's search reads them all (agent_worker.lookups).
MAX_ACTIVE_HOUSE_FACTS = 500


class HouseFactQuerySet(models.QuerySet):
    def active(self) -> HouseFactQuerySet:
        return self.filter(is_active=True)


class HouseFact(models.Model):
    """Something the staff want the agent to answer, in their words: "Is there parking?" -> "There is no car park;
    the NCP on Baron Street is a five-minute walk." The agent reads a restaurant's active facts at each of the
    diner's questions (agent_worker.turn_facts), so an edit is heard on the next question; it answers from a fact
    only what the fact says. `source` is the unanswered question it answered ("Answer it" in admin), if any.
    """

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="house_facts")
    question = models.CharField(
        max_length=MAX_FACT_QUESTION_LENGTH,
        help_text='The question as diners ask it, e.g. "Is there parking?". One fact per question.',
    )
    answer = models.CharField(
        max_length=MAX_FACT_ANSWER_LENGTH,
        help_text=f"What the agent may say, at most {MAX_FACT_ANSWER_LENGTH} characters. It says this and nothing "
        "more: write everything a diner should hear (where, when, how much, any condition).",
    )
    is_active = models.BooleanField("active", default=True, help_text="Inactive: the agent no longer uses it.")
    source = models.ForeignKey(
        "dispatch.UnansweredQuestion", on_delete=models.SET_NULL, null=True, blank=True, related_name="house_facts",
        help_text="The diner's question this fact answered, when it was made with “Answer it”.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = HouseFactQuerySet.as_manager()

    class Meta:
        ordering = ["restaurant", "question"]
        constraints = [
            models.UniqueConstraint(
                Lower("question"), "restaurant", name="house_fact_question_unique",
                violation_error_message="This restaurant already has a house fact for this question: edit that one.",
            ),
            models.CheckConstraint(condition=~Q(question="") & ~Q(answer=""), name="house_fact_not_empty"),
            # varchar's limit is not enforced by SQLite: the prompt's size depends on this one.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("answer"), MAX_FACT_ANSWER_LENGTH),
                name="house_fact_answer_length",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.question

    def clean(self) -> None:
        """At most MAX_ACTIVE_HOUSE_FACTS active facts per restaurant. One query."""
        if not self.is_active or self.restaurant_id is None:
            return
        others = HouseFact.objects.active().filter(restaurant_id=self.restaurant_id).exclude(pk=self.pk)
        if others.count() >= MAX_ACTIVE_HOUSE_FACTS:
            raise ValidationError(
                f"A restaurant has at most {MAX_ACTIVE_HOUSE_FACTS} active house facts: make one inactive first."
            )
