"""From `place_order` to the order on an open kitchen page: the time from the start of orders.services.order_place
(as the agent's place_order tool calls it, in the worker's process) to the order's event reaching a staff member's
websocket on /ws/staff/orders/ (the connection the kitchen page keeps open), served by uvicorn in another process,
as in production.

Run: .venv/bin/python bench/kitchen.py [--orders 40] [--postgres]

Twice when Redis answers on 127.0.0.1:6379, once otherwise:
- the embedded setup (`make run`: no REDIS_URL, the in-memory channel layer): the web process does not hear the
  worker's publication, so the page's connection reads the database every dispatch.staff.live.POLL_SECONDS;
- with REDIS_URL (production with several processes): the worker's publication crosses to the web process
  through channels-redis at once.
Orders are placed one at a time, a random 0 to 0.5 s apart, so that they fall anywhere in a poll's period. The
database is a throwaway SQLite file (the embedded default), or with --postgres a new PostgreSQL database on
127.0.0.1:5432, dropped afterwards. Prints p50 / p95 / max in ms, and `order_place`'s own time. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time

from harness import REPO, django_with_a_restaurant, throwaway_postgres

REDIS = "redis://127.0.0.1:6379/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL at 127.0.0.1:5432 instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        with throwaway_postgres() as url:
            run(django_with_a_restaurant(url), url, args)
    else:
        run(django_with_a_restaurant(), "", args)


def redis_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def web_server(redis_url: str):
    """uvicorn serving config.asgi on the benchmark's database, with REDIS_URL or without; yields its port."""
    port = free_port()
    # No static files are collected for the benchmark: WhiteNoise's warning about it says nothing here.
    env = {**os.environ, "REDIS_URL": redis_url, "ALLOWED_HOSTS": "127.0.0.1", "PYTHONWARNINGS": "ignore::UserWarning"}
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--lifespan", "off",
               "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("uvicorn did not start")
        yield port
    finally:
        server.terminate()
        server.wait(10)


def run(restaurant, database_url: str, args) -> None:
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    restaurant.takes_orders, restaurant.orders_per_slot = True, 50
    restaurant.save()
    user = User.objects.create_user("kitchen", is_staff=True)
    restaurant.staff.add(user)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    database = "SQLite" if not database_url else f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
    print(f"place_order -> the order on an open kitchen page, {args.orders} orders, {database}, {os.cpu_count()} CPU cores")  # fmt: skip

    layers = [("embedded (in-memory layer; the page's connection polls the database)", "")]
    if redis_answers():
        layers.append(("with REDIS_URL (channels-redis)", REDIS))
    else:
        print("  (Redis does not answer on 127.0.0.1:6379: the channels-redis figures are left out)")
    for label, redis_url in layers:
        settings.CHANNEL_LAYERS = (  # the worker's side: where its publications go
            {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}}
            if redis_url
            else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        )
        from channels import layers

        layers.channel_layers.backends.clear()
        with web_server(redis_url) as port:
            seen, placing = asyncio.run(measure(restaurant, port, cookie, args.orders))
        cut = statistics.quantiles(seen, n=20, method="inclusive")
        print(f"  {label}")
        print(f"    on the page  p50 {statistics.median(seen):.0f} ms, p95 {cut[18]:.0f} ms, max {max(seen):.0f} ms")
        print(f"    order_place  p50 {statistics.median(placing):.1f} ms, max {max(placing):.1f} ms")


async def measure(restaurant, port: int, cookie: str, orders: int) -> tuple[list[float], list[float]]:
    """Open the kitchen's websocket, then place `orders` orders one by one; the ms from each order_place's start
    to its event, and each order_place's own ms."""
    import websockets
    from asgiref.sync import sync_to_async

    drafts = await sync_to_async(make_drafts)(restaurant, orders)
    seen, placing = [], []
    headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/staff/orders/", additional_headers=headers) as socket_:
        for order in drafts:
            await asyncio.sleep(random.uniform(0, 0.5))
            began = time.perf_counter()
            waiting = asyncio.create_task(arrival(socket_, order.pk))
            placing.append(await sync_to_async(place, thread_sensitive=False)(order) * 1000)
            await asyncio.wait_for(waiting, timeout=10)
            seen.append((waiting.result() - began) * 1000)
    return seen, placing


async def arrival(socket_, order_id: int) -> float:
    """When the placed event of `order_id` arrives (perf_counter)."""
    while True:
        event = json.loads(await socket_.recv())
        if event.get("kind") == "order" and event["order"]["id"] == order_id and event["order"]["status"] == "placed":
            return time.perf_counter()


def make_drafts(restaurant, count: int) -> list:
    """`count` drafts, each a Margherita for one of the restaurant's pickup slots a day or more ahead (50 orders a
    slot)."""
    from django.db import connection
    from django.utils import timezone

    from orders.pickup import Pickups
    from orders.services import order_add_line, order_set_pickup, order_start

    now = timezone.now()
    slots = [at for at in Pickups(restaurant, now).slots() if at >= now + dt.timedelta(days=1)]
    drafts = []
    for n in range(count):
        order = order_start(restaurant=restaurant, channel="phone")
        order_add_line(order=order, dish="Margherita")
        drafts.append(order_set_pickup(order=order, name=f"Caller {n}", pickup_at=slots[n % len(slots)]))
    connection.close()  # this thread's: the throwaway database is dropped at the end
    return drafts


def place(order) -> float:
    """Place the draft as read back, as the place_order tool does; its seconds."""
    from django.db import connection

    from orders.services import order_place, order_read

    began = time.perf_counter()
    order_place(order=order, version=order_read(order=order).version)
    took = time.perf_counter() - began
    connection.close()
    return took


if __name__ == "__main__":
    main()
