"""The calls' websocket routes, listed in config/routing.py (settings.WEBSOCKET_URLCONF): the staff's live view of
calls, a LiveConsumer for the calls' topic and feed (dispatch.staff.live)."""

from django.urls import path

from .events import CALLS
from .feed import CallsFeed
from .live import LiveConsumer

websocket_urlpatterns = [
    # The list of calls, and one call's page with ?call=<id>.
    path("ws/staff/calls/", LiveConsumer.as_asgi(topic=CALLS, feed_class=CallsFeed)),
]
