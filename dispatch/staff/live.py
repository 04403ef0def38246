"""The sending side of the staff's live view of calls: what just happened in a call, sent to its restaurant's
group on the channel layer (Django Channels). Models and views never touch the channel layer; this module does.

Each restaurant has one group, `group_name(restaurant_id)`; a staff page's connection joins the groups of the
staff member's restaurants (dispatch/staff/consumers.py). A message on the layer is
`{"type": "call.event", "restaurant_id": <id>, "event": <event>}` (the restaurant id lets a consumer check the
event is for one of its user's restaurants), the event built by dispatch/staff/events.py. The worker (through dispatch.services) and the webhook view publish; with
REDIS_URL the events reach every web process on every machine, without it only the publishing process's own
consumers (a staff page then also reads new rows from the database, see dispatch/staff/consumers.py).
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("maitre.dispatch")


def group_name(restaurant_id: int) -> str:
    """The channel-layer group of one restaurant's calls: "calls.<restaurant id>"."""
    return f"calls.{restaurant_id}"


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

