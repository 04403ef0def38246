"""The seam every live staff page plugs into (dispatch.staff.live): a page that declares only its topic and its rows
(a Feed) gets the access checks, its restaurants' groups, the snapshot and the relayed events from LiveConsumer.
The calls' page is tested whole in test_staff_calls.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from dispatch.staff.events import CALLS
from dispatch.staff.live import Feed, LiveConsumer, Topic
from tests.conftest import make_restaurant
from tests.test_staff_calls import Login, received, run, socket_db
from tests.test_tenancy import staff_member

BOARD = Topic("board")


@dataclass
class Board(Feed):
    """A page of one row per restaurant; `?closed=1` is refused."""

    restaurants: frozenset[int]

    @classmethod
    def open(cls, restaurants: frozenset[int], query: Mapping[str, list[str]]) -> Board | None:
        return None if "closed" in query else cls(restaurants)

    def snapshot(self) -> list[dict]:
        return [{"kind": "row", "restaurant_id": pk} for pk in sorted(self.restaurants)]

    def changes(self) -> list[dict]:
        return []


application = AuthMiddlewareStack(URLRouter([path("board/", LiveConsumer.as_asgi(topic=BOARD, feed_class=Board))]))


@socket_db
def test_a_page_that_declares_its_topic_and_rows_gets_the_rest(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    alfa, beta = make_restaurant(name="Trattoria Alfa", slug="alfa"), make_restaurant(name="Osteria Beta", slug="beta")
    alfa_staff = Login.of(staff_member("alfa-staff", alfa))

    async def scenario():
        communicator = WebsocketCommunicator(application, "board/", headers=alfa_staff.cookie)
        assert (await communicator.connect())[0]
        snapshot = await received(communicator)
        await sync_to_async(BOARD.publish)(beta.pk, {"kind": "row", "restaurant_id": beta.pk})
        await sync_to_async(CALLS.publish)(alfa.pk, {"kind": "message", "call_id": 1, "message": {"id": 1}})
        await sync_to_async(BOARD.publish)(alfa.pk, {"kind": "row", "restaurant_id": alfa.pk, "new": True})
        relayed = await received(communicator)
        await communicator.disconnect()
        refused = WebsocketCommunicator(application, "board/?closed=1", headers=alfa_staff.cookie)
        anonymous = WebsocketCommunicator(application, "board/")
        return snapshot, relayed, (await refused.connect())[0], (await anonymous.connect())[0]

    snapshot, relayed, refused_connected, anonymous_connected = run(scenario)
    assert snapshot == [{"kind": "row", "restaurant_id": alfa.pk}]
    # Only its own topic's events, and only of the staff member's restaurants.
    assert relayed == [{"kind": "row", "restaurant_id": alfa.pk, "new": True}]
    assert not refused_connected
    assert not anonymous_connected
