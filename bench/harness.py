"""What the in-process benchmarks share: Django on a throwaway SQLite database with Trattoria Test in it, and
LiveKit's Twirp API as the contract fake from tests/fakes, with settings pointing at it."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def django_with_a_restaurant(database_url: str = ""):
    """Set Django up on a new database (DEBUG off, plain HTTP), migrate it, and return Trattoria Test
    (tests.conftest.make_restaurant) made in it. The database is a SQLite file in a temp dir, or `database_url`,
    which must name an empty database (see `throwaway_postgres`)."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url or f"sqlite:///{tempfile.mkdtemp(prefix='maitre-bench-')}/bench.sqlite3",
        SECRET_KEY="bench-only",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tests.conftest import make_restaurant

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["testserver"]
    return make_restaurant()


def livekit_fake():
    """The Twirp fake, started, with LIVEKIT_URL and the key pair pointing at it. Stop it with `.stop()`."""
    from django.conf import settings

    from tests.conftest import API_KEY, API_SECRET
    from tests.fakes.twirp import FakeLiveKitServer

    fake = FakeLiveKitServer(API_KEY, API_SECRET).start()
    settings.LIVEKIT_URL, settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET = fake.ws_url, API_KEY, API_SECRET
    return fake


@contextlib.contextmanager
def throwaway_postgres(server: str = "postgres://postgres@127.0.0.1:5432"):
    """A new, empty PostgreSQL database on `server` for the block (its URL), dropped afterwards."""
    import psycopg

    name = f"maitre_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
