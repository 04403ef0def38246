"""The day view's websocket route, listed in config/routing.py (settings.WEBSOCKET_URLCONF): a LiveConsumer for the
reservations' topic and the day view's feed (dispatch.staff.live), which reads the page's `?date=` (and
`?restaurant=`) from the query string."""

from django.urls import path

from dispatch.staff.live import LiveConsumer

from .events import RESERVATIONS
from .feed import DayFeed

websocket_urlpatterns = [
    path("ws/staff/reservations/", LiveConsumer.as_asgi(topic=RESERVATIONS, feed_class=DayFeed)),
]
