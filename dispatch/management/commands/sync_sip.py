"""`manage.py sync_sip [--dry-run]`: makes LiveKit's SIP trunk and dispatch rules match the restaurants' phone
lines (dispatch/sip.py says what is wanted), printing one line per change, or "nothing to change".

Safe to run again: a second run changes nothing. Run it after deploying, after editing lines outside admin, or
when admin said LiveKit refused a line. Errors (LiveKit not configured, unreachable, refusing the API key,
without Redis for SIP...) are one sentence on stderr and exit status 1; what was applied before stays applied.
"""

from __future__ import annotations

import asyncio
import sys

from django.core.management.base import BaseCommand

from dispatch import sip


class Command(BaseCommand):
    help = (
        "Make LiveKit's SIP configuration match the phone lines: one inbound trunk for every live number and one "
        "dispatch rule per line. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        lines = sip.current_lines()
        try:
            trunks, rules = asyncio.run(sip.read_livekit())
            actions = sip.plan(lines, trunks, rules)
            if not actions:
                self.stdout.write("nothing to change")
            elif dry_run:
                for action in actions:
                    self.stdout.write(action.text)
                self.stdout.write("dry run: nothing was changed")
            else:
                asyncio.run(sip.apply(actions, done=lambda action: self.stdout.write(action.text)))
        except sip.SYNC_ERRORS as exc:
            self.stderr.write(sip.explain(exc))
            sys.exit(1)
