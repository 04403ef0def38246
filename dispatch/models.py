"""A record of each call: which restaurant, which room, which dispatch, how it went, what was said, which
tools answered and which facts the agent was given with its answers; the questions the restaurant's data could
not answer; and LiveKit's webhooks already handled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from restaurants import phones, questions
from restaurants.models import Restaurant


class CallQuerySet(models.QuerySet):
    def not_ended(self) -> CallQuerySet:
        """Calls that may still hold an agent: dispatched or active, and younger than the longest call can be.

        The age bound (settings.CALL_MAX_LIFETIME seconds) keeps a call whose worker died without recording its
        end from counting forever.
        """
        since = timezone.now() - dt.timedelta(seconds=settings.CALL_MAX_LIFETIME)
        return self.filter(status__in=[Call.Status.DISPATCHED, Call.Status.ACTIVE], created_at__gte=since)

    def with_open_questions(self) -> CallQuerySet:
        """Each call with `open_questions`: how many of its unanswered questions are not resolved yet."""
        return self.annotate(
            open_questions=models.Count("unanswered_questions", filter=Q(unanswered_questions__resolved_at=None))
        )


class Call(models.Model):
    """One call: the room created for it, LiveKit's id for the agent dispatch into it, and its course.

    Times are UTC. `duration` is in whole seconds, from the diner joining to the end.
    """

    class Status(models.TextChoices):
        DISPATCHED = "dispatched", "Dispatched (waiting for the agent and the diner)"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"
        FAILED = "failed", "Failed"

    class EndReason(models.TextChoices):
        DINER_HUNG_UP = "diner_hung_up", "Diner hung up"
        AGENT_ENDED = "agent_ended", "Agent ended the call"
        TIME_LIMIT = "time_limit", "Call time limit reached"
        NO_DINER = "no_diner", "No diner joined"
        NO_AGENT = "no_agent", "No agent joined (no worker free)"
        TRANSFERRED = "transferred", "Put through to the staff"
        WRONG_LINE = "wrong_line", "Dialled number is not this restaurant's"
        LIVEKIT_UNAVAILABLE = "livekit_unavailable", "Voice service unreachable"
        ERROR = "error", "Error"

    class Channel(models.TextChoices):
        WEB = "web", "Web"
        PHONE = "phone", "Phone"

    restaurant = models.ForeignKey("restaurants.Restaurant", on_delete=models.PROTECT, related_name="calls")
    room_name = models.CharField(max_length=128)
    dispatch_id = models.CharField(max_length=64, blank=True, help_text="LiveKit's AgentDispatch id (AD_...).")
    participant_identity = models.CharField(max_length=64, help_text="The diner's identity in the room.")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    caller_number = models.CharField(
        max_length=32, blank=True,
        help_text="A phone call's caller as the phone network gave it (E.164, or empty if withheld); "
        "cleared after CALL_RETENTION_DAYS.",
    )  # fmt: skip
    dialled_number = models.CharField(max_length=32, blank=True, help_text="The restaurant's number a phone caller dialled.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DISPATCHED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    agent_joined_at = models.DateTimeField(null=True, blank=True)
    diner_joined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds from the diner joining to the end.")
    end_reason = models.CharField(max_length=24, choices=EndReason.choices, blank=True)
    # Kept when the transcript is purged (CALL_RETENTION_DAYS), for statistics.
    message_count = models.PositiveIntegerField(default=0, help_text="Utterances of the diner and the agent.")
    tool_call_count = models.PositiveIntegerField(default=0)
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the transcript and tool-call details were deleted (retention)."
    )

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room_name"], name="call_room_name_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["ended", "failed"], ended_at__isnull=False)
                | Q(status__in=["dispatched", "active"], ended_at__isnull=True),
                name="call_ended_at_iff_over",
            ),
        ]
        indexes = [
            models.Index(fields=["restaurant", "status"], name="call_restaurant_status"),
            # Covers the insights page's pass over a restaurant's calls of a period (insights.stats): read from
            # the index alone, without visiting each call's row.
            models.Index(
                fields=["restaurant", "created_at", "status", "channel", "purged_at", "duration", "end_reason"],
                name="call_insights",
            ),
        ]

    def __str__(self) -> str:
        return self.room_name

    @property
    def caller_label(self) -> str:
        """How staff pages name the channel: "Web", "Phone, +44 7700 900123" (restaurants.phones.for_people: in
        the national format for a caller from the restaurant's own country) or "Phone, number withheld". Reads
        the restaurant: select_related it for lists."""
        if self.channel != Call.Channel.PHONE:
            return self.get_channel_display()
        return f"Phone, {phones.for_people(self.caller_number, self.restaurant.country) or 'number withheld'}"

    @property
    def dialled_label(self) -> str:
        """The restaurant's number a phone caller dialled, as people write it ("" for a web call)."""
        return phones.for_people(self.dialled_number, self.restaurant.country)


class CallMessage(models.Model):
    """One finished utterance in a call, spoken or typed: the diner's words as transcribed, or the agent's."""

    class Role(models.TextChoices):
        DINER = "diner", "Diner"
        AGENT = "agent", "Agent"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=8, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(help_text="When it was said (UTC).")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.text[:60]}"


class ToolCall(models.Model):
    """One tool the agent called during a call: with what, what it answered, whether that was an error, and how
    long it took (milliseconds)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tool_calls")
    name = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    output = models.TextField(blank=True, help_text="The text the tool returned (or its error sentence).")
    is_error = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="When the model asked for it (UTC).")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class TurnFacts(models.Model):
    """The facts the agent's model requests in a call were given beside the conversation (agent_worker.turn_facts:
    open now, today's hours, the weekly hours, the address and phone, read from the database right before each
    request), so that staff see what an answer without a tool call came from. One row per change: a request
    whose facts are the ones recorded last for the call adds none, so a row holds for the answers after it
    until the next.

    `facts` is a list of [label, sentence] pairs in the order the model read them, e.g.
    `[["Open now?", "Open now (Tuesday 2026-06-09, 20:00), until 23:00."], ["Address and phone", "..."]]`
    (a list, not an object: PostgreSQL's jsonb does not keep keys in order).
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="turn_facts")
    facts = models.JSONField(default=list, help_text="[label, sentence] pairs, in the order the model read them.")
    created_at = models.DateTimeField(help_text="When the model request that carried them was made (UTC).")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "facts given"

    def __str__(self) -> str:
        return self.summary()[:60]

    @property
    def labelled(self) -> list[tuple[str, str]]:
        """The facts as (label as shown, sentence): "Open now?" as it is, any other label with a colon."""
        return [(label if label.endswith("?") else f"{label}:", text) for label, text in self.facts]

    def summary(self) -> str:
        """One line: "Open now? Open now (...), until 23:00. Today's hours: ... Address and phone: ..."."""
        return " ".join(f"{label} {text}" for label, text in self.labelled)


class UnansweredQuestionQuerySet(models.QuerySet):
    def open(self) -> UnansweredQuestionQuerySet:
        return self.filter(resolved_at__isnull=True)

    def grouped(self) -> tuple[list[QuestionGroup], int]:
        """These questions, the newest questions.MAX_GROUPED of them, grouped per restaurant into wordings that ask
        the same thing (restaurants.questions.group), newest group first; and how many older ones were left out.
        Two queries (the questions, their restaurants) and a third to count when some were left out."""
        rows = list(
            self.order_by("-created_at", "-pk").values_list("pk", "restaurant_id", "question", "created_at")[
                : questions.MAX_GROUPED
            ]
        )
        left_out = self.count() - len(rows) if len(rows) == questions.MAX_GROUPED else 0
        restaurants = Restaurant.objects.in_bulk({row[1] for row in rows})
        groups = []
        for restaurant_id, restaurant in restaurants.items():
            asked = [(pk, text, at) for pk, r, text, at in rows if r == restaurant_id]
            groups += [QuestionGroup.of(restaurant, g) for g in questions.group(asked)]
        groups.sort(key=lambda g: (g.latest, g.ids[0]), reverse=True)
        return groups, left_out

    def group_of(self, asked: UnansweredQuestion) -> list[int]:
        """The ids of the open questions of `asked`'s restaurant, among these, that ask what `asked` asks (its group
        in `grouped`), newest first, `asked` among them; just [asked.pk] when it is older than the newest
        questions.MAX_GROUPED or resolved. One query."""
        rows = self.open().filter(restaurant_id=asked.restaurant_id).order_by("-created_at", "-pk")
        rows = rows.values_list("pk", "question", "created_at")[: questions.MAX_GROUPED]
        for group in questions.group(rows):
            if asked.pk in group.items:
                return group.items
        return [asked.pk]


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions of one restaurant that ask the same thing: `ids` (newest first), `wordings` as
    (wording, times asked), most asked first, and when the newest was asked (`latest`, UTC)."""

    restaurant: Restaurant
    ids: list[int]
    wordings: list[tuple[str, int]]
    latest: dt.datetime

    @classmethod
    def of(cls, restaurant: Restaurant, group: questions.Group) -> QuestionGroup:
        return cls(restaurant, list(group.items), [(text, n) for text, n in group.wordings], group.latest)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def question(self) -> str:
        """The wording asked most."""
        return self.wordings[0][0]


class UnansweredQuestion(models.Model):
    """A diner's question about the restaurant that its data could not answer (an unknown dish, parking,
    reservations...), recorded by the agent for staff to fix the menu or the hours, or to note an answer."""

    restaurant = models.ForeignKey(
        "restaurants.Restaurant", on_delete=models.CASCADE, related_name="unanswered_questions"
    )
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="unanswered_questions"
    )
    question = models.CharField(max_length=300, help_text="The diner's question, in short.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.TextField(blank=True, help_text="What was done about it, for the other staff.")

    objects = UnansweredQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.question


class WebhookEvent(models.Model):
    """A LiveKit webhook already handled: LiveKit delivers at least once, so a repeated event id is skipped."""

    event_id = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=32)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.event} {self.event_id}"
