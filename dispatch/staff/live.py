"""The sending side of the staff's live view of calls: what just happened in a call, sent to its restaurant's
group on the channel layer (Django Channels). Models and views never touch the channel layer; this module does.

Each restaurant has one group, `group_name(restaurant_id)`; a staff page's connection joins the groups of the
staff member's restaurants (dispatch/staff/consumers.py). A message on the layer is
`{"type": "call.event", "restaurant_id": <id>, "event": <event>}` (the restaurant id lets a consumer check the
event is for one of its user's restaurants), the event being one of:
- `{"kind": "call", "call": call_payload(call)}`: the call started, changed status, or ended;
- `{"kind": "message", "call_id": <id>, "message": message_payload(m)}`: one more utterance;
- `{"kind": "tool_call", "call_id": <id>, "tool_call": tool_call_payload(t)}`: one more tool call;
- `{"kind": "facts", "call_id": <id>, "facts": facts_payload(f)}`: the agent's model requests were given new
  facts (dispatch.models.TurnFacts).
Times are ISO 8601 in UTC. The worker (through dispatch.services) and the webhook view publish; with
REDIS_URL the events reach every web process on every machine, without it only the publishing process's own
consumers (a staff page then also reads new rows from the database, see dispatch/staff/consumers.py).
"""

from __future__ import annotations

import datetime as dt
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from ..models import Call, CallMessage, ToolCall, TurnFacts

logger = logging.getLogger("maitre.dispatch")


def group_name(restaurant_id: int) -> str:
    """The channel-layer group of one restaurant's calls: "calls.<restaurant id>"."""
    return f"calls.{restaurant_id}"


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def call_payload(call: Call) -> dict:
    """What a staff page shows of a call: ids, restaurant, channel and caller ("Phone, +44 7700 900123"), status, end reason, UTC times, duration in
    seconds, message count and open unanswered questions (`open_questions`: annotate it, or 0 is sent)."""
    return {
        "id": call.pk,
        "restaurant_id": call.restaurant_id,
        "restaurant": call.restaurant.name,
        "channel": call.channel,
        "caller": call.caller_label,
        "status": call.status,
        "status_label": call.get_status_display(),
        "end_reason": call.get_end_reason_display() if call.end_reason else "",
        "created_at": _time(call.created_at),
        "agent_joined_at": _time(call.agent_joined_at),
        "diner_joined_at": _time(call.diner_joined_at),
        "ended_at": _time(call.ended_at),
        "duration": call.duration,
        "message_count": call.message_count,
        "open_questions": getattr(call, "open_questions", 0),
    }


def message_payload(message: CallMessage) -> dict:
    return {"id": message.pk, "role": message.role, "text": message.text, "created_at": _time(message.created_at)}


def tool_call_payload(tool_call: ToolCall) -> dict:
    return {
        "id": tool_call.pk,
        "name": tool_call.name,
        "arguments": tool_call.arguments,
        "output": tool_call.output,
        "is_error": tool_call.is_error,
        "duration_ms": tool_call.duration_ms,
        "created_at": _time(tool_call.created_at),
    }


def facts_payload(given: TurnFacts) -> dict:
    """`{"id", "facts": [[label, sentence], ...], "created_at"}` (TurnFacts.facts, in the order the model read them)."""
    return {"id": given.pk, "facts": given.facts, "created_at": _time(given.created_at)}


def publish(restaurant_id: int, event: dict) -> None:
    """Send `event` to the restaurant's group. Synchronous (call it from ORM code, not from the event loop's
    thread). A channel layer that cannot be reached loses the event (one warning line): the rows are in the
    database, and a staff page shows them when it loads."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        message = {"type": "call.event", "restaurant_id": restaurant_id, "event": event}
        async_to_sync(layer.group_send)(group_name(restaurant_id), message)
    except Exception as exc:  # noqa: BLE001  (any layer's transport failing: Redis down, a full channel)
        logger.warning("live event for restaurant %s not sent: %r", restaurant_id, exc)


def publish_call(call: Call) -> None:
    """Publish the call's current state (`call_payload`)."""
    publish(call.restaurant_id, {"kind": "call", "call": call_payload(call)})
