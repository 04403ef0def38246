"""Orders in admin, read-only: staff see their restaurants' orders and lines as they were placed (the kitchen's
buttons live on the kitchen page), and each webhook delivery, of an order event or of a booking event, with its
attempts (a delivery that gave up can be retried). `WebhookDeliveryInline` lists a subject's deliveries on the
order's page, and on the reservation's (reservations.admin puts it in its `inlines`). Scoped like every admin
(restaurants.admin_base)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from decimal import Decimal

from django.contrib import admin
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from restaurants.admin_base import LocalDayFilter, RestaurantScopedAdmin

from . import webhooks
from .models import Order, OrderLine, WebhookAttempt, WebhookDelivery


class ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False  # orders are taken by the agent's tools only

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnly, RestaurantScopedAdmin, admin.TabularInline):
    model = OrderLine
    restaurant_path = "order__restaurant"
    fields = ["quantity", "name", "chosen", "note", "unit_price", "line_total"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="Choices")
    def chosen(self, line: OrderLine) -> str:
        return ", ".join(f"{m['name']} ({m['price_delta']})" if Decimal(m["price_delta"]) else m["name"]
                         for m in line.modifiers)  # fmt: skip


class WebhookDeliveryInline(ReadOnly, RestaurantScopedAdmin, admin.TabularInline):
    """The deliveries of an order, or of a reservation: Django joins them to the page's object by the one foreign
    key to its model (`order` or `reservation`)."""

    model = WebhookDelivery
    restaurant_path = "restaurant"
    fields = ["event_type", "status", "attempt_count", "created_at", "delivered_at", "next_attempt_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


class ServiceDayFilter(LocalDayFilter):
    """The service day in each restaurant's own time zone ("today" in Rome is not today in Tokyo)."""

    def on_day(self, day: dt.date, zone: zoneinfo.ZoneInfo) -> Q:
        return Q(service_date=day)


@admin.register(Order)
class OrderAdmin(ReadOnly, RestaurantScopedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "restaurant", "status", "channel", "pickup", "customer_name", "total_text"]
    list_filter = ["restaurant", "status", ServiceDayFilter, "service_date", "channel"]
    list_select_related = ["restaurant"]
    search_fields = ["customer_name", "customer_phone", "=number"]
    date_hierarchy = "service_date"
    fields = [
        "restaurant", "status", "number", "service_date", "pickup", "channel", "call", "customer_name",
        "customer_phone", "total_text", "placed_at", "cancel_reason", "version", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [OrderLineInline, WebhookDeliveryInline]

    @admin.display(description="Pickup (local time)", ordering="pickup_at")
    def pickup(self, order: Order) -> str:
        if order.pickup_at is None:
            return "-"
        return f"{order.pickup_at.astimezone(order.restaurant.tz):%a %d %b %Y %H:%M}"

    @admin.display(description="Total", ordering="total")
    def total_text(self, order: Order) -> str:
        return order.restaurant.format_price(order.total)


class WebhookAttemptInline(ReadOnly, RestaurantScopedAdmin, admin.TabularInline):
    model = WebhookAttempt
    restaurant_path = "delivery__restaurant"
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly, RestaurantScopedAdmin, admin.ModelAdmin):
    """Each order or booking event sent (or being sent) to a restaurant's webhook, with every attempt."""

    list_display = [
        "event_type", "subject_link", "restaurant", "status", "attempt_count", "created_at", "next_attempt_at",
        "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "event_type", "restaurant"]
    list_select_related = ["restaurant", "order", "reservation"]
    search_fields = ["webhook_id", "=order__number", "=reservation__code"]
    fields = [
        "subject_link", "restaurant", "event_type", "status", "webhook_id", "url", "attempt_count", "created_at",
        "next_attempt_at", "delivered_at", "body",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["retry"]

    @admin.display(description="Order or booking")
    def subject_link(self, delivery: WebhookDelivery) -> str:
        """A link to the order's (or the reservation's) page; the reservation's name alone while reservations have
        no admin page."""
        if delivery.order_id is not None:
            view, subject = "admin:orders_order_change", delivery.order
        else:
            view, subject = "admin:reservations_reservation_change", delivery.reservation
        try:
            return format_html('<a href="{}">{}</a>', reverse(view, args=[subject.pk]), subject)
        except NoReverseMatch:
            return str(subject)

    @admin.display(description="Body (as sent)")
    def body(self, delivery: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False))

    # Whoever may see a delivery may have it sent again: it goes to their own restaurant's receiver.
    @admin.action(description="Retry selected deliveries that gave up (one more attempt each)", permissions=["view"])
    def retry(self, request, queryset) -> None:
        retried = webhooks.retry_given_up(queryset)
        if retried:
            noun = "delivery" if retried == 1 else "deliveries"
            self.message_user(request, f"{retried} given-up {noun} will be tried again within a few seconds.")
        else:
            self.message_user(request, "None of the selected deliveries had given up.", level="warning")
