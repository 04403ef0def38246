"""The rows of the staff's live view of calls, as events (dispatch/staff/events.py) read from the database for one
connection (dispatch.staff.live.LiveConsumer): the calls a page starts with, and, when the channel layer does not
cross processes, what changed since. The pages (dispatch/staff/views.py) read the same calls.

Why read the database at all: the runagent worker records a call from its own process. With REDIS_URL its events
reach every web process through channels-redis. With the embedded in-memory layer they stay in the worker's
process, so a staff connection reads the rows the worker wrote to the shared database every live.POLL_SECONDS
instead (`CallsFeed.changes`). Either way the browser gets the same events: the writer and this feed call the
same builders.

Synchronous ORM code: the consumer runs it through database_sync_to_async.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..models import Call, CallMessage, ToolCall, TurnFacts
from .events import call_event, facts_event, message_event, ready_calls, tool_call_event
from .live import Feed

# A staff list shows the calls going on, then this many of the newest that are over (ended or failed).
RECENT_CALLS = 50
# A call that started and ended between two polls is found by its end within this long.
JUST_ENDED = dt.timedelta(seconds=60)
# The most messages (tool calls, facts given) one event batch carries for a call; a 15-minute call has far fewer.
MAX_RECORDS = 2000
GOING = (Call.Status.DISPATCHED, Call.Status.ACTIVE)
OVER = (Call.Status.ENDED, Call.Status.FAILED)
CALL_ID = re.compile(r"^[1-9]\d{0,17}$")  # fits a 64-bit key


def calls_of(restaurants: Collection[int] | QuerySet) -> QuerySet:
    """The calls of `restaurants` (ids, or a Restaurant queryset), newest first, ready for events.call_event
    (events.ready_calls)."""
    # An aggregate drops Meta.ordering.
    return ready_calls().filter(restaurant__in=restaurants).order_by("-created_at", "-pk")


def staff_calls(restaurants: Collection[int] | QuerySet) -> tuple[list[Call], list[Call]]:
    """What a staff list of calls shows: the calls of `restaurants` going on (CallQuerySet.not_ended: dispatched
    or active, and young enough to be real), and the RECENT_CALLS newest that ended or failed; newest first in
    each. Two queries."""
    calls = calls_of(restaurants)
    return list(calls.not_ended()), list(calls.filter(status__in=OVER)[:RECENT_CALLS])


@dataclass
class CallsFeed(Feed):
    """One staff connection's view of calls: which restaurants, which call (None: the list of calls), and what it
    has been sent, so that `changes()` returns only what is new.

    `sent_calls` maps a call id to the call payload last sent; `last_message_id`, `last_tool_call_id` and
    `last_facts_id` are the newest of the followed call's records sent (one call's records are written in order,
    by one worker).
    """

    restaurants: frozenset[int]
    call_id: int | None = None
    sent_calls: dict[int, dict] = field(default_factory=dict)
    last_message_id: int = 0
    last_tool_call_id: int = 0
    last_facts_id: int = 0

    @classmethod
    def open(cls, restaurants: frozenset[int], query: Mapping[str, list[str]]) -> CallsFeed | None:
        """The list of calls, or one call's page with `?call=<id>`; None when that is not a number or not a call of
        `restaurants`."""
        values = query.get("call")
        if values is None:
            return cls(restaurants=restaurants)
        if len(values) != 1 or not CALL_ID.match(values[0]):
            return None
        call_id = int(values[0])
        if not Call.objects.filter(pk=call_id, restaurant__in=restaurants).exists():
            return None
        return cls(restaurants=restaurants, call_id=call_id)

    def wants(self, event: dict) -> bool:
        """On a call page, the events of that call only. A call event is also checked against its own restaurant
        (not only the group it came through), so that a publishing bug shows no one another restaurant's call."""
        if event.get("kind") == "call":
            restaurant_id, call_id = event["call"].get("restaurant_id"), event["call"].get("id")
            if restaurant_id not in self.restaurants:
                return False
        else:
            call_id = event.get("call_id")
        return self.call_id in (None, call_id)

    def snapshot(self) -> list[dict]:
        """The events a connection starts with, so that a page that (re)connects catches up with what it missed:
        for a call page, the call and all its records (as `changes()` gives them the first time); for the list,
        a call event for each call `staff_calls` shows. Two queries for the list, four for a call."""
        if self.call_id is not None:
            return self.changes()
        going, over = staff_calls(self.restaurants)
        events = [call_event(call) for call in going + over]
        self._note(events)
        return events

    def changes(self) -> list[dict]:
        """Events for what the database holds and this connection was not sent: a call event for each call whose
        payload is new or changed (its message count included), and, for a call page, the call's new messages,
        tool calls and facts given, sent before its call event. The list of calls gets no message events: its
        counts come with the call events. One query for the list, four for a call."""
        events = []
        if self.call_id is None:
            # The calls that may have changed: those going on, those this page was last told are going on (to
            # see them end), and those that ended lately (a call that began and ended between two polls).
            open_ids = [pk for pk, payload in self.sent_calls.items() if payload["status"] in GOING]
            calls = calls_of(self.restaurants).filter(
                Q(pk__in=Call.objects.not_ended().values("pk"))
                | Q(pk__in=open_ids)
                | Q(ended_at__gte=timezone.now() - JUST_ENDED)
            )
        else:
            messages = CallMessage.objects.filter(call_id=self.call_id, pk__gt=self.last_message_id).order_by("pk")
            tool_calls = ToolCall.objects.filter(call_id=self.call_id, pk__gt=self.last_tool_call_id).order_by("pk")
            facts = TurnFacts.objects.filter(call_id=self.call_id, pk__gt=self.last_facts_id).order_by("pk")
            events += [message_event(m) for m in messages[:MAX_RECORDS]]
            events += [tool_call_event(t) for t in tool_calls[:MAX_RECORDS]]
            events += [facts_event(f) for f in facts[:MAX_RECORDS]]
            calls = calls_of(self.restaurants).filter(pk=self.call_id)
        read = [call_event(call) for call in calls]
        events += [e for e in read if self.sent_calls.get(e["call"]["id"]) != e["call"]]
        self._note(events)
        if self.call_id is None:
            # A call not read here is over and stays so: forget it, so that a page open all day costs no more.
            kept = {e["call"]["id"] for e in read}
            self.sent_calls = {pk: payload for pk, payload in self.sent_calls.items() if pk in kept}
        return events

    def _note(self, events: list[dict]) -> None:
        for event in events:
            if event["kind"] == "call":
                self.sent_calls[event["call"]["id"]] = event["call"]
            elif event["kind"] == "message":
                self.last_message_id = max(self.last_message_id, event["message"]["id"])
            elif event["kind"] == "facts":
                self.last_facts_id = max(self.last_facts_id, event["facts"]["id"])
            else:
                self.last_tool_call_id = max(self.last_tool_call_id, event["tool_call"]["id"])
