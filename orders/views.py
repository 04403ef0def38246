"""The kitchen board, /staff/orders/: the placed orders of the staff member's restaurants by pickup time (which ones:
orders.feed), arriving and changing live over the page's websocket (orders/routing.py), with the kitchen's buttons
Accept, Ready, Collected and Cancel (with a reason).

Staff only, as the calls' pages (dispatch.staff.views.staff_required): anonymous users get the admin's login page,
logged-in users without staff status 403. Another restaurant's order answers as a missing one does.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from dispatch.staff.views import staff_required
from restaurants.models import Restaurant

from .events import order_event, ready_orders
from .feed import TO_DO, board_orders
from .models import Order
from .services import MAX_REASON_LENGTH, OrderRefused, order_advance, order_cancel


@require_safe
@staff_required
def kitchen(request: HttpRequest) -> HttpResponse:
    """The board: the orders of feed.board_orders as the page's script also draws them (order events), to do (by
    pickup time) and done, and whether
    any of the user's restaurants takes orders (else the page says how to turn ordering on)."""
    restaurants = Restaurant.objects.for_staff(request.user)
    orders = [order_event(order)["order"] for order in board_orders(restaurants)]
    context = {
        "to_do": [order for order in orders if order["status"] in TO_DO],
        "done": [order for order in orders if order["status"] not in TO_DO],
        "takes_orders": restaurants.filter(takes_orders=True).exists(),
        "max_reason": MAX_REASON_LENGTH,
    }
    return render(request, "staff/orders.html", context)


class KitchenStepForm(forms.Form):
    """A kitchen button: `to` is the status asked for; `reason` (at most MAX_REASON_LENGTH characters) is required
    to cancel."""

    to = forms.ChoiceField(
        choices=[(s, s) for s in ("accepted", "ready", "collected", "cancelled")],
        error_messages={"invalid_choice": "That is not a step the kitchen can take.", "required": "Which step?"},
    )
    reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_LENGTH,
        error_messages={"max_length": f"Please keep the reason under {MAX_REASON_LENGTH} characters."},
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("to") == "cancelled" and not data.get("reason", "").strip():
            raise forms.ValidationError("Please give a reason for cancelling: the diner may be told it.")
        return data


@require_POST
@staff_required
def order_status(request: HttpRequest, order_id: int) -> JsonResponse:
    """A kitchen button: POST (with the CSRF token) form fields `to` ("accepted", "ready", "collected" or
    "cancelled") and, to cancel, `reason`. One conditional update (orders.services.order_advance, order_cancel):
    of two staff clicking at once, one wins. 200 `{"order": <order event's order>}`; errors as `{"error":
    "<sentence>"}`: 400 a bad step or reason, 404 no such order of the user's restaurants, 409 the order is no
    longer in a status that step starts from (with `"order"`, as it is now, for the page to show)."""
    order = Order.objects.filter(
        pk=order_id, restaurant__in=Restaurant.objects.for_staff(request.user), placed_at__isnull=False
    ).first()
    if order is None:
        return JsonResponse({"error": "There is no such order."}, status=404)
    form = KitchenStepForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": next(iter(form.errors.values()))[0]}, status=400)
    to = form.cleaned_data["to"]
    try:
        if to == "cancelled":
            order = order_cancel(order=order, reason=form.cleaned_data["reason"], by_staff=True)
        else:
            order = order_advance(order=order, to=to)
    except OrderRefused as refused:
        now = order_event(ready_orders().get(pk=order.pk))["order"]
        return JsonResponse({"error": refused.sentence, "order": now}, status=409)
    return JsonResponse({"order": order_event(ready_orders().get(pk=order.pk))["order"]})
