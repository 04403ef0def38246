"""A call's life in our database, and the writes that span our database and LiveKit.

The web side starts calls (`call_start`) and hears from a diner's page that no agent came
(`call_no_agent`); phone calls start at LiveKit's SIP bridge, and the worker records them once answered
(`call_phone_answered`); the worker reports what happens in the room (`call_agent_joined`, `call_diner_joined`,
`call_message_add`, `call_tool_call_add`, `call_facts_add`, `unanswered_question_add`, `call_end`), and so
do LiveKit's webhooks for the joins and the end, which is how a call is closed even when its worker died.
Those are synchronous ORM code (the worker runs them through its ORM bridge); each change is also published
to the staff's live view (dispatch/staff/events.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from restaurants.models import HouseFact, Restaurant

from . import job_metadata
from .livekit import client, rooms, webhooks
from .models import Call, CallMessage, ToolCall, TurnFacts, UnansweredQuestion, WebhookEvent
from .staff import events

logger = logging.getLogger("maitre.dispatch")

# A call no agent joined within this long never will: LiveKit drops a dispatch it cannot place at once.
NO_AGENT_AFTER = dt.timedelta(seconds=60)


class CallLimitReached(Exception):
    """The restaurant already has `max_concurrent_calls` calls that have not ended."""


@dataclass(frozen=True)
class ConnectionDetails:
    server_url: str
    participant_token: str
    room_name: str


def _reserve_call(restaurant_id: int) -> Call:
    """A new Call row (status dispatched) for the active restaurant, unless its lines are all taken.

    Runs in one transaction holding the restaurant's row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
    write lock, see settings), so two diners cannot both take the last line. Raises Restaurant.DoesNotExist
    (unknown or inactive) and CallLimitReached.
    """
    with transaction.atomic():
        restaurant = Restaurant.objects.active().select_for_update().get(pk=restaurant_id)
        Call.objects.filter(
            restaurant=restaurant, status=Call.Status.DISPATCHED, agent_joined_at__isnull=True,
            created_at__lt=timezone.now() - NO_AGENT_AFTER,
        ).update(status=Call.Status.FAILED, end_reason=Call.EndReason.NO_AGENT, ended_at=F("created_at") + NO_AGENT_AFTER)  # fmt: skip
        if restaurant.calls.not_ended().count() >= restaurant.max_concurrent_calls:
            raise CallLimitReached(restaurant.name)
        return Call.objects.create(
            restaurant=restaurant,
            room_name=rooms.new_room_name(restaurant.pk),
            participant_identity=rooms.new_diner_identity(),
        )


async def call_start(*, restaurant_id: int) -> ConnectionDetails:
    """Start a diner's call: take one of the restaurant's lines, open a fresh room with the agent dispatched
    to it, and mint the diner's token for that room.

    The line is taken (a Call row) before LiveKit is asked, so the cap holds under concurrent requests; the
    token is minted only after LiveKit accepted the dispatch. Raises Restaurant.DoesNotExist, CallLimitReached,
    LiveKitNotConfigured, and LiveKitUnavailable (the call is then recorded as failed).
    """
    if missing := client.missing_settings():
        raise client.LiveKitNotConfigured(", ".join(missing))
    call = await sync_to_async(_reserve_call)(restaurant_id)
    try:
        dispatch_id = await rooms.create_room_and_dispatch(
            room_name=call.room_name, job_metadata=job_metadata.web_call(call.restaurant_id)
        )
    except (client.LiveKitNotConfigured, client.LiveKitUnavailable):
        await Call.objects.filter(pk=call.pk).aupdate(
            status=Call.Status.FAILED, end_reason=Call.EndReason.LIVEKIT_UNAVAILABLE, ended_at=timezone.now()
        )
        raise
    await Call.objects.filter(pk=call.pk).aupdate(dispatch_id=dispatch_id)
    await sync_to_async(_publish)(call.room_name)  # the staff's live view shows the call from its dispatch
    return ConnectionDetails(
        server_url=settings.LIVEKIT_URL,
        participant_token=rooms.diner_token(room_name=call.room_name, identity=call.participant_identity),
        room_name=call.room_name,
    )


async def call_no_agent(*, grant: rooms.DinerGrant) -> bool:
    """The diner's page gave up waiting for the agent: record the call as failed and delete its room.

    Only a call still waiting for its agent changes; returns True if it did. Deleting the room frees it at
    LiveKit at once (best effort: LiveKit closes it on its own after the empty timeout).
    """
    failed = await Call.objects.filter(
        room_name=grant.room_name, participant_identity=grant.identity,
        status=Call.Status.DISPATCHED, agent_joined_at__isnull=True,
    ).aupdate(status=Call.Status.FAILED, end_reason=Call.EndReason.NO_AGENT, ended_at=timezone.now())  # fmt: skip
    if failed:
        logger.warning("call in %s failed: no agent joined (no worker free?)", grant.room_name)
        try:
            await rooms.close_call_room(room_name=grant.room_name)
        except (client.LiveKitNotConfigured, client.LiveKitUnavailable):
            pass  # logged by dispatch.livekit.client
    return bool(failed)


# --- What happens in the room: the worker reports it, and LiveKit's webhooks (synchronous ORM code) --------


def _publish(room_name: str) -> None:
    """Send the call's current state to the staff's live view (one query)."""
    call = events.ready_calls().filter(room_name=room_name).first()
    if call is not None:
        events.CALLS.publish(call.restaurant_id, events.call_event(call))


def call_phone_answered(
    *, room_name: str, restaurant_id: int, dispatch_id: str, caller_identity: str, caller_number: str,
    dialled_number: str, answered: bool = True, at: dt.datetime | None = None,
) -> None:  # fmt: skip
    """A phone call in `room_name` (made by LiveKit's SIP dispatch rule, so no web request recorded it): its
    Call row, channel phone, with the agent joined at `at` (default UTC now) and, if the agent `answered` it,
    active with the caller joined then too (else dispatched: the call's end then records it as failed).
    `caller_number` and `dialled_number` are the SIP participant's `sip.phoneNumber` and
    `sip.trunkPhoneNumber` (cut to the field's length). A room already recorded is left as it is (the worker
    retries a write the database refused)."""
    at = at or timezone.now()
    field_length = Call._meta.get_field("caller_number").max_length
    _, created = Call.objects.get_or_create(
        room_name=room_name,
        defaults={
            "restaurant_id": restaurant_id, "dispatch_id": dispatch_id, "participant_identity": caller_identity[:64],
            "channel": Call.Channel.PHONE, "caller_number": caller_number[:field_length],
            "dialled_number": dialled_number[:field_length],
            "status": Call.Status.ACTIVE if answered else Call.Status.DISPATCHED,
            "agent_joined_at": at, "diner_joined_at": at if answered else None,
        },
    )  # fmt: skip
    if created:
        _publish(room_name)


def call_agent_joined(*, room_name: str, at: dt.datetime | None = None) -> None:
    """The agent is in `room_name`: stamp agent_joined_at (`at`, default UTC now) on its call, if it has none."""
    if Call.objects.filter(room_name=room_name, agent_joined_at__isnull=True).update(agent_joined_at=at or timezone.now()):
        _publish(room_name)


def call_diner_joined(*, room_name: str, at: dt.datetime | None = None) -> None:
    """The diner joined `room_name`: its call becomes active, diner_joined_at = `at` (default UTC now)."""
    if Call.objects.filter(room_name=room_name, status=Call.Status.DISPATCHED).update(
        status=Call.Status.ACTIVE, diner_joined_at=at or timezone.now()
    ):
        _publish(room_name)


def call_end(*, room_name: str, reason: Call.EndReason, at: dt.datetime | None = None) -> None:
    """The call in `room_name` is over, for `reason`, at `at` (default UTC now): ended (with its duration in
    seconds) if the diner had joined, failed if not.

    A call already over keeps its first ending, with one exception: "agent ended", which is what LiveKit's
    room_finished says when it knows no better, gives way to a more telling reason that comes after it (the
    worker's "time limit" or "error", written once the room was already gone); the times stay.
    """
    now = at or timezone.now()
    changed = 0
    for call in Call.objects.filter(room_name=room_name, status__in=[Call.Status.DISPATCHED, Call.Status.ACTIVE]):
        joined = call.diner_joined_at
        changed += Call.objects.filter(pk=call.pk, status=call.status).update(
            status=Call.Status.ENDED if joined else Call.Status.FAILED,
            end_reason=reason,
            ended_at=now,
            duration=max(round((now - joined).total_seconds()), 0) if joined else None,
        )
    if not changed and reason != Call.EndReason.AGENT_ENDED:
        changed = Call.objects.filter(room_name=room_name, end_reason=Call.EndReason.AGENT_ENDED).update(end_reason=reason)
    if changed:
        _publish(room_name)


def call_message_add(*, room_name: str, role: CallMessage.Role, text: str, at: dt.datetime) -> None:
    """One finished utterance (`role` diner or agent, said at `at`) in the call of `room_name`. Nothing for a
    room no call was recorded for (console mode)."""
    call = Call.objects.filter(room_name=room_name).first()
    if call is None:
        return
    message = CallMessage.objects.create(call=call, role=role, text=text, created_at=at)
    Call.objects.filter(pk=call.pk).update(message_count=F("message_count") + 1)
    events.CALLS.publish(call.restaurant_id, events.message_event(message))


def call_tool_call_add(
    *, room_name: str, name: str, arguments: dict, output: str, is_error: bool, duration_ms: int | None,
    at: dt.datetime,
) -> None:  # fmt: skip
    """One tool call in the call of `room_name`: asked for at `at`, with `arguments`, answering `output` (its
    error sentence when `is_error`) after `duration_ms` milliseconds. Nothing for a room with no call."""
    call = Call.objects.filter(room_name=room_name).first()
    if call is None:
        return
    tool_call = ToolCall.objects.create(
        call=call, name=name, arguments=arguments, output=output, is_error=is_error, duration_ms=duration_ms,
        created_at=at,
    )  # fmt: skip
    Call.objects.filter(pk=call.pk).update(tool_call_count=F("tool_call_count") + 1)
    events.CALLS.publish(call.restaurant_id, events.tool_call_event(tool_call))


def call_facts_add(*, room_name: str, facts: list[list[str]], at: dt.datetime) -> None:
    """The facts a model request in the call of `room_name` was given at `at` (TurnFacts.facts: [label, sentence]
    pairs). Nothing when they are the facts recorded last for that call (those still held), or for a room with
    no call. Two queries when they are the same, three when they are new."""
    call = Call.objects.filter(room_name=room_name).first()
    if call is None:
        return
    last = TurnFacts.objects.filter(call=call).order_by("-created_at", "-pk").values_list("facts", flat=True).first()
    if last == facts:
        return
    given = TurnFacts.objects.create(call=call, facts=facts, created_at=at)
    events.CALLS.publish(call.restaurant_id, events.facts_event(given))


def unanswered_question_add(*, room_name: str, restaurant_id: int, question: str) -> UnansweredQuestion:
    """A question the restaurant's data did not answer, asked in the call of `room_name` (if one was recorded;
    in console mode there is none) at the restaurant `restaurant_id`."""
    call = Call.objects.filter(room_name=room_name).first()
    asked = UnansweredQuestion.objects.create(restaurant_id=restaurant_id, call=call, question=question)
    if call is not None:
        _publish(room_name)
    return asked


def unanswered_question_answer(
    *, asked: UnansweredQuestion, answer: str, question: str = ""
) -> tuple[HouseFact, list[UnansweredQuestion]]:
    """Staff answer `asked` once ("Answer it"): in one transaction, a house fact of its restaurant (`question`, the
    question as diners ask it, or else `asked`'s wording; `answer`, what the agent may say; `asked` as its source)
    and `asked` with the other open questions of its group (UnansweredQuestionQuerySet.group_of) resolved now, each
    with a staff note naming the fact. The agent uses the fact from the diner's next question on.

    Returns the fact and the questions it resolved (`asked` first if it was open). Raises ValidationError, changing
    nothing, for an empty answer or question, one too long (restaurants.models.MAX_FACT_*_LENGTH), a question
    the restaurant already has a fact for, or a restaurant at MAX_ACTIVE_HOUSE_FACTS."""
    with transaction.atomic():
        group = UnansweredQuestion.objects.group_of(asked)
        fact = HouseFact(
            restaurant_id=asked.restaurant_id, question=" ".join((question or asked.question).split()),
            answer=answer.strip(), source=asked,
        )  # fmt: skip
        fact.full_clean()
        fact.save()
        now, note = timezone.now(), f"Answered with the house fact “{fact.question}”."
        # Locked, so that a question resolved meanwhile by a colleague keeps their time and note.
        rows = UnansweredQuestion.objects.select_for_update().filter(pk__in=group, resolved_at__isnull=True)
        resolved = sorted(rows, key=lambda q: (q.pk != asked.pk, -q.created_at.timestamp()))
        for row in resolved:
            row.resolved_at = now
            row.staff_note = f"{row.staff_note}\n{note}" if row.staff_note else note
            row.save(update_fields=["resolved_at", "staff_note"])
    return fact, resolved


# --- LiveKit's webhooks: the joins and the end, told by LiveKit itself ------------------------------------

# The events that change a call; LiveKit's others (room_started, track_*, egress_*...) are acknowledged only.
CALL_EVENTS = ("participant_joined", "participant_left", "room_finished")


def call_webhook_event(*, event: webhooks.VerifiedWebhook) -> bool:
    """Apply one verified LiveKit webhook (webhooks.read_webhook) to the call in its room, through the
    same services the worker uses, so a call is recorded right even when its worker died:
    - participant_joined: the agent (kind agent) -> call_agent_joined; the diner (the call's participant
      identity, or a phone caller) -> call_diner_joined; at the event's time;
    - participant_left: the same join, at the time LiveKit says the participant joined (so a late or lost
      participant_joined changes nothing); then, if the diner hung up, call_end "diner hung up" at the event's
      time (a diner who dropped out may come back: the room's end settles that);
    - room_finished: call_end at the event's time, "no agent" / "no diner" / "agent ended" from what the record
      shows (a call already over keeps its first ending).
    Returns True if applied; False for another event, a room with no call, or an event id already handled
    (LiveKit delivers at least once): the id is stored (WebhookEvent) in the transaction of its effect.
    """
    if event.name not in CALL_EVENTS:
        return False
    with transaction.atomic():
        call = Call.objects.filter(room_name=event.room_name).first()
        if call is None:
            return False
        _, new = WebhookEvent.objects.get_or_create(event_id=event.id, defaults={"event": event.name})
        if new:
            _call_webhook_effect(call, event)
    return new


def _call_webhook_effect(call: Call, event: webhooks.VerifiedWebhook) -> None:
    if event.name == "room_finished":
        if call.agent_joined_at is None:
            reason = Call.EndReason.NO_AGENT
        else:
            reason = Call.EndReason.NO_DINER if call.diner_joined_at is None else Call.EndReason.AGENT_ENDED
        call_end(room_name=call.room_name, reason=reason, at=event.at)
        return
    who = event.participant
    if who is None:
        return
    joined_at = event.at if event.name == "participant_joined" else who.joined_at or event.at
    if who.kind == "agent":
        call_agent_joined(room_name=call.room_name, at=joined_at)
    elif who.kind == "sip" or (who.kind == "standard" and who.identity == call.participant_identity):
        call_diner_joined(room_name=call.room_name, at=joined_at)
        if who.hung_up:
            call_end(room_name=call.room_name, reason=Call.EndReason.DINER_HUNG_UP, at=event.at)


# --- Retention: what the diners said is kept CALL_RETENTION_DAYS days ----------------------------------------

# LiveKit redelivers a webhook for minutes at most: a day's handled ids recognise every repeat.
WEBHOOK_IDS_KEPT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Purge:
    """What call_records_purge deleted, or would delete: calls purged (created before `before`, UTC), their
    messages and facts given (TurnFacts rows) deleted and tool calls cleared, unanswered questions deleted,
    handled webhook ids forgotten."""

    before: dt.datetime
    calls: int
    messages: int
    facts: int
    tool_calls: int
    questions: int
    webhook_ids: int

    def __bool__(self) -> bool:
        return any((self.calls, self.messages, self.facts, self.tool_calls, self.questions, self.webhook_ids))


def call_records_purge(*, dry_run: bool = False) -> Purge:
    """Delete the personal data of calls created more than CALL_RETENTION_DAYS days ago: their messages and the
    facts given with the agent's answers (they go with the transcript they explain), phone callers' numbers, their
    tool calls' arguments and outputs (the rows stay: name, error or not, duration and time are statistics),
    and the unanswered questions asked before then; each such call keeps its row, times, status and counts and
    gets `purged_at`. Also forgets handled webhook ids older than WEBHOOK_IDS_KEPT. One transaction; calls
    already purged are skipped, so a second run changes nothing. `dry_run`: count only, change nothing.
    """
    now = timezone.now()
    before = now - dt.timedelta(days=settings.CALL_RETENTION_DAYS)
    with transaction.atomic():
        calls = Call.objects.filter(created_at__lt=before, purged_at__isnull=True)
        messages = CallMessage.objects.filter(call__in=calls)
        facts = TurnFacts.objects.filter(call__in=calls)
        tool_calls = ToolCall.objects.filter(call__in=calls)
        questions = UnansweredQuestion.objects.filter(created_at__lt=before)
        webhook_ids = WebhookEvent.objects.filter(received_at__lt=now - WEBHOOK_IDS_KEPT)
        if dry_run:
            counts = (
                calls.count(), messages.count(), facts.count(), tool_calls.count(), questions.count(),
                webhook_ids.count(),
            )  # fmt: skip
            return Purge(before, *counts)
        messages_deleted = messages.delete()[0]
        facts_deleted = facts.delete()[0]
        tool_calls_cleared = tool_calls.update(arguments={}, output="")
        # The calls last: the queries above pick their rows by the call not being purged yet.
        calls_purged = calls.update(purged_at=now, caller_number="")
        return Purge(
            before, calls_purged, messages_deleted, facts_deleted, tool_calls_cleared, questions.delete()[0],
            webhook_ids.delete()[0],
        )
