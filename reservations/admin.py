"""The reservation book in admin: a restaurant's tables (staff add, change and delete their own, here and on the
restaurant's page), its reservations (read-only, with filters by restaurant, local day, status and channel, and
each one's webhook deliveries: the floor's steps are the day view's, /staff/reservations/), and on the
restaurant's page the secret address of its book as a calendar feed, with a button that makes a new one. Scoped
like every admin (restaurants.admin_base).

The restaurant's page is restaurants.admin.RestaurantAdmin with the tables and the feed added: registered here in
its place, so that restaurants imports nothing of reservations' (DESIGN.md: the arrows point one way).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from orders.admin import WebhookDeliveryInline
from restaurants.admin import RestaurantAdmin as BaseRestaurantAdmin
from restaurants.admin_base import LocalDayFilter, RestaurantScopedAdmin, one_click_button, one_click_view
from restaurants.hours import wall_clock
from restaurants.models import Restaurant, new_book_feed_token

from .models import Reservation, Table

# The fieldset of the restaurant's page that shows the calendar feed.
RESERVATION_FIELDSET = "Table reservations"


class TableInline(RestaurantScopedAdmin, admin.TabularInline):
    model = Table
    fields = ["name", "min_seats", "max_seats", "is_active"]
    extra = 0


@admin.register(Table)
class TableAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "restaurant", "seats", "is_active"]
    list_filter = ["restaurant", "is_active"]
    list_editable = ["is_active"]
    list_select_related = ["restaurant"]
    search_fields = ["name", "restaurant__name"]
    fields = ["restaurant", "name", "min_seats", "max_seats", "is_active"]

    @admin.display(description="Seats", ordering="max_seats")
    def seats(self, table: Table) -> str:
        return table.seats_text


class ReservationDayFilter(LocalDayFilter):
    """The local date a reservation starts on, in its restaurant's time zone, from yesterday to a week ahead. (The
    day view keeps a service's bookings past midnight on the evening's book; here a 00:30 booking is the next
    day's.)"""

    OFFSETS = {**LocalDayFilter.OFFSETS, **{f"in-{n}-days": n for n in range(2, 7)}}

    def on_day(self, day: dt.date, zone: zoneinfo.ZoneInfo) -> Q:
        after = day + dt.timedelta(days=1)
        return Q(starts_at__gte=wall_clock(day, dt.time(0), zone), starts_at__lt=wall_clock(after, dt.time(0), zone))


@admin.register(Reservation)
class ReservationAdmin(RestaurantScopedAdmin, admin.ModelAdmin):
    """Read-only: reservations are made by the agent (and walk-ins by staff), and moved on on the day view. Its page
    lists the webhook deliveries of its events (orders.webhooks sends booking events too)."""

    list_display = ["guest_name", "code", "restaurant", "table", "party_size", "starts", "status", "channel"]
    list_filter = ["restaurant", ReservationDayFilter, "status", "channel"]
    list_select_related = ["restaurant", "table"]
    search_fields = ["guest_name", "=code", "guest_phone"]
    ordering = ["-starts_at"]
    fields = [
        "restaurant", "table", "party_size", "starts", "ends", "status", "day_view", "guest_name", "guest_phone",
        "notes", "code", "channel", "call", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [WebhookDeliveryInline]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _local(self, reservation: Reservation, at: dt.datetime) -> str:
        return f"{at.astimezone(reservation.restaurant.tz):%a %d %b %Y %H:%M}"

    @admin.display(description="Starts (local time)", ordering="starts_at")
    def starts(self, reservation: Reservation) -> str:
        return self._local(reservation, reservation.starts_at)

    @admin.display(description="Table free again (local time)")
    def ends(self, reservation: Reservation) -> str:
        return self._local(reservation, reservation.ends_at)

    @admin.display(description="Seat, cancel or move it")
    def day_view(self, reservation: Reservation) -> str:
        day = reservation.starts_at.astimezone(reservation.restaurant.tz).date()
        url = f"{reverse('staff-reservations')}?date={day.isoformat()}&restaurant={reservation.restaurant_id}"
        return format_html('<a href="{}">On the day view of {}</a>', url, f"{day:%a %d %b %Y}")


class RestaurantAdmin(BaseRestaurantAdmin):
    """The restaurant's page, with its tables and, among the reservation settings, its book's calendar feed: the
    address to subscribe to (copied with one click) and a button that makes a new one (the old one then answers
    404)."""

    inlines = [*BaseRestaurantAdmin.inlines, TableInline]
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "book_feed"]} if name == RESERVATION_FIELDSET else options)
        for name, options in BaseRestaurantAdmin.fieldsets
    ]

    class Media:
        js = ["js/admin_copy.js"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "book_feed"]

    def get_object(self, request, object_id, from_field=None):
        restaurant = super().get_object(request, object_id, from_field)
        if restaurant is not None:  # the feed's address is absolute; a display function is given no request
            restaurant.site_root = request.build_absolute_uri("/").removesuffix("/")
        return restaurant

    @admin.display(description="Calendar feed")
    def book_feed(self, restaurant: Restaurant) -> str:
        if restaurant.pk is None:
            return "Each restaurant gets one once saved."
        feed = reverse("reservations-calendar", args=[restaurant.pk, restaurant.book_feed_token])
        new = one_click_button(
            url=reverse("admin:restaurants_restaurant_book_feed", args=[restaurant.pk]), field="new_book_feed",
            wanted=True, label="Make a new address",
            aria_label="Make a new calendar feed address (the old one stops working)",
        )  # fmt: skip
        return format_html(
            '<input type="text" id="book-feed-url" readonly size="90" value="{}" '
            'aria-label="Calendar feed address"> <button type="button" class="button" data-copy="book-feed-url">Copy'
            '</button> {}<div class="help">Subscribe to this address in a calendar app (Google Calendar: Other '
            "calendars, From URL; Apple Calendar: File, New Calendar Subscription) to follow the book: each "
            "reservation from a week ago to the booking horizon. Anyone with the address can read the guests' names "
            "and phone numbers: keep it among staff, and make a new one when someone leaves.</div>",
            getattr(restaurant, "site_root", "") + feed, new,
        )  # fmt: skip

    def get_urls(self):
        view = self.admin_site.admin_view(self.new_book_feed_view)
        return [path("<int:pk>/book-feed/", view, name="restaurants_restaurant_book_feed"), *super().get_urls()]

    def new_book_feed_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST new_book_feed=1: a new calendar feed address for the restaurant, then back to its page."""

        def apply(request, rows, wanted: bool) -> str:
            restaurant = rows[0]
            if not wanted:
                return "The calendar feed's address is unchanged."
            restaurant.book_feed_token = new_book_feed_token()
            restaurant.save(update_fields=["book_feed_token"])
            self.log_change(request, restaurant, [{"changed": {"fields": ["Calendar feed address"]}}])
            return (
                f"{restaurant.name}'s calendar feed has a new address: the old one no longer works. Subscribe again "
                "with the new one."
            )

        changelist = reverse("admin:restaurants_restaurant_changelist")
        return one_click_view(self, request, pk, field="new_book_feed", apply=apply, changelist=changelist)


admin.site.unregister(Restaurant)
admin.site.register(Restaurant, RestaurantAdmin)
