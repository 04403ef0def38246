"""The kitchen board's websocket route, listed in config/routing.py (settings.WEBSOCKET_URLCONF): a LiveConsumer for
the orders' topic and the board's feed (dispatch.staff.live)."""

from django.urls import path

from dispatch.staff.live import LiveConsumer

from .events import ORDERS
from .feed import OrdersFeed

websocket_urlpatterns = [
    path("ws/staff/orders/", LiveConsumer.as_asgi(topic=ORDERS, feed_class=OrdersFeed)),
]
