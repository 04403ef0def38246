"""The calls of a period as CSV, one row per call, oldest first, for staff to open in a spreadsheet.

Columns (COLUMNS): the call's id; when it started, in the restaurant's local time with its offset
(2026-06-09T20:00:00+02:00) and in UTC (2026-06-09T18:00:00Z); the local date; channel, status and how it ended
(the words staff see in admin); its length in whole seconds (empty for a call not answered); how many messages and
tool calls; how many unanswered questions it raised and the first of them; how many orders were placed and tables
booked on it. No caller's number: a file that leaves maitre escapes CALL_RETENTION_DAYS.

Streamed: rows are read MAX_CHUNK at a time by keyset (created_at, id), so memory stays flat and the web process
sends the first bytes at once. The generator is asynchronous because the web app is served over ASGI, where Django
would first read a synchronous one to its end. Cells a spreadsheet would read as a formula (starting with =, +, -,
@, a tab or a carriage return: a diner's question can be anything) are written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from dispatch.models import Call, UnansweredQuestion
from orders.models import Order
from reservations.models import Reservation

from .stats import Period

# Rows read per query.
MAX_CHUNK = 2000
# The most calls one export holds: ten times a busy restaurant's 90 days (about 250 calls a day).
MAX_EXPORT = 250_000
COLUMNS = (
    "call_id", "started_local", "started_utc", "local_date", "channel", "status", "ended_because",
    "length_seconds", "messages", "tool_calls", "unanswered_questions", "first_unanswered_question",
    "orders_placed", "tables_booked",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value` as a spreadsheet should show it: text starting like a formula gets a leading apostrophe
    ("=HYPERLINK(...)" -> "'=HYPERLINK(...)"); numbers and None as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _count(queryset) -> Subquery:
    """The number of rows of `queryset` (filtered by call=OuterRef("pk")) for each call, 0 when none."""
    counted = queryset.order_by().values("call").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def calls_for_export(period: Period):
    """The period's calls with what the CSV needs, ordered by (created_at, id)."""
    questions = UnansweredQuestion.objects.filter(call=OuterRef("pk"))
    return (
        period.calls()
        .annotate(
            questions_n=_count(questions),
            first_question=Subquery(questions.order_by("created_at", "pk").values("question")[:1]),
            orders_n=_count(Order.objects.filter(call=OuterRef("pk"), placed_at__isnull=False)),
            bookings_n=_count(Reservation.objects.filter(call=OuterRef("pk"))),
        )
        .order_by("created_at", "pk")
        .values_list(
            "pk", "created_at", "channel", "status", "end_reason", "duration", "message_count", "tool_call_count",
            "questions_n", "first_question", "orders_n", "bookings_n",
        )  # fmt: skip
    )


def _chunk(period: Period, after: tuple[dt.datetime, int] | None) -> list[tuple]:
    rows = calls_for_export(period)
    if after is not None:
        at, pk = after
        rows = rows.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk))
    return list(rows[:MAX_CHUNK])


async def csv_lines(period: Period) -> AsyncIterator[str]:
    """The CSV's lines (header first), each ending with CRLF, read from the database a chunk at a time."""
    zone = period.zone
    channels, statuses, reasons = dict(Call.Channel.choices), dict(Call.Status.choices), dict(Call.EndReason.choices)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(COLUMNS)
    after = None
    while True:
        chunk = await sync_to_async(_chunk)(period, after)
        for pk, created, channel, status, reason, duration, messages, tools, asked, first, orders, bookings in chunk:
            local = created.astimezone(zone)
            yield line((
                pk, local.isoformat(timespec="seconds"), created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                local.date().isoformat(), channels.get(channel, channel), statuses.get(status, status),
                reasons.get(reason, reason), duration, messages, tools, asked, first or "", orders, bookings,
            ))  # fmt: skip
        if len(chunk) < MAX_CHUNK:
            return
        after = (chunk[-1][1], chunk[-1][0])
