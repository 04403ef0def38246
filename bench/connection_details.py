"""How long POST /api/connection-details takes, end to end through Django, against the Twirp fake.

Run: .venv/bin/python bench/connection_details.py [--requests 200]

Uses a throwaway SQLite database in a temp dir (migrated here) and the contract fake of LiveKit's Twirp API
on loopback, so the figure is maitre's own cost (validation, rate limit and line count in the database cache
and tables, the CreateRoom and CreateDispatch round trips, call record, token), not LiveKit's (about 7 ms a
call on loopback, per shared/LIVEKIT.md). The limits are lifted for the run (one client making hundreds of
calls would be refused, rightly): each call is ended before the next. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from harness import django_with_a_restaurant, livekit_fake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    restaurant = django_with_a_restaurant()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from dispatch.models import Call

    fake = livekit_fake()
    settings.CALL_RATE_LIMITS = [f"{args.requests + 1}/m"]

    client = Client()
    body = json.dumps({"restaurant_id": restaurant.pk})
    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.post("/api/connection-details", data=body, content_type="application/json")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
        Call.objects.update(status=Call.Status.ENDED, ended_at=timezone.now())
    fake.stop()

    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"POST /api/connection-details, {args.requests} requests, Twirp fake on loopback")
    print(f"  p50 {q[49]:.1f} ms   p95 {q[94]:.1f} ms   min {timings[0]:.1f} ms   max {timings[-1]:.1f} ms")
    print(f"  dispatches recorded by the fake: {len(fake.dispatches)}")


if __name__ == "__main__":
    main()
