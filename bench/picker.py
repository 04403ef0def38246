"""The diner's picker (GET /) as the number of restaurants grows: queries per request and how long it takes.

Run: .venv/bin/python bench/picker.py [--requests 200] [--sizes 6,200] [--postgres]

For each size, the throwaway database (bench/harness.py: SQLite, the embedded default; with --postgres a new
database on the PostgreSQL at 127.0.0.1:5432, as a deployment runs) holds that many active restaurants like Trattoria
Test (two service periods a day, six days a week, past midnight on Fridays and Saturdays), a third of them with a
special day today; GET / then renders every one with its open/closed badge for now, in its own time zone. Each
request goes through Django's whole stack (middleware, view, template) in this process, started as config/asgi.py
starts a web process (gc.freeze included). Prints, per size, the
queries one request makes and p50 / p95 of the request's time in milliseconds, wall clock and this process's CPU
time (the database server's work on PostgreSQL is not in the latter; a busy or shared machine shows in the gap
between the two); asserts nothing.
Target (issue 16): a constant number of queries, p95 under 30 ms at 200 restaurants.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness import django_with_a_restaurant, throwaway_postgres

ZONES = ("Europe/Rome", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Honolulu", "UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sizes", default="6,200", help="comma-separated restaurant counts, rising")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL at 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    sizes = sorted(int(n) for n in args.sizes.split(","))
    if args.postgres:
        with throwaway_postgres() as url:
            run(args.requests, sizes, url, "PostgreSQL")
    else:
        run(args.requests, sizes, "", "SQLite")


def run(requests: int, sizes: list[int], database_url: str, database: str) -> None:
    django_with_a_restaurant(database_url)
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from restaurants.models import Restaurant, SpecialDay
    from tests.conftest import make_restaurant

    import config.asgi  # noqa: F401  the web process's start-up, which also freezes what it loaded for the GC

    client = Client()
    print(f"GET / (the picker), {requests} requests per size, in process, {database}")
    for size in sizes:
        for n in range(Restaurant.objects.count(), size):
            r = make_restaurant(name=f"Bench {n}", slug=f"bench-{n}", time_zone=ZONES[n % len(ZONES)])
            if n % 3 == 0:
                SpecialDay.objects.create(restaurant=r, date=timezone.localdate(), note="Staff party")
        client.get("/")  # warm: templates compiled, connection open
        queries = []
        # Counted where they are sent: CaptureQueriesContext loses them to request_started's reset_queries.
        with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
            response = client.get("/")
        assert response.status_code == 200 and response.content.count(b'class="card restaurant-card"') == size
        timings, cpu = [], []
        for _ in range(requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            client.get("/")
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        q, c = statistics.quantiles(timings, n=100), statistics.quantiles(cpu, n=100)
        print(f"  {size:4d} restaurants: {len(queries):2d} queries   p50 {q[49]:.1f} ms   p95 {q[94]:.1f} ms   "
              f"(this process's CPU: p50 {c[49]:.1f} ms, p95 {c[94]:.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
