"""Takeout orders: a draft built line by line on a call, then placed for a pickup slot the kitchen has room in.

Every name, price and choice on a line is a copy taken from the menu (restaurants.MenuItem, Modifier) and checked
again at placement, so a later menu edit never rewrites an order. Money is Decimal in the restaurant's currency
with 2 places, computed in code (orders.services); the rules live in orders.services and orders.pickup.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from dispatch.models import Call
from restaurants.models import MenuItem, Restaurant

MAX_QUANTITY = 20
MAX_NOTE_LENGTH = 140
MAX_NAME_LENGTH = 80
# The first number a restaurant gives each service day: three digits, said aloud ("one oh one").
FIRST_ORDER_NUMBER = 101
CENT = Decimal("0.01")


class OrderQuerySet(models.QuerySet):
    def holding_slots(self) -> OrderQuerySet:
        """Orders that take a place in their pickup slot: placed and not cancelled or rejected."""
        return self.filter(status__in=HOLDS_SLOT)


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft (being taken)"
    PLACED = "placed", "Placed"
    ACCEPTED = "accepted", "Accepted by the kitchen"
    READY = "ready", "Ready for pickup"
    COLLECTED = "collected", "Collected"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected by the kitchen"


# The statuses that hold a place in a pickup slot (a collected order used the kitchen's time in it too).
HOLDS_SLOT = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY, OrderStatus.COLLECTED)
# The statuses an order reaches only by being placed.
WAS_PLACED = (*HOLDS_SLOT, OrderStatus.REJECTED)


class Order(models.Model):
    """One takeout order. A draft (no number, no slot) until placed; `version` counts the draft's changes, so
    placing can insist on the version the diner heard read back."""

    Channel = Call.Channel  # an order comes in on a call's channel: web or phone
    Status = OrderStatus
    HOLDS_SLOT = HOLDS_SLOT

    restaurant = models.ForeignKey(Restaurant, on_delete=models.PROTECT, related_name="orders")
    call = models.ForeignKey(
        "dispatch.Call", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders",
        help_text="The call the order was taken on; kept when the call's record is deleted.",
    )  # fmt: skip
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.PositiveIntegerField(
        null=True, blank=True, help_text="Said to the diner at placement; unique per restaurant and service day."
    )
    service_date = models.DateField(
        "service day", null=True, blank=True,
        help_text="The local date of the service the pickup falls in: a pickup after midnight in a late service "
        "belongs to the day that service began.",
    )  # fmt: skip
    customer_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    customer_phone = PhoneNumberField(blank=True, help_text="E.164; on a phone call, the caller's number by default.")
    pickup_at = models.DateTimeField(null=True, blank=True, help_text="On the pickup grid, in UTC.")
    subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, help_text="ISO 4217, the restaurant's when the order was started.")
    placed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change to the draft.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["restaurant", "service_date", "number"], name="order_number_unique_per_day"
            ),
            models.CheckConstraint(
                condition=Q(placed_at__isnull=True)
                | Q(number__isnull=False, service_date__isnull=False, pickup_at__isnull=False),
                name="order_placed_has_number_and_pickup",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=WAS_PLACED) | Q(placed_at__isnull=False), name="order_kitchen_status_placed"
            ),
            models.CheckConstraint(condition=Q(subtotal__gte=0, total__gte=0), name="order_money_not_negative"),
            models.CheckConstraint(condition=Q(version__gte=1), name="order_version_positive"),
        ]
        indexes = [
            models.Index(fields=["restaurant", "pickup_at", "status"], name="order_slot"),
            models.Index(fields=["restaurant", "service_date"], name="order_service_day"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}" if self.number else f"Draft order {self.pk}"


class OrderLine(models.Model):
    """A dish on an order, as the diner chose it: its name, unit price (dish plus choices) and choices are
    copies, so the line reads the same whatever happens to the menu later.

    `menu_item` is SET_NULL rather than PROTECT: staff may delete a dish that was once ordered (the placed lines
    keep their copies), and a draft whose dish is gone is refused at placement by name.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    menu_item = models.ForeignKey(MenuItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120)
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=9, decimal_places=2, help_text="The dish's price plus its choices'.")
    # [{"id": 7, "group": "Size", "name": "Large", "price_delta": "2.00"}, ...] in the dish's group order.
    modifiers = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=MAX_NOTE_LENGTH, blank=True, help_text='For the kitchen, e.g. "no onions".')
    line_total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name="order_line_quantity_range"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, line_total__gte=0), name="order_line_money_not_negative"
            ),
            # SQLite does not hold a varchar to its length.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("note"), MAX_NOTE_LENGTH), name="order_line_note_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def choices(self) -> list[str]:
        """The chosen modifiers' names, in the dish's group order."""
        return [m["name"] for m in self.modifiers]


class PickupSlot(models.Model):
    """A restaurant's pickup slot, the row a placement locks (SELECT ... FOR UPDATE) while it counts the orders
    holding the slot, so that two placements for the last place cannot both see it free."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["restaurant", "starts_at"], name="pickup_slot_unique_start")]

    def __str__(self) -> str:
        return f"{self.restaurant_id} {self.starts_at:%Y-%m-%d %H:%M}"


class ServiceDay(models.Model):
    """The order numbers a restaurant has given on one service day: placing takes the next one with a single
    UPDATE (which holds the row until the placement commits)."""

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    last_number = models.PositiveIntegerField(default=FIRST_ORDER_NUMBER - 1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["restaurant", "date"], name="service_day_unique_date")]

    def __str__(self) -> str:
        return f"{self.restaurant_id} {self.date}"


# --- Order and booking webhooks (orders.webhooks) -------------------------------------------------------------


class WebhookDeliveryQuerySet(models.QuerySet):
    def unfinished(self) -> WebhookDeliveryQuerySet:
        """Deliveries still to be made: pending or failed (with attempts left or retried from admin)."""
        return self.filter(status__in=WebhookDelivery.UNFINISHED)

    def about_the_same(self, delivery: WebhookDelivery) -> WebhookDeliveryQuerySet:
        """Deliveries about the same order, or the same reservation, as `delivery` (itself included)."""
        if delivery.order_id is not None:
            return self.filter(order_id=delivery.order_id)
        return self.filter(reservation_id=delivery.reservation_id)


class WebhookDelivery(models.Model):
    """One event of an order or of a table reservation (its subject: exactly one of `order` and `reservation`) for
    the restaurant's webhook, `Restaurant.order_webhook_url` (orders.webhooks): the JSON body built when the event
    happened, sent byte for byte on every attempt under one webhook-id (so a receiver can drop a repeat), until
    the receiver answers 2xx or the attempts run out. Deliveries about one subject are made in the order they were
    recorded: a delivery waits while an earlier one about its order (or its reservation) is unfinished.

    `restaurant` is its subject's restaurant, copied when the delivery is recorded (neither an order nor a
    reservation ever changes restaurant): the receiver, the admin's scope and the retries woken by a success are
    the restaurant's, whichever the subject."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Given up"

    UNFINISHED = (Status.PENDING, Status.FAILED)

    restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_deliveries"
    )
    reservation = models.ForeignKey(
        "reservations.Reservation", on_delete=models.CASCADE, null=True, blank=True,
        related_name="webhook_deliveries",
    )  # fmt: skip
    event_type = models.CharField(
        "type", max_length=40, help_text='The event, e.g. "order.placed" or "reservation.made".'
    )
    payload = models.TextField(help_text="The JSON body as sent, built when the event happened.")
    url = models.URLField("URL", max_length=500, help_text="Where it was sent: the restaurant's address at the time.")
    webhook_id = models.CharField(
        "webhook-id", max_length=40, help_text="The same on every attempt: receivers drop a delivery they have had."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField("attempts", default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When it is tried next, if unfinished.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField("event at", default=timezone.now)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook_id"], name="webhook_delivery_unique_id"),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False), name="webhook_delivered_has_time"
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False, reservation__isnull=True)
                | Q(order__isnull=True, reservation__isnull=False),
                name="webhook_delivery_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["order", "id"], name="webhook_delivery_order"),
            models.Index(fields=["reservation", "id"], name="webhook_delivery_reservation"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id}"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.UNFINISHED

    @property
    def subject(self) -> str:
        """What it is about, for a log line: "order 42" or "reservation 7" (the ids: no query)."""
        return f"order {self.order_id}" if self.order_id is not None else f"reservation {self.reservation_id}"


class WebhookAttempt(models.Model):
    """One try at a delivery: when, how long it took, and the receiver's HTTP status or, when there was no answer
    (or no 2xx), the reason in one line."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField("sent at")
    status_code = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="Why it failed, in one line; empty when delivered.")
    duration_ms = models.PositiveIntegerField("duration (ms)")

    class Meta:
        ordering = ["delivery", "at", "id"]

    def __str__(self) -> str:
        return f"Attempt at {self.at:%Y-%m-%d %H:%M:%S} UTC"
