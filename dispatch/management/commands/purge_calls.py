"""`manage.py purge_calls [--dry-run]`: deletes the personal data of calls older than CALL_RETENTION_DAYS days
(dispatch.services.call_records_purge) and prints one summary line. Run it daily (README: Deploying)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from dispatch.services import call_records_purge


class Command(BaseCommand):
    help = (
        "Delete call transcripts, the facts given with the agent's answers, tool-call arguments and outputs, and "
        "unanswered questions older than CALL_RETENTION_DAYS days, keeping the calls' times and counts. Safe to "
        "run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print what would be purged; change nothing.")

    def handle(self, *args, dry_run: bool, **options) -> None:
        purge = call_records_purge(dry_run=dry_run)
        older = f"older than {settings.CALL_RETENTION_DAYS} days (created before {purge.before:%Y-%m-%d %H:%M} UTC)"
        if not purge:
            self.stdout.write(f"Nothing to purge: no call records {older}.")
            return
        what = (
            f"{_n(purge.calls, 'call')} {older}: {_n(purge.messages, 'message')}, "
            f"{_n(purge.facts, 'set of facts given', 'sets of facts given')}, "
            f"{_n(purge.questions, 'unanswered question')}, the arguments and outputs of "
            f"{_n(purge.tool_calls, 'tool call')}; and {_n(purge.webhook_ids, 'webhook id')} older than a day"
        )
        self.stdout.write(f"Dry run, nothing changed. Would purge {what}." if dry_run else f"Purged {what}.")


def _n(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
