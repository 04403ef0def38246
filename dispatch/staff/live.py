"""What every live staff page shares (how a page plugs in: this package's docstring): a topic's channel-layer group
per restaurant and publishing an event to it; the Feed a page implements (its rows as events, read from the
database); and LiveConsumer, the thin websocket consumer that serves any page from its topic and its feed.

The sending side: a writer (ORM code: dispatch.services, which the worker and LiveKit's webhooks call) publishes
an event, `topic.publish(restaurant_id, event)`. Models and views never touch the channel layer; this module does.
A message on the layer is `{"type": "live.event", "restaurant_id": <id>, "event": <event>}`; the event is JSON
with a "kind", built by the page's own builder for that kind (dispatch/staff/events.py for the calls). With
REDIS_URL the events reach every web process on every machine; without it (the embedded in-memory layer) only
the publishing process's own consumers, and the worker publishes from its own process.

The receiving side: one websocket per open page. LiveConsumer
- refuses, before the handshake completes (the browser sees the connection fail), anonymous users, users without
  staff status, and a connection the page's feed refuses (`Feed.open` answers None: a malformed query, or
  something that is not of the user's restaurants). The restaurants (Restaurant.objects.for_staff) are read at
  connect: a restaurant added (or a staff assignment changed) later counts from the page's next load;
- joins the topic's group of each of those restaurants, then sends the feed's snapshot (`Feed.snapshot`), so
  that a page that reconnects catches up and nothing falls between the two;
- relays each event published for those restaurants that the feed wants (`Feed.wants`);
- and, when the channel layer does not cross processes, sends what the database holds that is new
  (`Feed.changes`) every POLL_SECONDS. With channels-redis there is no polling.
The browser sends nothing: any frame closes the connection with code 4400.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError

from restaurants.models import Restaurant

logger = logging.getLogger("maitre.dispatch")

# How often a connection reads the database when the channel layer does not cross processes.
POLL_SECONDS = 0.5
CLOSE_UNEXPECTED_FRAME = 4400


@dataclass(frozen=True)
class Topic:
    """What one kind of live page follows (the calls; later the orders, the bookings): each restaurant has a
    group, "<name>.<restaurant id>", that the topic's writers publish to and its pages' connections join."""

    name: str

    def group(self, restaurant_id: int) -> str:
        return f"{self.name}.{restaurant_id}"

    def publish(self, restaurant_id: int, event: dict) -> None:
        """Send `event` to the restaurant's group. Synchronous (call it from ORM code, not from the event loop's
        thread). A channel layer that cannot be reached loses the event (one warning line): the rows are in the
        database, and a staff page shows them when it loads."""
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            message = {"type": "live.event", "restaurant_id": restaurant_id, "event": event}
            async_to_sync(layer.group_send)(self.group(restaurant_id), message)
        except Exception as exc:  # noqa: BLE001  (any layer's transport failing: Redis down, a full channel)
            logger.warning("live %s event for restaurant %s not sent: %r", self.name, restaurant_id, exc)


class Feed(ABC):
    """One connection's view of a page, read from the database: which restaurants it shows, and what it has sent
    (so that `changes` gives only what is new). Its methods are synchronous ORM code (LiveConsumer runs them
    through database_sync_to_async), and give events built by the page's builders, the ones its writers publish.
    """

    restaurants: frozenset[int]

    @classmethod
    @abstractmethod
    def open(cls, restaurants: frozenset[int], query: Mapping[str, list[str]]) -> Feed | None:
        """The feed of a connection by a staff member of `restaurants` (ids: every restaurant for a superuser),
        with the page's query string parsed (`?call=7`: {"call": ["7"]}); None refuses the connection."""

    @abstractmethod
    def snapshot(self) -> list[dict]:
        """The events a connection starts with: what the page shows, as it is now."""

    @abstractmethod
    def changes(self) -> list[dict]:
        """The events for what the database holds and this connection was not sent (polled)."""

    def wants(self, event: dict) -> bool:
        """Whether this page shows `event`, published for one of its restaurants (LiveConsumer checked that)."""
        return True


def crosses_processes(layer) -> bool:
    """Whether events published in another process (the worker) reach this one through `layer`."""
    return not isinstance(layer, InMemoryChannelLayer)


@database_sync_to_async
def _open_feed(feed_class: type[Feed], user, query: Mapping[str, list[str]]) -> Feed | None:
    restaurants = frozenset(Restaurant.objects.for_staff(user).values_list("pk", flat=True))
    return feed_class.open(restaurants, query)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A live staff page's connection, for `topic`'s events and the rows of a `feed_class` feed (see the module's
    docstring): `LiveConsumer.as_asgi(topic=..., feed_class=...)` in dispatch/staff/routing.py."""

    feed: Feed | None = None
    poller: asyncio.Task | None = None

    def __init__(self, *, topic: Topic, feed_class: type[Feed]) -> None:
        super().__init__()
        self.topic, self.feed_class = topic, feed_class

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_staff:  # AnonymousUser.is_staff is False
            await self.close()
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.feed = await _open_feed(self.feed_class, user, query)
        if self.feed is None:
            await self.close()
            return
        # Joined before the snapshot is read, so that nothing falls between the two. Left on disconnect.
        self.groups = [self.topic.group(pk) for pk in sorted(self.feed.restaurants)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        for event in await database_sync_to_async(self.feed.snapshot)():
            await self.send_json(event)
        if not crosses_processes(self.channel_layer):
            self.poller = asyncio.create_task(self._poll())

    async def live_event(self, message: dict) -> None:
        """A `live.event` from the layer (Topic.publish): relayed when it is about one of the user's restaurants
        and the feed wants it."""
        event = message.get("event") or {}
        if message.get("restaurant_id") in self.feed.restaurants and self.feed.wants(event):
            await self.send_json(event)

    async def _poll(self) -> None:
        """Send what the database holds that is new, every POLL_SECONDS, until the connection closes."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                events = await database_sync_to_async(self.feed.changes)()
            except DatabaseError as exc:  # a locked SQLite file, a restarting database: try again next time
                logger.warning("staff's live %s: could not read the database: %r", self.topic.name, exc)
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
