"""The staff's insights page (GET /staff/insights/) with 100,000 calls: queries per request and how long it takes,
for each period, and the CSV export of the longest.

Run: .venv/bin/python bench/insights.py [--calls 100000] [--requests 50] [--postgres]

The throwaway database (bench/harness.py: SQLite, the embedded default; with --postgres a new database on the
PostgreSQL at 127.0.0.1:5432, as a deployment runs) holds Trattoria Test (Rome), taking orders and reservations
with six tables, and another restaurant with a tenth as many calls. insights.demo.seed_calls writes the calls over
the last 95 days (so the 90-day period holds about 95% of them) with their unanswered questions, orders and
bookings; first 1,000, to count the page's queries, then the rest. On PostgreSQL the tables are then vacuumed and
analysed, as autovacuum would after such a load. Each request goes through Django's whole stack (session, middleware,
view, template) in this process, started as config/asgi.py starts a web process. Prints the queries one request
makes at 1,000 calls and at the full count, p50 / p95 of the request's time in milliseconds (wall clock and this
process's CPU time) per period, and the export's first bytes, total time and rows; asserts nothing.
Target (issue 18): p95 under 300 ms, a number of queries that does not grow with the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time

from harness import django_with_a_restaurant, throwaway_postgres

DAYS = 95
FIRST = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL at 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        with throwaway_postgres() as url:
            run(args, url, "PostgreSQL")
    else:
        run(args, "", "SQLite")


def run(args, database_url: str, database: str) -> None:
    restaurant = django_with_a_restaurant(database_url)
    from asgiref.sync import sync_to_async
    from django.contrib.auth.models import User
    from django.db import connection, connections
    from django.test import AsyncClient, Client
    from django.utils import timezone

    import config.asgi  # noqa: F401  the web process's start-up, which also freezes what it loaded for the GC
    from insights.demo import seed_calls
    from reservations.models import Table
    from tests.conftest import make_restaurant

    restaurant.takes_orders = restaurant.takes_reservations = True
    restaurant.save()
    for n, seats in enumerate((2, 2, 4, 4, 6, 8)):
        Table.objects.create(restaurant=restaurant, name=f"T{n + 1}", max_seats=seats)
    other = make_restaurant(name="Other", slug="other", time_zone="America/Los_Angeles")
    user = User.objects.create_user("staff", is_staff=True)
    restaurant.staff.add(user)
    client = Client()
    client.force_login(user)
    now = timezone.now()

    def queries(days: int) -> int:
        sent = []
        # Counted where they are sent: CaptureQueriesContext loses them to request_started's reset_queries.
        with connection.execute_wrapper(lambda execute, sql, *rest: sent.append(sql) or execute(sql, *rest)):
            response = client.get("/staff/insights/", {"restaurant": restaurant.pk, "days": days})
        assert response.status_code == 200
        return len(sent)

    seed_calls(restaurant, calls=FIRST, days=DAYS, now=now, seed=1)
    few = {days: queries(days) for days in (7, 30, 90)}
    started = time.perf_counter()
    seed_calls(restaurant, calls=args.calls - FIRST, days=DAYS, now=now, seed=2)
    seed_calls(other, calls=args.calls // 10, days=DAYS, now=now, seed=3)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    total = restaurant.calls.count()
    print(f"GET /staff/insights/ on {database}: {total:,} calls of the restaurant over {DAYS} days "
          f"(+{other.calls.count():,} of another), seeded in {time.perf_counter() - started:.0f} s; "
          f"{args.requests} requests per period, in process")  # fmt: skip
    for days in (7, 30, 90):
        many = queries(days)
        timings, cpu = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get("/staff/insights/", {"restaurant": restaurant.pk, "days": days})
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        q, c = statistics.quantiles(timings, n=100), statistics.quantiles(cpu, n=100)
        in_period = restaurant.calls.filter(created_at__gte=now - dt.timedelta(days=days)).count()
        print(f"  {days:2d} days (~{in_period:6,} calls): {few[days]} queries at {FIRST:,} calls, "
              f"{many} at {total:,}   p50 {q[49]:.0f} ms   p95 {q[94]:.0f} ms   "
              f"(this process's CPU: p50 {c[49]:.0f} ms, p95 {c[94]:.0f} ms)")  # fmt: skip

    async def export() -> tuple[float, float, int]:
        aclient = AsyncClient()
        await aclient.aforce_login(user)
        started = time.perf_counter()
        response = await aclient.get("/staff/insights/calls.csv", {"restaurant": restaurant.pk, "days": 90})
        first, lines = None, 0
        async for part in response:
            first = first or time.perf_counter()
            lines += part.count(b"\n")
        seconds = time.perf_counter() - started
        await sync_to_async(connections.close_all)()  # the view's thread's connection, so the database can go
        return (first - started) * 1000, seconds, lines - 1

    first, seconds, rows = asyncio.run(export())
    print(f"  CSV of the 90 days: first bytes after {first:.0f} ms, {rows:,} rows in {seconds:.1f} s")


if __name__ == "__main__":
    main()
