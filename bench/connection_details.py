"""How long POST /api/connection-details takes, end to end through Django, against the Twirp fake.

Run: .venv/bin/python bench/connection_details.py [--requests 200]

Uses a throwaway SQLite database in a temp dir (migrated here) and the contract fake of LiveKit's Twirp API
on loopback, so the figure is maitre's own cost (validation, ORM, dispatch round trip, call record, token),
not LiveKit's (about 7 ms on loopback, per shared/LIVEKIT.md). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="maitre-bench-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
        SECRET_KEY="bench-only",
        DEBUG="false",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from tests.conftest import API_KEY, API_SECRET, make_restaurant
    from tests.fakes.twirp import FakeLiveKitServer

    call_command("migrate", verbosity=0)
    restaurant = make_restaurant()
    fake = FakeLiveKitServer(API_KEY, API_SECRET).start()
    settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = fake.ws_url, API_KEY, API_SECRET
    settings.ALLOWED_HOSTS = ["testserver"]

    client = Client()
    body = json.dumps({"restaurant_id": restaurant.pk})
    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.post("/api/connection-details", data=body, content_type="application/json")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    fake.stop()

    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"POST /api/connection-details, {args.requests} requests, Twirp fake on loopback")
    print(f"  p50 {q[49]:.1f} ms   p95 {q[94]:.1f} ms   min {timings[0]:.1f} ms   max {timings[-1]:.1f} ms")
    print(f"  dispatches recorded by the fake: {len(fake.dispatches)}")


if __name__ == "__main__":
    main()
