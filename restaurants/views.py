"""Diner pages: the list of restaurants and one restaurant's card with the "Talk to us" button."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from . import hours
from .models import Restaurant


def _badge(restaurant: Restaurant) -> dict:
    """{"open": bool, "text": "Open now, until 22:00"} for now, in the restaurant's time zone. Two queries."""
    status = restaurant.opening_status()
    return {"open": status.is_open, "text": hours.say_status(status, restaurant.language), "note": status.note}


@require_safe
def restaurant_list(request):
    """Active restaurants, each with its open/closed badge."""
    restaurants = [(r, _badge(r)) for r in Restaurant.objects.active()]
    return render(request, "restaurants/list.html", {"restaurants": restaurants})


@require_safe
@ensure_csrf_cookie
def restaurant_detail(request, slug: str):
    """One active restaurant: badge, weekly hours, special days, address, phone, and the call widget."""
    restaurant = get_object_or_404(Restaurant.objects.active(), slug=slug)
    weekly = restaurant.weekly_rules()
    week = [(hours.WEEKDAYS[d], hours.say_rules(weekly[d], restaurant.language)) for d in range(7)]
    context = {
        "restaurant": restaurant,
        "badge": _badge(restaurant),
        "week": week,
        "special_days": restaurant.upcoming_special_days(),
    }
    return render(request, "restaurants/detail.html", context)
