"""`manage.py load_demo_calls [--days 90] [--per-day 25]`: gives each demo restaurant (restaurants/demo_data.py,
loaded by `manage.py load_demo`) made-up calls over its last days, so that the staff's insights page
(/staff/insights/) has something to show: lunch and dinner peaks in local time, web and phone, a few failed, some
with an unanswered question, and orders and bookings where the restaurant takes them (insights.demo).

Idempotent: the demo calls made before (room names starting "demo-") and the questions, orders and bookings made
on them are replaced; other calls are left alone. Demo restaurants not loaded yet are skipped, with a line saying
so. One transaction per restaurant.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dispatch.models import Call, UnansweredQuestion
from orders.models import Order
from reservations.models import Reservation
from restaurants import demo_data
from restaurants.models import Restaurant

from ...demo import ROOM_PREFIX, seed_calls


class Command(BaseCommand):
    help = "Give the demo restaurants made-up calls (with questions, orders, bookings) for the insights page."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=90, choices=range(1, 367), metavar="1-366",
                            help="Days back from today (default 90).")  # fmt: skip
        parser.add_argument("--per-day", type=int, default=25, choices=range(1, 1001), metavar="1-1000",
                            help="Calls per restaurant per day, on average (default 25).")  # fmt: skip

    def handle(self, *args, days: int, per_day: int, **options) -> None:
        now = timezone.now()
        slugs = [r["slug"] for r in demo_data.RESTAURANTS]
        found = {r.slug: r for r in Restaurant.objects.filter(slug__in=slugs)}
        for n, slug in enumerate(slugs):
            restaurant = found.get(slug)
            if restaurant is None:
                self.stdout.write(f"{slug}: not loaded (run manage.py load_demo first), skipped.")
                continue
            with transaction.atomic():
                old = Call.objects.filter(restaurant=restaurant, room_name__startswith=ROOM_PREFIX)
                UnansweredQuestion.objects.filter(call__in=old).delete()
                Order.objects.filter(call__in=old).delete()
                Reservation.objects.filter(call__in=old).delete()
                old.delete()
                made = seed_calls(
                    restaurant, calls=days * per_day, days=days, now=now, seed=n,
                    phone_share=0.35 if restaurant.phone_lines.exists() else 0.0,
                )  # fmt: skip
            self.stdout.write(
                f"{restaurant.name}: {made.calls} calls, {made.questions} unanswered questions, {made.orders} orders, "
                f"{made.bookings} bookings."
            )
