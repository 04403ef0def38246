"""Diner pages: the list of restaurants and one restaurant's card with the "Talk to us" button."""

import datetime as dt

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from . import hours
from .models import Restaurant

CARD_FIELDS = (
    "name", "slug", "cuisine", "description", "street_address", "postal_code", "city", "country", "time_zone",
    "language",
)  # fmt: skip


@require_safe
def restaurant_list(request):
    """Active restaurants, each with its open/closed badge for now. Three queries whatever their number."""
    now = timezone.now()
    # What a card shows and its badge needs: not the phone, whose parsing cost a fifth of the page at 200.
    cards = Restaurant.objects.active().only(*CARD_FIELDS).with_schedule(now)
    restaurants = [(r, r.badge(now)) for r in cards]
    return render(request, "restaurants/list.html", {"restaurants": restaurants})


@require_safe
@ensure_csrf_cookie
def restaurant_detail(request, slug: str):
    """One active restaurant: badge, weekly hours, special days in the next LOOKAHEAD_DAYS, address, phone, and
    the call widget; every time in the restaurant's local time and locale. Three queries."""
    now = timezone.now()
    restaurant = get_object_or_404(Restaurant.objects.active().with_schedule(now), slug=slug)
    schedule = restaurant.schedule_around(now)
    today, language = now.astimezone(restaurant.tz).date(), restaurant.language
    upcoming = schedule.special_days_between(today, today + dt.timedelta(days=hours.LOOKAHEAD_DAYS))
    context = {
        "restaurant": restaurant,
        "badge": restaurant.badge(now),
        "week": [(hours.WEEKDAYS[d], hours.say_periods(schedule.weekly[d], language)) for d in range(7)],
        "special_days": [(sd.date, hours.say_periods(list(sd.periods), language, sd.note)) for sd in upcoming],
    }
    return render(request, "restaurants/detail.html", context)
