"""`manage.py doctor [--json] [--wait SECONDS]`: is every part of this deployment there and wired right?"""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError

from dispatch import doctor

MAX_WAIT = 60.0


class Command(BaseCommand):
    help = (
        "Check every part maitre needs, one line each, `ok` or `FAIL: <what to do>`: the database and its "
        "migrations, LiveKit and the API key pair, a worker registered as LIVEKIT_AGENT_NAME (it is dispatched to "
        "a throwaway room), the phone lines' SIP trunk and rules on LiveKit, the model server and the configured models, collected static files, Redis, and "
        "`check --deploy`. Exit status 1 when any check fails."
    )
    requires_system_checks = []  # doctor runs them itself (the deploy check), and must run when they fail
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help='one JSON object: {"ok": bool, "checks": [...]}')
        parser.add_argument(
            "--wait", type=float, default=doctor.AGENT_WAIT, metavar="SECONDS",
            help=f"how long to wait for the agent to join doctor's room (default {doctor.AGENT_WAIT:g}, at most "
                 f"{MAX_WAIT:g})",
        )  # fmt: skip

    def handle(self, *args, wait: float, **options) -> None:
        if not 0 < wait <= MAX_WAIT:
            raise CommandError(f"--wait is in seconds, more than 0 and at most {MAX_WAIT:g}.")
        # A PostgreSQL host that drops packets would hold the first query for minutes: libpq reads this.
        os.environ.setdefault("PGCONNECT_TIMEOUT", str(int(doctor.CHECK_TIMEOUT)))
        with doctor.quiet("maitre.dispatch"):
            results = doctor.run_all(agent_wait=wait)
        healthy = all(r.ok for r in results)
        if options["json"]:
            self.stdout.write(json.dumps({"ok": healthy, "checks": [r.as_dict() for r in results]}))
        else:
            width = max(len(r.name) for r in results)
            for r in results:
                verdict = ("ok" + (f" ({r.message})" if r.message else "")) if r.ok else f"FAIL: {r.message}"
                line = f"{r.name.ljust(width)}  {verdict}"
                self.stdout.write(self.style.SUCCESS(line) if r.ok else self.style.ERROR(line))
        if not healthy:
            raise SystemExit(1)

