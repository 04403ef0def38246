"""What anonymous POSTs that no diner follows can take from real diners, and for how long.

Run: .venv/bin/python bench/no_shows.py [--posts 12]

1. A burst of POSTs to /api/connection-details for one restaurant, through Django against the contract fake of
   LiveKit's Twirp API, from one client address and then from as many addresses: how many are answered with a
   room and a dispatch (each would hold a job on a worker), and the timeouts each room was created with.
2. How long a job whose diner never comes holds its worker: the real job entrypoint under LiveKit's
   fake_job_context (text only, scripted model), with the default AGENT_NO_SHOW_TIMEOUT, from the job's start
   to the room being deleted (which ends the job at LiveKit). Takes about 15 s.

Uses a throwaway SQLite database in a temp dir. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import time

from harness import django_with_a_restaurant, livekit_fake


def burst(client, restaurant, fake, posts: int, addresses: list[str]) -> None:
    from dispatch.models import Call

    Call.objects.all().delete()
    fake.rooms.clear()
    body = json.dumps({"restaurant_id": restaurant.pk})
    started = time.perf_counter()
    statuses = collections.Counter(
        client.post(
            "/api/connection-details", data=body, content_type="application/json",
            REMOTE_ADDR=addresses[i % len(addresses)],
        ).status_code
        for i in range(posts)
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    timeouts = collections.Counter((r.empty_timeout, r.departure_timeout) for r in fake.rooms.values())
    answers = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
    print(f"  {posts} POSTs from {len(addresses)} address(es) in {elapsed:.2f} s: {answers}")
    print(
        f"    rooms created (each may hold one job): {len(fake.rooms)}, with (empty, departure) timeouts "
        f"{dict(timeouts)} s"
    )


async def no_show_job(restaurant_id: int) -> float:
    """Seconds from the job's start until it asks LiveKit to delete its room, when no diner ever joins."""
    from agent_worker import worker
    from tests.fakes.jobs import job_context
    from tests.fakes.llm import ScriptedLLM

    deleted = asyncio.get_running_loop().create_future()

    def delete_room(room_name=None):
        if not deleted.done():
            deleted.set_result(time.perf_counter())
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    room_name = f"restaurant-{restaurant_id}-" + "0" * 32
    with job_context(job_id="AJ_bench", metadata=json.dumps({"restaurant_id": restaurant_id}), room_name=room_name) as ctx:
        ctx.proc.userdata["llm"] = ScriptedLLM()
        ctx.delete_room = delete_room
        started = time.perf_counter()
        await worker.entrypoint(ctx)
        return await deleted - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=12)
    args = parser.parse_args()

    restaurant = django_with_a_restaurant()
    import agent_worker.worker  # noqa: F401  (LiveKit's plugins register on the main thread only)
    from asgiref.sync import async_to_sync
    from django.conf import settings
    from django.test import Client

    fake = livekit_fake()
    client = Client()

    print(
        f"1. A burst of POSTs to one restaurant (limits: {','.join(settings.CALL_RATE_LIMITS)} per client address, "
        f"{restaurant.max_concurrent_calls} simultaneous calls per restaurant)"
    )
    burst(client, restaurant, fake, args.posts, ["203.0.113.7"])
    settings.RATELIMIT_CACHE_PREFIX = "rl:many:"
    burst(client, restaurant, fake, args.posts, [f"198.51.100.{i}" for i in range(args.posts)])
    fake.stop()

    print(f"2. A job whose diner never comes (AGENT_NO_SHOW_TIMEOUT {settings.AGENT_NO_SHOW_TIMEOUT:g} s)")
    # The text-only session in a fake job context logs about the room it never connected to: not the figure.
    logging.getLogger("livekit.agents").setLevel(logging.CRITICAL)
    logging.getLogger("maitre").setLevel(logging.WARNING)
    held = async_to_sync(no_show_job)(restaurant.pk)
    print(f"  the job deleted its room (ending the job, freeing the worker's slot) {held:.2f} s after it started")
    print(
        f"  LiveKit closes the room itself {settings.LIVEKIT_ROOM_EMPTY_TIMEOUT} s after creating it should the agent "
        "not (a room made by the dispatch alone: 300 s)"
    )


if __name__ == "__main__":
    main()
