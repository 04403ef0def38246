"""A record of each diner session: which restaurant, which room, which dispatch."""

from django.db import models


class Call(models.Model):
    """One diner session: the room created for it and LiveKit's id for the agent dispatch into it."""

    restaurant = models.ForeignKey("restaurants.Restaurant", on_delete=models.PROTECT, related_name="calls")
    room_name = models.CharField(max_length=128)
    dispatch_id = models.CharField(max_length=64, help_text="LiveKit's AgentDispatch id (AD_...).")
    participant_identity = models.CharField(max_length=64, help_text="The diner's identity in the room.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["room_name"], name="call_room_name_unique")]

    def __str__(self) -> str:
        return self.room_name
