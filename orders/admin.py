"""Orders in admin, read-only: staff see their restaurants' orders and lines as they were placed (the kitchen's
buttons live on the kitchen page). Scoped like every admin (restaurants.admin_base)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from restaurants.admin_base import RestaurantScopedAdmin
from restaurants.models import Restaurant

from .models import Order, OrderLine


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


class ServiceDayFilter(admin.SimpleListFilter):
    """The service day in each restaurant's own time zone ("today" in Rome is not today in Tokyo)."""

    title = "day"
    parameter_name = "day"
    OFFSETS = {"yesterday": -1, "today": 0, "tomorrow": 1}

    def lookups(self, request, model_admin):
        return [(key, key.capitalize()) for key in self.OFFSETS]

    def queryset(self, request, queryset):
        if self.value() not in self.OFFSETS:
            return queryset
        now, offset = timezone.now(), dt.timedelta(days=self.OFFSETS[self.value()])
        zones = Restaurant.objects.filter(pk__in=queryset.values("restaurant")).values_list("time_zone", flat=True)
        day_in = Q(pk__in=[])
        for zone in set(zones):
            local_day = now.astimezone(zoneinfo.ZoneInfo(zone)).date() + offset
            day_in |= Q(restaurant__time_zone=zone, service_date=local_day)
        return queryset.filter(day_in)


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
    inlines = [OrderLineInline]

    @admin.display(description="Pickup (local time)", ordering="pickup_at")
    def pickup(self, order: Order) -> str:
        if order.pickup_at is None:
            return "-"
        return f"{order.pickup_at.astimezone(order.restaurant.tz):%a %d %b %Y %H:%M}"

    @admin.display(description="Total", ordering="total")
    def total_text(self, order: Order) -> str:
        return order.restaurant.format_price(order.total)
