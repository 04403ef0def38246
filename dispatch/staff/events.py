"""The events of the staff's live view of calls: the JSON the list of calls and a call's page receive, one builder
per kind. Whoever sends an event builds it here: the writer (dispatch.services, as the worker and LiveKit's
webhooks change a call, publishes it: `CALLS.publish(restaurant_id, event)`) and the feed (dispatch/staff/feed.py:
the snapshot a page starts with, and what it polls from the database when the channel layer does not cross
processes). So a page reads one shape whatever brought the event.

- `call_event(call)`: `{"kind": "call", "call": {...}}`: the call started, changed status, or ended (and, read
  by the feed, its counts changed);
- `message_event(message)`: `{"kind": "message", "call_id": <id>, "message": {...}}`: one more utterance;
- `tool_call_event(tool_call)`: `{"kind": "tool_call", "call_id": <id>, "tool_call": {...}}`: one more tool call;
- `facts_event(given)`: `{"kind": "facts", "call_id": <id>, "facts": {...}}`: the agent's model requests were given
  new facts (dispatch.models.TurnFacts).
Times are ISO 8601 in UTC. The pages' scripts read them: static/js/staff_calls.js (the list) and staff_call.js.
"""

from __future__ import annotations

import datetime as dt

from ..models import Call, CallMessage, CallQuerySet, ToolCall, TurnFacts
from .live import Topic

# The restaurant's group these events go to: "calls.<restaurant id>".
CALLS = Topic("calls")


def ready_calls() -> CallQuerySet:
    """Calls as `call_event` needs them: restaurant joined (its name, country and zone), `open_questions`
    (unanswered questions not yet resolved) annotated."""
    return Call.objects.select_related("restaurant").with_open_questions()


def _time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def call_event(call: Call) -> dict:
    """What a staff page shows of a call (read through `ready_calls`): ids, restaurant, channel and caller ("Phone,
    +44 7700 900123"), status, end reason, UTC times, duration in seconds, message count and open unanswered
    questions."""
    return {
        "kind": "call",
        "call": {
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
        },
    }


def message_event(message: CallMessage) -> dict:
    """One utterance: who said it (diner or agent), what, and when."""
    return {
        "kind": "message",
        "call_id": message.call_id,
        "message": {
            "id": message.pk, "role": message.role, "text": message.text, "created_at": _time(message.created_at),
        },  # fmt: skip
    }


def tool_call_event(tool_call: ToolCall) -> dict:
    """One tool call: its name, arguments and answer (its error sentence when `is_error`), how long it took."""
    return {
        "kind": "tool_call",
        "call_id": tool_call.call_id,
        "tool_call": {
            "id": tool_call.pk,
            "name": tool_call.name,
            "arguments": tool_call.arguments,
            "output": tool_call.output,
            "is_error": tool_call.is_error,
            "duration_ms": tool_call.duration_ms,
            "created_at": _time(tool_call.created_at),
        },
    }


def facts_event(given: TurnFacts) -> dict:
    """The facts given with the agent's answers from then on: `[[label, sentence], ...]` (TurnFacts.facts, in the
    order the model read them)."""
    return {
        "kind": "facts",
        "call_id": given.call_id,
        "facts": {"id": given.pk, "facts": given.facts, "created_at": _time(given.created_at)},
    }
