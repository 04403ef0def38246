"""A record of each call: which restaurant, which room, which dispatch, and how it went."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CallQuerySet(models.QuerySet):
    def not_ended(self) -> CallQuerySet:
        """Calls that may still hold an agent: dispatched or active, and younger than the longest call can be.

        The age bound (settings.CALL_MAX_LIFETIME seconds) keeps a call whose worker died without recording its
        end from counting forever.
        """
        since = timezone.now() - dt.timedelta(seconds=settings.CALL_MAX_LIFETIME)
        return self.filter(status__in=[Call.Status.DISPATCHED, Call.Status.ACTIVE], created_at__gte=since)


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
        LIVEKIT_UNAVAILABLE = "livekit_unavailable", "Voice service unreachable"
        ERROR = "error", "Error"

    class Channel(models.TextChoices):
        WEB = "web", "Web"

    restaurant = models.ForeignKey("restaurants.Restaurant", on_delete=models.PROTECT, related_name="calls")
    room_name = models.CharField(max_length=128)
    dispatch_id = models.CharField(max_length=64, blank=True, help_text="LiveKit's AgentDispatch id (AD_...).")
    participant_identity = models.CharField(max_length=64, help_text="The diner's identity in the room.")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DISPATCHED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    agent_joined_at = models.DateTimeField(null=True, blank=True)
    diner_joined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds from the diner joining to the end.")
    end_reason = models.CharField(max_length=24, choices=EndReason.choices, blank=True)

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
        indexes = [models.Index(fields=["restaurant", "status"], name="call_restaurant_status")]

    def __str__(self) -> str:
        return self.room_name
