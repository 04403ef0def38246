"""Placing takeout orders under load on PostgreSQL: ORDERS drafts, each with a dish, a name and one of SLOTS
pickup slots, placed by CALLERS concurrent callers (processes, each with its own connection), released at once.

Prints how many were placed and refused, how many orders sit in a slot beyond its cap (overbooked: must be 0),
whether any order number of a day was given twice, and the time one `order_place` takes (p50 / p95 / max, in
ms). Runs on a throwaway PostgreSQL database (bench/harness.py), dropped afterwards:

    .venv/bin/python bench/orders.py [--orders 200] [--callers 20] [--slots 10] [--per-slot 15]
    [--server postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import statistics
import time
from collections import Counter

from harness import django_with_a_restaurant, throwaway_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--per-slot", type=int, default=15, help="the restaurant's orders_per_slot")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    with throwaway_postgres(args.server) as url:
        restaurant = django_with_a_restaurant(url)
        run(restaurant, args)


def caller(mine: list, start, results) -> None:
    """One caller's process: wait for the others, place its drafts one after another, report the times."""
    from django.db import connection

    from orders.services import OrderRefused, order_place

    timings, outcomes, errors = [], Counter(), []
    try:
        start.wait()
        for order, version in mine:
            began = time.perf_counter()
            try:
                order_place(order=order, version=version)
                outcomes["placed"] += 1
            except OrderRefused:
                outcomes["refused"] += 1
            timings.append((time.perf_counter() - began) * 1000)
    except Exception as error:  # noqa: BLE001 (reported by the parent)
        errors.append(repr(error))
    finally:
        connection.close()
        results.put((timings, outcomes, errors))


def run(restaurant, args) -> None:
    from django.db import connection, connections
    from django.utils import timezone

    from orders.models import Order
    from orders.pickup import Pickups
    from orders.services import order_add_line, order_read, order_set_pickup, order_start

    restaurant.takes_orders, restaurant.orders_per_slot = True, args.per_slot
    restaurant.save()
    # Slots a day or more ahead, so that the preparation time never bites while the benchmark runs.
    now = timezone.now()
    slots = [at for at in Pickups(restaurant, now).slots() if at >= now + dt.timedelta(days=1)][: args.slots]
    assert len(slots) == args.slots, "the restaurant has too few pickup slots in the next week"

    drafts = []
    for n in range(args.orders):
        order = order_start(restaurant=restaurant, channel="phone")
        order_add_line(order=order, dish="Margherita", quantity=1 + n % 3)
        order_set_pickup(order=order, name=f"Caller {n}", pickup_at=slots[n % args.slots])
        drafts.append((order, order_read(order=order).version))

    # Each caller is a process of its own, as each call's agent runs in its own job process: threads of one
    # process would queue on Python's GIL and time that instead of the database.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(args.callers), context.Queue()
    callers = [
        context.Process(target=caller, args=(drafts[i :: args.callers], start, results)) for i in range(args.callers)
    ]
    began = time.perf_counter()
    for process in callers:
        process.start()
    timings: list[float] = []
    outcomes: Counter = Counter()
    errors: list[str] = []
    for _ in callers:
        mine, counted, failed = results.get(timeout=300)
        timings += mine
        outcomes.update(counted)
        errors += failed
    wall = time.perf_counter() - began
    for process in callers:
        process.join()

    held = Counter(Order.objects.holding_slots().values_list("pickup_at", flat=True))
    overbooked = sum(max(0, n - args.per_slot) for n in held.values())
    numbers = Counter(Order.objects.exclude(number=None).values_list("service_date", "number"))
    repeated = sum(n - 1 for n in numbers.values() if n > 1)
    cut = statistics.quantiles(timings, n=20, method="inclusive")

    print(f"{args.orders} orders from {args.callers} concurrent callers into {args.slots} slots of {args.per_slot} "
          f"on PostgreSQL {connection.cursor().connection.info.server_version // 10000}, {os.cpu_count()} CPU cores")  # fmt: skip
    print(f"  placed      {outcomes['placed']}")
    print(f"  refused     {outcomes['refused']} (slot full)")
    print(f"  overbooked  {overbooked}")
    print(f"  numbers given twice  {repeated}")
    print(f"  errors      {len(errors)}{': ' + errors[0] if errors else ''}")
    print(f"  order_place p50 {statistics.median(timings):.1f} ms, p95 {cut[18]:.1f} ms, max {max(timings):.1f} ms")
    print(f"  all placements in {wall:.2f} s ({len(timings) / wall:.0f} a second)")


if __name__ == "__main__":
    main()
