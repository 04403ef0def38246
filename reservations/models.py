"""The reservation book: a restaurant's tables, and the reservations that hold them for a stretch of time.

A reservation holds one table from `starts_at` to `ends_at` (aware, UTC; said and shown in the restaurant's local
time) while it is live (booked or seated). No two live reservations of a table overlap: on PostgreSQL the
database itself refuses it (an exclusion constraint over the table and the time range, with btree_gist); on
SQLite, where there is no such constraint, bookings are serialised by the database's write lock (IMMEDIATE
transactions, config/settings.py) and reservations.services checks the overlap inside the transaction. Which
start times are possible is reservations.availability's; booking, changing and cancelling, reservations.services'.
"""

from __future__ import annotations

import secrets

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Func, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from phonenumber_field.modelfields import PhoneNumberField

from restaurants.models import MAX_PARTY_SIZE, Restaurant

MAX_TABLE_NAME_LENGTH = 40
MAX_SEATS = 40
MAX_GUEST_NAME_LENGTH = 80
MAX_NOTES_LENGTH = 300
# A reservation's code: 6 characters from an alphabet with no look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V),
# said aloud to the guest and asked for when they call back.
CODE_ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH = 6


def new_code() -> str:
    """A fresh reservation code, e.g. "K7MR4X" (23^6, about 148 million: guessing one is hopeless)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Table(models.Model):
    """A table of a restaurant's floor, for parties of `min_seats` to `max_seats`. An inactive table is not booked
    (its reservations stay)."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="tables")
    name = models.CharField(max_length=MAX_TABLE_NAME_LENGTH, help_text='As staff call it: "T4", "Window 2".')
    min_seats = models.PositiveSmallIntegerField(default=1, help_text="The smallest party this table is given to.")
    max_seats = models.PositiveSmallIntegerField(help_text="The largest party it seats.")
    is_active = models.BooleanField("active", default=True, help_text="Inactive tables are not booked.")

    class Meta:
        ordering = ["restaurant", "max_seats", "name"]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "name"], name="table_name_unique_per_restaurant"),
            models.CheckConstraint(
                condition=Q(min_seats__gte=1, max_seats__lte=MAX_SEATS, min_seats__lte=models.F("max_seats")),
                name="table_seats_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.seats_text})"

    def clean(self) -> None:
        """The seats' rule (the constraint table_seats_range) said on the admin's form. Raises ValidationError."""
        low, high = self.min_seats, self.max_seats
        if low is not None and low < 1:
            raise ValidationError({"min_seats": "A table is for a party of at least 1."})
        if high is not None and high > MAX_SEATS:
            raise ValidationError({"max_seats": f"A table seats at most {MAX_SEATS}: make two tables of a larger one."})
        if low is not None and high is not None and low > high:
            raise ValidationError({"min_seats": f"The smallest party cannot be more than the table seats ({high})."})

    @property
    def seats_text(self) -> str:
        """ "2 seats", "4-6 seats"."""
        if self.min_seats in (1, self.max_seats):
            return f"{self.max_seats} seat{'s' if self.max_seats != 1 else ''}"
        return f"{self.min_seats}-{self.max_seats} seats"


class ReservationStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    SEATED = "seated", "Seated"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class ReservationChannel(models.TextChoices):
    """Where a booking was made: on a call's channel (web or phone, dispatch.Call.Channel's values), or by staff
    on the floor (a walk-in)."""

    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    STAFF = "staff", "Staff (walk-in)"


# The statuses that hold the table (the exclusion constraint's condition).
LIVE = (ReservationStatus.BOOKED, ReservationStatus.SEATED)


class TsTzRange(Func):
    """PostgreSQL's tstzrange(start, end, '[)'): a reservation's time, its end excluded (a table freed at 21:00 can
    be booked from 21:00)."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that exists on PostgreSQL only: on another database its SQL is empty (so SQLite
    makes and remakes tables without it) and it validates nothing (the services check the overlap there)."""

    @staticmethod
    def _on_postgres(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def validate(self, model, instance, exclude=None, using="default"):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class Reservation(models.Model):
    """A table held for a party from `starts_at` to `ends_at`: booked by the agent on a call (web or phone) or by
    staff (a walk-in), seated, completed, cancelled or a no-show. `code` is said to the guest and finds the
    reservation again."""

    Status = ReservationStatus
    Channel = ReservationChannel
    LIVE = LIVE

    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="reservations")
    table = models.ForeignKey(Table, on_delete=models.PROTECT, related_name="reservations")
    party_size = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField(help_text="In UTC; shown in the restaurant's local time.")
    ends_at = models.DateTimeField(help_text="When the table is free again: the start plus the dining time.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    guest_name = models.CharField(max_length=MAX_GUEST_NAME_LENGTH)
    guest_phone = PhoneNumberField(blank=True, help_text="E.164; on a phone call, the caller's number by default.")
    notes = models.CharField(
        max_length=MAX_NOTES_LENGTH, blank=True, help_text="What the guest said: an occasion, a high chair, allergies."
    )
    code = models.CharField(max_length=CODE_LENGTH, default=new_code, editable=False)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    call = models.ForeignKey(
        "dispatch.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="reservations",
        help_text="The call the booking was made on (none for a walk-in); kept when the call's record is deleted.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "table__name"]
        constraints = [
            models.UniqueConstraint(fields=["restaurant", "code"], name="reservation_code_unique_per_restaurant"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="reservation_ends_after_start"),
            models.CheckConstraint(
                condition=Q(party_size__gte=1, party_size__lte=MAX_PARTY_SIZE), name="reservation_party_size_range"
            ),
            # SQLite does not hold a varchar to its length.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), MAX_NOTES_LENGTH), name="reservation_notes_length"
            ),
            PostgresExclusionConstraint(
                name="reservation_no_overlap_per_table",
                expressions=[
                    ("table", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE),
                violation_error_message="That table is already booked at that time.",
            ),
        ]
        indexes = [models.Index(fields=["restaurant", "starts_at"], name="reservation_day")]

    def __str__(self) -> str:
        return f"{self.guest_name}, {self.party_size} ({self.code})"
