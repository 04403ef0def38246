"""Table availability on a busy book, and concurrent bookings for the last free table.

Run: .venv/bin/python bench/reservations.py [--asks 200] [--tables 30] [--bookings 2000] [--postgres]

1. Availability: Trattoria Test (bench/harness.py) with a floor of `--tables` tables (twos, fours, sixes) and
   `--bookings` live reservations spread over its 60-day horizon. Each ask is what the agent's check_availability
   does for a party of 4 at a random dinner time within the horizon: build reservations.availability.Availability
   (the schedule, the tables that seat the party and their bookings: four queries), say whether the time is
   possible and, when it is not, find the nearest times that day and the same time on the next days. Prints p50 /
   p95 / max in ms and how many asks were refused. Target: p95 under 50 ms (the tool must not slow a turn).
2. Concurrent bookings (PostgreSQL only, --postgres): 20 callers, each a process with its own connection, released
   together to book the one table left free at one time. Prints how many got it (must be 1) and what the others
   heard.
The database is a throwaway SQLite file (the embedded default), or with --postgres a new PostgreSQL database on
127.0.0.1:5432, dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import statistics
import time
from collections import Counter

from harness import django_with_a_restaurant, throwaway_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--tables", type=int, default=30)
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL at 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        with throwaway_postgres() as url:
            restaurant = django_with_a_restaurant(url)
            availability(restaurant, args, "PostgreSQL")
            concurrent(restaurant)
    else:
        availability(django_with_a_restaurant(), args, "SQLite")


def floor(restaurant, count: int) -> list:
    from reservations.models import Table

    sizes = [(1, 2), (2, 4), (2, 4), (4, 6)]  # a quarter twos, half fours, a quarter sixes
    return [
        Table.objects.create(restaurant=restaurant, name=f"T{n}", min_seats=sizes[n % 4][0], max_seats=sizes[n % 4][1])
        for n in range(1, count + 1)
    ]


def dinner_times(restaurant, now: dt.datetime, days: int) -> list[dt.datetime]:
    """Every 15 minutes of every dinner from tomorrow to `days` ahead, in UTC."""
    from restaurants.hours import wall_clock

    today = now.astimezone(restaurant.tz).date()
    times = []
    for i in range(1, days):
        for minute in range(19 * 60, 22 * 60, 15):
            day = today + dt.timedelta(days=i)
            at = wall_clock(day, dt.time(minute // 60, minute % 60), restaurant.tz)
            if restaurant.schedule(day, 1).is_open_at(at):
                times.append(at)
    return times


def availability(restaurant, args, database: str) -> None:
    from django.db import connection
    from django.utils import timezone

    from reservations.availability import Availability
    from reservations.models import Reservation

    restaurant.takes_reservations = True
    restaurant.save()
    tables = floor(restaurant, args.tables)
    now = timezone.now()
    times = dinner_times(restaurant, now, restaurant.booking_horizon_days)
    rng = random.Random(7)
    rows, held = [], Counter()
    while len(rows) < args.bookings:  # bookings at random dinner times, never two on a table at once
        table, at = rng.choice(tables), rng.choice(times)
        party = min(table.max_seats, max(table.min_seats, rng.randint(1, 6)))
        ends = at + restaurant.dining_time(party)
        if any(held[(table.pk, at + dt.timedelta(minutes=m))] for m in range(-120, int((ends - at).seconds / 60), 15)):
            continue
        held[(table.pk, at)] = 1
        rows.append(Reservation(
            restaurant=restaurant, table=table, party_size=party, starts_at=at, ends_at=ends,
            guest_name=f"Guest {len(rows)}", code=f"{len(rows):06d}",
        ))  # fmt: skip
    Reservation.objects.bulk_create(rows, batch_size=500)

    timings, refused = [], 0
    for _ in range(args.asks):
        at = rng.choice(times)
        began = time.perf_counter()
        seen = Availability(restaurant, timezone.now(), 4)
        if seen.refusal(at):
            refused += 1
            seen.offer(at)
        timings.append((time.perf_counter() - began) * 1000)
    cut = statistics.quantiles(timings, n=20, method="inclusive")
    version = f" {connection.cursor().connection.info.server_version // 10000}" if database == "PostgreSQL" else ""
    print(f"availability for a party of 4, {args.tables} tables, {len(rows)} bookings over "
          f"{restaurant.booking_horizon_days} days, {database}{version}, {os.cpu_count()} CPU cores")  # fmt: skip
    print(f"  {args.asks} asks, {refused} refused (with the nearest times offered)")
    print(f"  p50 {statistics.median(timings):.1f} ms, p95 {cut[18]:.1f} ms, max {max(timings):.1f} ms")


def caller(restaurant_id: int, at: dt.datetime, n: int, start, results) -> None:
    """One caller's process: wait for the others, book, report what happened."""
    from django.db import connection

    from reservations.services import BookingRefused, reservation_book
    from restaurants.models import Restaurant

    try:
        restaurant = Restaurant.objects.get(pk=restaurant_id)
        connection.close()
        start.wait()
        reservation_book(restaurant=restaurant, starts_at=at, party_size=5, guest_name=f"Caller {n}")
        results.put("booked")
    except BookingRefused as refused:
        results.put(refused.sentence.split(". ")[0])
    except Exception as error:  # noqa: BLE001 (reported by the parent)
        results.put(f"error: {error!r}")
    finally:
        connection.close()


def concurrent(restaurant) -> None:
    from django.db import connections
    from django.utils import timezone

    from reservations.availability import Availability
    from reservations.models import Table

    Table.objects.filter(restaurant=restaurant).exclude(max_seats=6).update(is_active=False)
    last = Table.objects.filter(restaurant=restaurant, is_active=True).first()
    Table.objects.filter(restaurant=restaurant, is_active=True).exclude(pk=last.pk).update(is_active=False)
    now = timezone.now()
    at = next(t for t in dinner_times(restaurant, now, 20) if Availability(restaurant, now, 5).refusal(t) == "")
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(20), context.Queue()
    callers = [context.Process(target=caller, args=(restaurant.pk, at, n, start, results)) for n in range(20)]
    for process in callers:
        process.start()
    answers = Counter(results.get(timeout=120) for _ in callers)
    for process in callers:
        process.join()
    print("20 callers at once for the last free table (a six) at one time, PostgreSQL")
    for answer, count in answers.most_common():
        print(f"  {count:2d}  {answer}")


if __name__ == "__main__":
    main()
