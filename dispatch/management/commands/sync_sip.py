"""`manage.py sync_sip [--dry-run | --check]`: makes LiveKit's SIP trunk and dispatch rules match the
restaurants' phone lines (dispatch/phone_lines.py says what is wanted), printing one line per change, or "nothing to
change".

Safe to run again: a second run changes nothing. Run it after deploying, after editing lines outside admin, or
when admin said LiveKit refused a line. `--check` changes nothing and exits with status 1 when LiveKit differs
from the lines (for a deploy pipeline or a cron job). Errors (LiveKit not configured, unreachable, refusing the
API key, without Redis for SIP, older than phone lines need...) are one sentence on stderr and exit status 1;
what was applied before stays applied.
"""

from __future__ import annotations

import asyncio
import sys

from django.core.management.base import BaseCommand

from dispatch import phone_lines


class Command(BaseCommand):
    help = (
        "Make LiveKit's SIP configuration match the phone lines: one inbound trunk for every live number and one "
        "dispatch rule per line. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")
        what.add_argument(
            "--check", action="store_true",
            help="Print what would change and exit with status 1 if anything would; change nothing.",
        )  # fmt: skip

    def handle(self, *args, dry_run: bool, check: bool, **options) -> None:
        try:
            _lines, actions = phone_lines.pending()
            if not actions:
                self.stdout.write("nothing to change")
            elif dry_run or check:
                for action in actions:
                    self.stdout.write(action.text)
                if check:
                    self.stderr.write(f"LiveKit differs from the phone lines ({len(actions)} change(s)): run "
                                      "manage.py sync_sip.")  # fmt: skip
                    sys.exit(1)
                self.stdout.write("dry run: nothing was changed")
            else:
                asyncio.run(phone_lines.apply(actions, done=lambda action: self.stdout.write(action.text)))
        except phone_lines.SYNC_ERRORS as exc:
            self.stderr.write(phone_lines.explain(exc))
            sys.exit(1)
