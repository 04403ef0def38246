"""The staff's live view of calls: one websocket per staff page, at /ws/staff/calls/ (dispatch/staff/routing.py).

A connection is a staff member's list of calls, or one call's page with `?call=<id>`. It joins the channel-layer
group of each of the user's restaurants (dispatch.staff.live) and sends the browser JSON events of dispatch.staff.live's
shapes:
- on connect, a snapshot (feed.Feed.snapshot), so that a page that reconnects catches up;
- each event published for those restaurants (on a call page: for that call only), after checking that the
  event's restaurant is one of the user's;
- and, when the channel layer does not cross processes (the embedded InMemoryChannelLayer, which the worker's
  events never reach), what the database holds that is new, every feed.POLL_SECONDS. With channels-redis
  (REDIS_URL) there is no polling.
The browser sends nothing: any frame closes the connection with code 4400.

Refused before the handshake completes (the browser sees the connection fail): anonymous users, users without
staff status, and a `call` that is not a number or not a call of the user's restaurants. The restaurants are read
at connect: a restaurant added (or a staff assignment changed) later counts from the page's next load.
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.db import DatabaseError

from restaurants.models import Restaurant

from ..models import Call
from . import feed, live

logger = logging.getLogger("maitre.dispatch")

CALL_ID = re.compile(r"^[1-9]\d{0,17}$")  # fits a 64-bit key
CLOSE_UNEXPECTED_FRAME = 4400


def crosses_processes(layer) -> bool:
    """Whether events published in another process (the worker) reach this one through `layer`."""
    return not isinstance(layer, InMemoryChannelLayer)


def _followed_call(query_string: bytes) -> int | None | bool:
    """The `call` of a connection's query string: its id, None when there is none, False when it is malformed."""
    values = parse_qs(query_string.decode("latin-1")).get("call")
    if values is None:
        return None
    return int(values[0]) if len(values) == 1 and CALL_ID.match(values[0]) else False


@database_sync_to_async
def _feed_for(user, call_id: int | None) -> feed.Feed | None:
    """A feed of `user`'s restaurants (following `call_id` if given); None when that call is not theirs."""
    restaurants = frozenset(Restaurant.objects.for_staff(user).values_list("pk", flat=True))
    if call_id is not None and not Call.objects.filter(pk=call_id, restaurant__in=restaurants).exists():
        return None
    return feed.Feed(restaurants=restaurants, call_id=call_id)


class StaffCallsConsumer(AsyncJsonWebsocketConsumer):
    feed: feed.Feed | None = None
    poller: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        call_id = _followed_call(self.scope.get("query_string", b""))
        if user is None or not user.is_staff or call_id is False:  # AnonymousUser.is_staff is False
            await self.close()
            return
        self.feed = await _feed_for(user, call_id)
        if self.feed is None:
            await self.close()
            return
        # Joined before the snapshot is read, so that nothing falls between the two. Left on disconnect.
        self.groups = [live.group_name(pk) for pk in sorted(self.feed.restaurants)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        for event in await database_sync_to_async(self.feed.snapshot)():
            await self.send_json(event)
        if not crosses_processes(self.channel_layer):
            self.poller = asyncio.create_task(self._poll())

    async def call_event(self, message: dict) -> None:
        """A `call.event` from the layer (dispatch.staff.live.publish): relayed when it is about one of the user's
        restaurants and, on a call page, about that call."""
        event = message.get("event") or {}
        if event.get("kind") == "call":
            restaurant_id, call_id = event["call"].get("restaurant_id"), event["call"].get("id")
        else:
            restaurant_id, call_id = message.get("restaurant_id"), event.get("call_id")
        if restaurant_id not in self.feed.restaurants or self.feed.call_id not in (None, call_id):
            return
        await self.send_json(event)

    async def _poll(self) -> None:
        """Send what the database holds that is new, every POLL_SECONDS, until the connection closes."""
        while True:
            await asyncio.sleep(feed.POLL_SECONDS)
            try:
                events = await database_sync_to_async(self.feed.changes)()
            except DatabaseError as exc:  # a locked SQLite file, a restarting database: try again next time
                logger.warning("staff live view: could not read calls: %r", exc)
                continue
            for event in events:
                await self.send_json(event)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """The browser has nothing to say on this connection: any frame closes it."""
        await self.close(code=CLOSE_UNEXPECTED_FRAME)

    async def disconnect(self, code) -> None:
        if self.poller is not None:
            self.poller.cancel()


class NoSuchSocket(AsyncJsonWebsocketConsumer):
    """Any other websocket path: refused (rather than the router's ValueError and a traceback in the log)."""

    async def connect(self) -> None:
        await self.close()
