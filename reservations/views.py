"""The reservation book's staff pages: the day view, /staff/reservations/?date=YYYY-MM-DD, one timeline per restaurant
(a row per table, each reservation a block from its start to its end, in the restaurant's local time; which
reservations: reservations.feed), changing live over the page's websocket (reservations/routing.py), with the
floor's buttons (seated, no-show, completed, cancel, move to another table) and "Add walk-in"; and the book as a
calendar feed at a secret address per restaurant, for staff's own calendar apps.

Staff only, as the kitchen board (dispatch.staff.views.staff_required): anonymous users get the admin's login page,
logged-in users without staff status 403. Another restaurant's reservation, table or book answers as a missing one
does. Every answer of the buttons is JSON, as the kitchen's: 200 (201 for a walk-in) `{"reservation": <reservation
event's payload>}`, else `{"error": "<sentence>"}` with 400 (bad input), 404 (not of the user's restaurants) or 409
(refused by the book's rules, with the reservation as it now is when there is one).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from urllib.parse import urlencode

from django import forms
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django_ratelimit.core import get_usage

from dispatch.staff.views import staff_required
from restaurants.models import MAX_PARTY_SIZE, Restaurant

from .calendar import book_feed
from .events import ready_reservations, reservation_event
from .feed import DAYS_AHEAD, DAYS_BACK, DayForm, day_books
from .models import MAX_GUEST_NAME_LENGTH, Reservation, Table
from .services import BookingRefused, reservation_cancel, reservation_move, reservation_step, walk_in

logger = logging.getLogger("maitre.reservations")

# The calendar feed: from this many days back to the restaurant's booking horizon, at most MAX_FEED reservations,
# fetched at most FEED_RATE times per restaurant (calendar apps fetch every 15 minutes to a day; many staff may
# follow one book).
FEED_DAYS_BACK = 7
MAX_FEED = 3000
FEED_RATE = "120/h"


# --- The day view ---------------------------------------------------------------------------------------------


@require_safe
@staff_required
def day_view(request: HttpRequest) -> HttpResponse:
    """The book of `?date=` (default: today, the restaurant's local date) for the user's restaurants that have
    tables, or the one `?restaurant=<id>` names. A malformed or out-of-range date, or a malformed restaurant,
    answers 400 with the page saying why; another restaurant's book 404."""
    mine = Restaurant.objects.for_staff(request.user)
    form = DayForm(request.GET, restaurants=mine)
    if not form.is_valid():
        status = 404 if form.has_error(NON_FIELD_ERRORS, "missing") else 400
        return render(request, "staff/reservations.html", {"error": form.first_error}, status=status)
    day, today, chosen = (form.cleaned_data[k] for k in ("date", "today", "restaurants"))
    books = day_books(chosen, day)
    wanted = form.cleaned_data["restaurant"]
    keep = {"restaurant": wanted} if wanted else {}

    def day_url(other: dt.date) -> str:
        return "?" + urlencode({"date": other.isoformat(), **keep})

    first, last = today - dt.timedelta(days=DAYS_BACK), today + dt.timedelta(days=DAYS_AHEAD)
    context = {
        "day": day,
        "today": today,
        "first": first,
        "last": last,
        "previous_url": day_url(day - dt.timedelta(days=1)) if day > first else "",
        "next_url": day_url(day + dt.timedelta(days=1)) if day < last else "",
        "today_url": day_url(today) if day != today else "",
        "books": books,
        "payloads": [reservation for book in books for reservation in book.reservations],  # for the page's script
        "choices": mine.filter(tables__isnull=False).distinct().order_by("name").values_list("pk", "name"),
        "wanted": wanted,
        "walk_in_books": [book for book in books if book.is_today and any(t.is_active for t in book.tables)],
        "ws_path": "/ws/staff/reservations/?" + urlencode({"date": day.isoformat(), **keep}),
        "max_party": MAX_PARTY_SIZE,
        "max_name": MAX_GUEST_NAME_LENGTH,
    }
    return render(request, "staff/reservations.html", context)


# --- The floor's buttons ---------------------------------------------------------------------------------------


def _reservation_for(user, reservation_id: int) -> Reservation | None:
    """The reservation, if it is one of the restaurants `user` may see. One query."""
    mine = Restaurant.objects.for_staff(user)
    return Reservation.objects.select_related("restaurant").filter(pk=reservation_id, restaurant__in=mine).first()


def _payload(reservation: Reservation) -> dict:
    return reservation_event(ready_reservations().get(pk=reservation.pk))["reservation"]


def _first_error(form: forms.Form) -> JsonResponse:
    return JsonResponse({"error": next(iter(form.errors.values()))[0]}, status=400)


def _refused(refused: BookingRefused, reservation: Reservation | None = None) -> JsonResponse:
    answer = {"error": refused.sentence}
    if reservation is not None:
        answer["reservation"] = _payload(reservation)
    return JsonResponse(answer, status=409)


class StepForm(forms.Form):
    """A button on a booking: `to` is the status asked for."""

    to = forms.ChoiceField(
        choices=[(s, s) for s in ("seated", "no_show", "completed", "cancelled")],
        error_messages={"invalid_choice": "That is not a step staff can take on a booking.", "required": "Which step?"},
    )


@require_POST
@staff_required
def reservation_status(request: HttpRequest, reservation_id: int) -> JsonResponse:
    """Mark a reservation seated or a no-show (from booked), completed (from seated), or cancel it (booked; as
    staff, also once its time has begun): POST (with the CSRF token) `to` = "seated", "no_show", "completed" or
    "cancelled". One conditional update each (reservations.services.reservation_step, reservation_cancel): of two
    staff clicking at once, one wins, and the other hears 409 with the reservation as it now is."""
    reservation = _reservation_for(request.user, reservation_id)
    if reservation is None:
        return JsonResponse({"error": "There is no such booking."}, status=404)
    form = StepForm(request.POST)
    if not form.is_valid():
        return _first_error(form)
    to = form.cleaned_data["to"]
    try:
        if to == "cancelled":
            reservation = reservation_cancel(reservation=reservation, by_staff=True)
        else:
            reservation = reservation_step(reservation=reservation, to=to)
    except BookingRefused as refused:
        return _refused(refused, reservation)
    return JsonResponse({"reservation": _payload(reservation)})


class MoveForm(forms.Form):
    """Another table for a reservation: `table`, the id of one of its restaurant's tables."""

    table = forms.ModelChoiceField(
        queryset=Table.objects.none(),
        error_messages={"required": "Which table?", "invalid_choice": "There is no such table."},
    )

    def __init__(self, data, *, restaurant: Restaurant) -> None:
        super().__init__(data)
        self.fields["table"].queryset = Table.objects.filter(restaurant=restaurant).select_related("restaurant")


@require_POST
@staff_required
def reservation_table(request: HttpRequest, reservation_id: int) -> JsonResponse:
    """Move a live reservation (booked or seated) to another of its restaurant's tables, for the same time: POST
    `table` (its id). 409 when that table is inactive, too small for the party, or holds a live reservation that
    overlaps (the sentence names it), with the reservation as it is."""
    reservation = _reservation_for(request.user, reservation_id)
    if reservation is None:
        return JsonResponse({"error": "There is no such booking."}, status=404)
    form = MoveForm(request.POST, restaurant=reservation.restaurant)
    if not form.is_valid():
        return _first_error(form)
    try:
        reservation = reservation_move(reservation=reservation, table=form.cleaned_data["table"])
    except BookingRefused as refused:
        return _refused(refused, reservation)
    return JsonResponse({"reservation": _payload(reservation)})


class WalkInForm(forms.Form):
    """A walk-in party seated now: `table` (the id of one of the user's restaurants' tables), `party_size` (1 to
    MAX_PARTY_SIZE; the table must seat it) and `guest_name` (optional, at most MAX_GUEST_NAME_LENGTH
    characters; "Walk-in" when empty)."""

    table = forms.ModelChoiceField(
        queryset=Table.objects.none(),
        error_messages={"required": "Which table?", "invalid_choice": "There is no such table."},
    )
    party_size = forms.IntegerField(
        min_value=1, max_value=MAX_PARTY_SIZE,
        error_messages={
            key: f"How many people? A number from 1 to {MAX_PARTY_SIZE}."
            for key in ("required", "invalid", "min_value", "max_value")
        },
    )  # fmt: skip
    guest_name = forms.CharField(
        required=False, max_length=MAX_GUEST_NAME_LENGTH,
        error_messages={"max_length": f"That name is too long: at most {MAX_GUEST_NAME_LENGTH} characters."},
    )  # fmt: skip

    def __init__(self, data, *, restaurants) -> None:
        super().__init__(data)
        self.fields["table"].queryset = Table.objects.filter(restaurant__in=restaurants).select_related("restaurant")


@require_POST
@staff_required
def walk_in_add(request: HttpRequest) -> JsonResponse:
    """Seat a walk-in party now (reservations.services.walk_in: seated at once, for the restaurant's dining
    time): POST `table`, `party_size` and `guest_name`. 201 with the reservation; 409 when the table is inactive,
    too small, or booked during that time."""
    form = WalkInForm(request.POST, restaurants=Restaurant.objects.for_staff(request.user))
    if not form.is_valid():
        return _first_error(form)
    data = form.cleaned_data
    try:
        reservation = walk_in(table=data["table"], party_size=data["party_size"], guest_name=data["guest_name"])
    except BookingRefused as refused:
        return _refused(refused)
    return JsonResponse({"reservation": _payload(reservation)}, status=201)


# --- The calendar feed -----------------------------------------------------------------------------------------


@require_safe
def book_calendar(request: HttpRequest, restaurant_id: str, token: str) -> HttpResponse:
    """The restaurant's book as an iCalendar feed (reservations.calendar.book_feed, text/calendar): the
    reservations from FEED_DAYS_BACK days ago to its booking horizon (at most MAX_FEED, earliest first), cancelled
    ones marked so. No login: the address's `token` (Restaurant.book_feed_token) is the key, and a wrong one answers
    404 as a missing restaurant does. 429 with Retry-After (seconds) above FEED_RATE fetches of one restaurant's
    feed."""
    restaurant = Restaurant.objects.filter(pk=int(restaurant_id)).first()
    if restaurant is None or not secrets.compare_digest(token.encode(), restaurant.book_feed_token.encode()):
        return HttpResponse("There is no such calendar.", status=404, content_type="text/plain; charset=utf-8")
    if wait := _feed_wait(request, restaurant):
        response = HttpResponse(
            f"This calendar was fetched too often: try again in {wait} seconds.", status=429,
            content_type="text/plain; charset=utf-8",
        )  # fmt: skip
        response["Retry-After"] = str(wait)
        return response
    now = timezone.now()
    window = (now - dt.timedelta(days=FEED_DAYS_BACK), now + dt.timedelta(days=restaurant.booking_horizon_days + 1))
    reservations = ready_reservations().filter(restaurant=restaurant, starts_at__range=window)
    body = book_feed(f"{restaurant.name}: reservations", reservations.order_by("starts_at", "pk")[:MAX_FEED])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{restaurant.slug}-reservations.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _feed_wait(request: HttpRequest, restaurant: Restaurant) -> int:
    """Count one fetch of the restaurant's feed: 0 within FEED_RATE, else the seconds until the next is allowed.
    A cache that cannot be reached skips the count (one warning line)."""
    try:
        usage = get_usage(
            request, group="book-feed", key=lambda group, request: str(restaurant.pk), rate=FEED_RATE, increment=True
        )
    except Exception as exc:  # noqa: BLE001  (any cache backend's failure: Redis, database)
        logger.warning("calendar feed's rate not checked, the cache failed: %r", exc)
        return 0
    return max(usage["time_left"] + 1, 1) if usage and usage["should_limit"] else 0
